"""Migration r0010: agencies seeded (every agency code the sample registry names among
them), grants table in place, and the role ``agency_dispatcher`` renamed ``agency``."""

from __future__ import annotations

from sqlalchemy import text

from backend.registry.agencies import AgencyRegistry
from backend.registry.files import load_cameras_csv, load_units_csv
from backend.registry.users import UserService
from backend.storage import db
from realtime.protocol import Role


async def test_r0010_seeds_agencies_and_renames_the_agency_role(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, "r0008")
        async with engine.begin() as connection:
            # An agency desk as older versions stored it.
            await connection.execute(
                text(
                    "INSERT INTO users (username, display_name, role, agency, jurisdiction,"
                    " password_hash, active, created_at) VALUES ('fire-desk', 'fire-desk',"
                    " 'agency_dispatcher', 'fire', '', 'x', true, '2026-12-01 00:00:00+00:00')"
                )
            )
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        users = await UserService(sessions).list_users()
        assert [(u.username, u.role) for u in users] == [("fire-desk", Role.AGENCY)]
        codes = {agency.code for agency in await AgencyRegistry(sessions).list()}
        assert {"emergency", "fire", "police", "health", "environment", "transport"} <= codes
        assert {"housing", "weather"} <= codes
        named = {unit.agency for unit in load_units_csv()} | {
            camera.agency for camera in load_cameras_csv()
        }
        assert named - {""} <= codes, "every agency the sample registry names is valid"
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM grants"))).scalar() == 0
    finally:
        await engine.dispose()
