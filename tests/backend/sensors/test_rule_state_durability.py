"""Issue 13.1: a sensor rule's state changes only with the durable write.

A commit that fails at a threshold crossing must not make the engine believe the reading
was stored or the alarm raised: the device's resend is stored and judged again, and the
alarm is raised.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from backend.registry.files import load_sensors_csv
from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm, ReadingRecord
from realtime.client import basic_auth_header
from realtime.states import AlarmLevel
from tests.backend.conftest import device_url
from tests.backend.storage_faults import fail_inserts, fail_telemetry


async def _send(ws: ClientConnection, ref: str, value: float, at: dt.datetime) -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "type": "device.reading",
                "ref": ref,
                "sensor": "ch4-0001",
                "value": value,
                "unit": "%",
                "at": at.isoformat(),
            }
        )
    )
    answer = json.loads(await ws.recv())
    assert isinstance(answer, dict)
    return answer


@pytest.mark.logs_errors
@pytest.mark.parametrize("failing", ["alarm", "telemetry"])
async def test_methane_crossing_with_one_failed_commit_still_ends_red(
    server: DutyDeskServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    ch4 = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    await server.sensors.add_sensors([ch4])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    first, second = start, start + dt.timedelta(seconds=5)
    async with connect(
        device_url(server),
        additional_headers={"Authorization": basic_auth_header("device1", "pw-device1")},
    ) as ws:
        if failing == "alarm":
            with fail_inserts(server.engine, "alarms") as injected:
                refused = await _send(ws, "r1", 1.6, first)
        else:
            injected = fail_telemetry(server, monkeypatch)
            refused = await _send(ws, "r1", 1.6, first)
        assert injected.injected == 1
        assert refused["type"] == "error", "a reading that is not stored is not acknowledged"
        resent = await _send(ws, "r1", 1.6, first)  # the device sends it again
        assert resent["type"] == "ack", resent
        later = await _send(ws, "r2", 1.7, second)
        assert later["type"] == "ack", later

    async with server.sessions() as session:
        alarms = (await session.scalars(select(Alarm))).all()
        stored = (
            await session.scalars(
                select(ReadingRecord.value)
                .where(ReadingRecord.sensor == "ch4-0001")
                .order_by(ReadingRecord.at)
            )
        ).all()
    assert [a.level for a in alarms] == [AlarmLevel.RED], "1.5 % at a mining face: red"
    assert 1.6 in stored, "the resent reading is stored, not taken for a duplicate"
    assert 1.7 in stored
    assert any(r.levelname == "ERROR" for r in caplog.records), "the failure was reported"
