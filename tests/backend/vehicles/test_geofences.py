"""Geofences edited from a console: storage, versions, validation, events, enforcement."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from backend.eventlog import log as eventlog
from backend.server.app import DutyDeskServer
from backend.vehicles.geofences import rules_with_geofences
from backend.vehicles.rules import NoGoZoneRule, OverspeedRule, RouteCorridorRule, RulesConfig
from devices.observations import Position
from realtime.client import CommandError
from realtime.protocol import (
    CircleShape,
    DeleteGeofence,
    ErrorCode,
    GeofenceResult,
    GeofencesResult,
    GeofenceView,
    ListGeofences,
    PolygonShape,
    PolylineShape,
    SaveGeofence,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import open_console

SQUARE = [[32.0, 118.8], [32.0, 118.82], [32.02, 118.82], [32.02, 118.8]]


def _save(**fields: object) -> SaveGeofence:
    values: dict[str, object] = {
        "req": "",
        "name": "化工园区禁行区",
        "kind": "no_go_zone",
        "shape": PolygonShape(outer=SQUARE),
        "level": AlarmLevel.ORANGE,
    }
    values.update(fields)
    return SaveGeofence(**values)  # type: ignore[arg-type]


async def test_save_list_update_delete_with_events(server: DutyDeskServer) -> None:
    console = await open_console(server)
    supervisor = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        created = await console.client.request(_save())
        assert isinstance(created, GeofenceResult)
        fence = created.geofence
        assert (fence.version, fence.created_by, fence.kind) == (1, "officer1", "no_go_zone")
        assert isinstance(fence.shape, PolygonShape)
        assert fence.shape.outer == SQUARE

        listed = await console.client.request(ListGeofences(req=""))
        assert isinstance(listed, GeofencesResult)
        assert [g.id for g in listed.geofences] == [fence.id]

        updated = await console.client.request(
            _save(
                id=fence.id,
                expected_version=1,
                name="园区限速",
                kind="speed_zone",
                limit_kmh=40.0,
                shape=CircleShape(lat=32.01, lon=118.81, radius_m=800.0),
                vehicles=["13912345678"],
            )
        )
        assert isinstance(updated, GeofenceResult)
        assert updated.geofence.version == 2
        assert updated.geofence.limit_kmh == 40.0
        assert updated.geofence.created_by == "officer1"

        with pytest.raises(CommandError) as stale:
            await console.client.request(_save(id=fence.id, expected_version=1))
        assert stale.value.code is ErrorCode.STALE_VERSION

        with pytest.raises(CommandError) as forbidden:
            await console.client.request(DeleteGeofence(req="", id=fence.id, expected_version=2))
        assert forbidden.value.code is ErrorCode.FORBIDDEN

        deleted = await supervisor.client.request(
            DeleteGeofence(req="", id=fence.id, expected_version=2)
        )
        assert isinstance(deleted, GeofenceResult)
        assert deleted.deleted
        assert await server.geofences.list() == []

        await console.recorder.wait_for(
            lambda: sum(e.kind.startswith("geofence.") for e in console.recorder.events) >= 3
        )
        kinds = [e.kind for e in console.recorder.events if e.kind.startswith("geofence.")]
        assert kinds == ["geofence.saved", "geofence.saved", "geofence.deleted"]
        last = console.recorder.events[-1]
        assert last.geofence is not None
        assert last.geofence.id == fence.id
        async with server.sessions() as session:
            assert (await eventlog.verify(session)).ok
    finally:
        await console.close()
        await supervisor.close()


INVALID: list[tuple[dict[str, object], str]] = [
    ({"name": "  "}, "needs a name"),
    ({"shape": PolygonShape(outer=SQUARE[:2])}, "at least 3 different points"),
    ({"shape": PolygonShape(outer=[[95.0, 118.0], *SQUARE[1:]])}, "latitude 95.0"),
    ({"shape": CircleShape(lat=32.0, lon=118.8, radius_m=0.0)}, "radius must be more"),
    ({"kind": "speed_zone"}, "needs a speed limit"),
    ({"shape": PolylineShape(points=SQUARE, width_m=50.0)}, "circle or a polygon"),
    ({"kind": "route_corridor"}, "drawn as a route"),
    (
        {"kind": "route_corridor", "shape": PolylineShape(points=SQUARE, width_m=0.0)},
        "width",
    ),
    ({"dwell_s": -1.0}, "dwell time"),
    ({"id": 1}, "expected_version"),
]


async def test_invalid_geofences_are_refused(server: DutyDeskServer) -> None:
    console = await open_console(server)
    try:
        for fields, message in INVALID:
            with pytest.raises(CommandError) as refused:
                await console.client.request(_save(**fields))
            assert refused.value.code is ErrorCode.VALIDATION, fields
            assert message in refused.value.message
        assert await server.geofences.list() == []
    finally:
        await console.close()


async def test_no_go_zone_saved_from_console_raises_alarm_through_ingest(
    server: DutyDeskServer,
) -> None:
    await server.registry.add("jt808", "13912345678", "液氨槽车", plate="苏A·D8821")
    console = await open_console(server)
    try:
        saved = await console.client.request(_save(level=AlarmLevel.RED))
        assert isinstance(saved, GeofenceResult)
        rule_id = f"gf-{saved.geofence.id}"
        assert [r.rule_id for r in server.vehicle_engines["jt808"].config.rules] == [rule_id]
        now = dt.datetime.now(dt.UTC)
        ingest = server.ingests["jt808"]
        for n, lon in enumerate((118.79, 118.81)):  # outside, then inside
            await ingest.submit(
                Position(
                    device="13912345678",
                    at=now - dt.timedelta(seconds=10 - 5 * n),
                    lat=32.01,
                    lon=lon,
                    speed_kmh=30.0,
                )
            )
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        raised = [e for e in console.recorder.events if e.kind == "alarm.raised"]
        assert len(raised) == 1
        alarm = raised[0].alarm
        assert alarm is not None
        assert alarm.alarm_type == "vehicle_no_go_zone"
        assert alarm.level is AlarmLevel.RED
        assert "化工园区禁行区" in alarm.title
        assert "苏A·D8821" in alarm.title
        # At start the stored geofences are put in force again.
        for engine in server.vehicle_engines.values():
            engine.replace_config(RulesConfig())
        await server.apply_geofences()
        assert all(len(e.config.rules) == 1 for e in server.vehicle_engines.values())
    finally:
        await console.close()


def _view(**fields: object) -> GeofenceView:
    now = dt.datetime.now(dt.UTC)
    values: dict[str, object] = {
        "id": 7,
        "version": 1,
        "name": "G2 corridor",
        "kind": "route_corridor",
        "shape": PolylineShape(points=SQUARE[:2], width_m=200.0),
        "limit_kmh": 60.0,
        "level": AlarmLevel.YELLOW,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return GeofenceView(**values)  # type: ignore[arg-type]


@pytest.mark.logs_errors
def test_rules_join_the_file_rules_and_skip_bad_or_clashing_geofences(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = RulesConfig.from_dict({"rules": [{"type": "overspeed", "id": "gf-8", "limit_kmh": 100}]})
    views = [
        _view(),
        _view(id=8, kind="no_go_zone", shape=PolygonShape(outer=SQUARE)),
        _view(id=9, kind="no_go_zone", shape=PolygonShape(outer=SQUARE), enabled=False),
        _view(id=10, kind="no_go_zone", shape=PolygonShape(outer=SQUARE[:2])),
    ]
    with caplog.at_level(logging.ERROR, logger="backend.vehicles.geofences"):
        config = rules_with_geofences(base, views)
    ids = [rule.rule_id for rule in config.rules]
    assert ids == ["gf-8", "gf-7", "gf-7-speed"]
    corridor, speed = config.rules[1], config.rules[2]
    assert isinstance(corridor, RouteCorridorRule)
    assert corridor.max_distance_m == 100.0
    assert isinstance(speed, OverspeedRule)
    assert speed.sections[0].limit_kmh == 60.0
    assert not any(isinstance(rule, NoGoZoneRule) for rule in config.rules)
    assert "geofence 8 is not enforced" in caplog.text
    assert "geofence 10 is not enforced" in caplog.text
