"""When a task was accepted, reached the scene and was finished (r0016): set as the task
moves, and filled from the event log for tasks written before the columns existed (a
downgrade to r0015, before it, and the upgrade again)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from backend.storage import db
from backend.storage.models import TaskRecord
from realtime.incident_states import AssigneeKind, Deadline, TaskAction
from tests.backend.incidents.conftest import FIRE_DESK, OFFICER, Env
from tests.backend.incidents.test_schema import _differences


async def _times(env: Env) -> list[tuple[dt.datetime | None, ...]]:
    async with env.sessions() as session:
        rows = await session.execute(
            sa.select(
                TaskRecord.accepted_at, TaskRecord.arrived_at, TaskRecord.finished_at
            ).order_by(TaskRecord.id)
        )
        return [tuple(row) for row in rows]


def _down_and_up(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.downgrade(config, "r0015")
    command.upgrade(config, "head")


async def test_the_steps_are_timed_and_recovered_from_the_event_log(env: Env) -> None:
    alarm = await env.alarm()
    incident = await env.service.open_incident(OFFICER, alarm_id=alarm.id)
    sent = env.clock.now
    done = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire"
    )
    left = await env.service.send_task(
        OFFICER, incident.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="police"
    )
    steps = [(TaskAction.ACCEPT, 2), (TaskAction.SET_OUT, 1), (TaskAction.ARRIVE, 9)]
    for action, minutes in [*steps, (TaskAction.FINISH, 40)]:
        env.clock.advance(minutes)
        done = await env.service.act_on_task(
            FIRE_DESK,
            done.id,
            action,
            done.version,
            "已处置" if action is TaskAction.FINISH else "",
        )
    # The deadline moved: a task.changed event that is no step.
    later = env.clock.now + dt.timedelta(hours=12)
    await env.service.set_deadlines(
        OFFICER, left.id, left.version, {Deadline.FINISH: later}, "延期"
    )
    minute = dt.timedelta(minutes=1)
    expected = [(sent + 2 * minute, sent + 12 * minute, sent + 52 * minute), (None, None, None)]
    assert await _times(env) == expected

    async with env.engine.begin() as connection:
        await connection.run_sync(_down_and_up)
    assert await _times(env) == expected
    # The round trip leaves the schema the models describe (indexes included).
    async with env.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
