"""Migration r0015 adds the grid report, handover and roster tables to a database that
already holds incidents (SQLite and PostgreSQL): existing incidents are not direct
reports, and the new tables are empty and usable."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from backend.storage import db
from backend.storage.models import IncidentRecord

_OLD_INCIDENT = text(
    "INSERT INTO incidents (version, type_code, type_name, level, state, title, description,"
    " place, jurisdiction, commander, reported_by, opened_at, feedback, last_note,"
    " created_by, updated_at, updated_by) VALUES (1, 'hazchem_leak', '危险化学品泄漏', 'II',"
    " 'open', 't', '', '', '330106', 'officer1', 'officer1', '2026-11-29T03:00:00Z', '', '',"
    " 'officer1', '2026-11-29T03:00:00Z', 'officer1')"
)


async def test_r0015_keeps_existing_incidents_and_adds_the_tables(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, "r0013")
        async with engine.begin() as connection:
            await connection.execute(_OLD_INCIDENT)
        await db.migrate(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        async with db.session_factory(engine)() as session:
            (incident,) = (await session.scalars(select(IncidentRecord))).all()
    finally:
        await engine.dispose()
    assert {"grid_reports", "handovers", "duty_roster"} <= tables
    assert incident.direct_report is False
