"""Per-terminal state follows a terminal to another process (backend.ingest.terminal_state):
two ingests with their own rules engines, as two gateway workers have, on one database.
An overspeed reported by the first is not reported again by the second when the vehicle
reconnects there still speeding; a stored state that cannot be read never locks the
terminal out (its rules start afresh)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from backend.ingest.service import IngestService
from backend.ingest.terminal_state import TerminalStates, decode_rules, encode_rules
from backend.server.app import DutyDeskServer
from backend.storage.models import Alarm
from backend.vehicles.rules import RulesConfig, VehicleRulesEngine
from backend.vehicles.rules.state import ConditionState, VehicleState
from devices.observations import Position
from tests.backend.conftest import ingest_for

DEVICE = "13912345678"
OVERSPEED = RulesConfig.from_dict(
    {
        "rules": [
            {
                "type": "overspeed",
                "id": "speed",
                "level": "orange",
                "limit_kmh": 80,
                "min_duration_s": 5,
                "clear_margin_kmh": 5,
                "clear_duration_s": 10,
            }
        ]
    }
)


def _worker(server: DutyDeskServer) -> IngestService:
    """An ingest as another worker process has it: its own engine and remembered state."""
    return ingest_for(
        server,
        vehicle_rules=VehicleRulesEngine(OVERSPEED),
        terminal_states=TerminalStates(server.sessions, "jt808"),
    )


def _speeding(start: dt.datetime, first: int, count: int) -> list[Position]:
    return [
        Position(
            device=DEVICE,
            at=start + dt.timedelta(seconds=10 * n),
            lat=32.0,
            lon=118.8 + n / 1000,
            speed_kmh=95,
            alarms=frozenset({"overspeed"}),
        )
        for n in range(first, first + count)
    ]


async def _alarms(server: DutyDeskServer) -> list[tuple[str, int]]:
    async with server.sessions() as session:
        rows = await session.execute(select(Alarm.alarm_type, Alarm.count))
        return [(str(kind), int(count)) for kind, count in rows]


async def test_a_rule_alarm_is_not_raised_again_after_a_reconnect_to_another_worker(
    server: DutyDeskServer,
) -> None:
    await server.registry.add("jt808", DEVICE, "液氨槽车", plate="苏A·D8821")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    first, second = _worker(server), _worker(server)
    assert await first.restore_terminal(DEVICE) == frozenset()
    await first.submit_many(_speeding(start, 0, 3))
    assert await _alarms(server) == [("vehicle_overspeed", 1)]

    # The connection breaks; the terminal authenticates on the other worker, still speeding.
    assert await second.restore_terminal(DEVICE) == frozenset({"overspeed"})
    await second.submit_many(_speeding(start, 3, 3))
    assert await _alarms(server) == [("vehicle_overspeed", 1)]

    # Without the stored state a fresh worker would have raised it again (a repeat).
    fresh = ingest_for(server, vehicle_rules=VehicleRulesEngine(OVERSPEED))
    await fresh.submit_many(_speeding(start, 6, 3))
    assert await _alarms(server) == [("vehicle_overspeed", 2)]


@pytest.mark.parametrize("stored", ["{not json", '{"speed": ["no_such_kind", {}]}'])
async def test_an_unreadable_stored_state_does_not_lock_the_terminal_out(
    server: DutyDeskServer, stored: str, caplog: pytest.LogCaptureFixture
) -> None:
    await server.registry.add("jt808", DEVICE, "液氨槽车", plate="苏A·D8821")
    worker = _worker(server)
    async with server.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO terminal_states (kind, device, alarms, rules, updated_at) "
                "VALUES ('jt808', :device, 'overspeed', :rules, :at)"
            ),
            {"device": DEVICE, "rules": stored, "at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
        )
    assert await worker.restore_terminal(DEVICE) == frozenset({"overspeed"})
    assert "rules start afresh" in caplog.text
    await worker.submit_many(_speeding(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), 0, 3))
    assert await _alarms(server) == [("vehicle_overspeed", 1)]


def test_rule_state_survives_its_encoding() -> None:
    state = VehicleState(vehicle=DEVICE)
    state.rules["speed"] = ConditionState(
        active=True, started_at=dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC), peak=97.5
    )
    assert decode_rules(DEVICE, encode_rules(state)).rules == state.rules
    assert encode_rules(VehicleState(vehicle=DEVICE)) == ""
