"""The console model, without Qt: its stores, the post-login loads and its events."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from desktop.console_model import (
    ConsoleModel,
    Emitter,
    LoadFailure,
    Registry,
    may_act,
    may_enter_alarms,
)
from realtime.event_kinds import EventKind
from realtime.protocol import (
    AgenciesResult,
    AgencyView,
    CamerasResult,
    CameraView,
    Command,
    DevicesResult,
    DeviceView,
    Event,
    GrantView,
    Limits,
    ListAgencies,
    ListCameras,
    ListDevices,
    ListSensors,
    PositionView,
    ReadingView,
    ResultData,
    Role,
    SensorsResult,
    SensorView,
    Telemetry,
    UnitView,
    UserInfo,
    Welcome,
)
from tests.desktop.factories import T0, make_alarm

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
QT_PACKAGES = frozenset({"PySide6", "shiboken6", "pyqtgraph", "qasync"})


def plain_modules() -> list[str]:
    """The modules the import-linter contract keeps free of Qt (pyproject.toml)."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    plain = next(item for item in contracts if item["name"].startswith("the console model"))
    modules: list[str] = plain["source_modules"]
    return modules


USER = UserInfo(username="officer1", display_name="值班员一", role=Role.OFFICER)
WELCOME = Welcome(
    protocol=1,
    server_version="test",
    session_token="token",
    user=USER,
    head_seq=0,
    limits=Limits(max_message_bytes=1 << 20, rate_per_second=10.0, rate_burst=20),
)
SENSORS = [
    SensorView(
        sensor_id="ch4-0001",
        kind="ch4",
        unit="%LEL",
        lat=30.30,
        lon=120.10,
        hazard_source="储罐区",
        enterprise="化工厂",
    ),
    SensorView(sensor_id="t-0001", kind="temperature", unit="°C"),
]
CAMERA = CameraView(id=1, code="CAM-1", name="东门", lat=30.3, lon=120.1)
TRUCK = DeviceView(id=3, kind="jt808", identity="13900000001", name="1号车", plate="苏A·D8821")


@dataclass
class Pending:
    """A query the fake gateway has not answered yet."""

    command: Command
    on_result: Callable[[ResultData], None]
    on_error: Callable[[str, str], None]


@dataclass
class FakeGateway:
    """Records what the model asks; the test answers."""

    queries: list[Pending] = field(default_factory=list)
    unit_requests: int = 0

    def query(
        self,
        command: Command,
        on_result: Callable[[ResultData], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        self.queries.append(Pending(command, on_result, on_error))

    def list_units(self) -> None:
        self.unit_requests += 1

    def pending(self, kind: type) -> Pending:
        return next(item for item in self.queries if isinstance(item.command, kind))


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def model(gateway: FakeGateway) -> ConsoleModel:
    return ConsoleModel(gateway, clock=lambda: T0)


def test_the_model_and_its_stores_import_no_qt() -> None:
    modules = plain_modules()
    assert "desktop.console_model" in modules
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    __import__(name)\n"
        f"qt = {set(QT_PACKAGES)!r}\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in qt)))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert found == "", f"Qt imported by the plain modules: {found}"


def test_welcome_reads_every_registry_and_is_told(
    model: ConsoleModel, gateway: FakeGateway
) -> None:
    welcomed: list[UserInfo] = []
    model.welcomed.connect(welcomed.append)
    model.on_welcome(WELCOME)
    assert [type(item.command) for item in gateway.queries] == [
        ListAgencies,
        ListSensors,
        ListCameras,
        ListDevices,
    ]
    assert gateway.unit_requests == 1
    assert model.user == USER
    assert welcomed == [USER]


def test_sensors_fill_the_registry_and_hazard_sources_once(
    model: ConsoleModel, gateway: FakeGateway
) -> None:
    changes: list[list[SensorView]] = []
    model.sensors_changed.connect(changes.append)
    model.load_sensors()
    gateway.pending(ListSensors).on_result(SensorsResult(sensors=SENSORS))
    assert set(model.sensors) == {"ch4-0001", "t-0001"}
    assert list(model.hazard_sources) == ["储罐区"]
    assert changes == [SENSORS]
    # The same registry again (the trends panel's reload) tells nobody.
    assert not model.set_sensors(list(SENSORS))
    assert len(changes) == 1
    assert model.set_sensors(SENSORS[1:])
    assert model.hazard_sources == {}
    assert len(changes) == 2


def test_cameras_and_units_are_held_and_announced(
    model: ConsoleModel, gateway: FakeGateway
) -> None:
    cameras: list[list[CameraView]] = []
    units: list[list[UnitView]] = []
    model.cameras_changed.connect(cameras.append)
    model.units_changed.connect(units.append)
    model.load_cameras()
    gateway.pending(ListCameras).on_result(CamerasResult(cameras=[CAMERA]))
    team = UnitView(id=1, code="FIRE-01", name="一中队", agency="fire", lat=30.2, lon=120.2)
    model.set_units([team])
    assert model.cameras == {"CAM-1": CAMERA}
    assert cameras == [[CAMERA]]
    assert model.units == [team]
    assert units == [[team]]


def test_devices_fill_the_roster_and_label_the_map(
    model: ConsoleModel, gateway: FakeGateway
) -> None:
    model.load_devices()
    gateway.pending(ListDevices).on_result(DevicesResult(devices=[TRUCK]))
    assert list(model.roster.devices) == ["13900000001"]
    assert model.vehicles.label("13900000001") == "苏A·D8821"
    removed = Event(seq=1, at=T0, kind=EventKind.DEVICE_REMOVED, actor="registry", device=TRUCK)
    model.apply_event(removed)
    assert dict(model.roster.devices) == {}


@pytest.mark.parametrize(
    ("registry", "command"),
    [
        (Registry.SENSORS, ListSensors),
        (Registry.CAMERAS, ListCameras),
        (Registry.DEVICES, ListDevices),
    ],
)
def test_a_failed_load_says_which_registry(
    model: ConsoleModel, gateway: FakeGateway, registry: Registry, command: type
) -> None:
    failures: list[LoadFailure] = []
    model.load_failed.connect(failures.append)
    model.load_after_login()
    gateway.pending(command).on_error("forbidden", "not for this role")
    assert failures == [LoadFailure(registry, "forbidden", "not for this role")]


def test_answers_after_close_are_dropped(model: ConsoleModel, gateway: FakeGateway) -> None:
    told: list[object] = []
    model.sensors_changed.connect(told.append)
    model.load_failed.connect(told.append)
    model.load_after_login()
    model.close()
    gateway.pending(ListSensors).on_result(SensorsResult(sensors=SENSORS))
    gateway.pending(ListCameras).on_error("internal", "boom")
    gateway.pending(ListDevices).on_result(DevicesResult(devices=[TRUCK]))
    assert told == []
    assert model.sensors == {}
    assert dict(model.roster.devices) == {}
    assert model.closed
    model.on_welcome(WELCOME)
    assert model.user is None


def test_telemetry_keeps_the_newest_positions_and_readings(model: ConsoleModel) -> None:
    position = PositionView(device="13900000001", at=T0, lat=30.3, lon=120.1, speed_kmh=40.0)
    reading = ReadingView(device="plc-1", sensor="ch4-0001", at=T0, value=12.5, unit="%LEL")
    model.apply_telemetry(Telemetry(positions=[position], readings=[reading]))
    record = model.vehicles.get("13900000001")
    assert record is not None
    assert record.position == position
    assert model.latest_readings.get("ch4-0001") == reading
    assert model.roster.position("13900000001") == position


def test_an_emitter_calls_in_order_and_disconnects() -> None:
    emitter = Emitter[int]()
    calls: list[tuple[str, int]] = []
    emitter.connect(lambda value: calls.append(("first", value)))
    disconnect = emitter.connect(lambda value: calls.append(("second", value)))
    emitter.emit(1)
    disconnect()
    disconnect()
    emitter.emit(2)
    assert calls == [("first", 1), ("second", 1), ("first", 2)]
    emitter.disconnect_all()
    emitter.emit(3)
    assert len(calls) == 3


def test_agencies_are_read_for_their_names(model: ConsoleModel, gateway: FakeGateway) -> None:
    announced: list[list[AgencyView]] = []
    model.agencies_changed.connect(announced.append)
    model.load_agencies()
    fire = AgencyView(code="fire", name_zh="消防救援", name_en="Fire and rescue")
    gateway.pending(ListAgencies).on_result(AgenciesResult(agencies=[fire]))
    assert model.agencies == {"fire": fire}
    assert announced == [[fire]]


def test_a_camera_share_reloads_the_cameras_and_an_unshare_drops_the_alarm(
    model: ConsoleModel, gateway: FakeGateway
) -> None:
    model.user = UserInfo(username="fire-desk", display_name="", role=Role.AGENCY, agency="fire")
    grant = GrantView(id=1, kind="camera", alarm_id=7, agency="fire", camera="CAM-1", by="o", at=T0)
    model.apply_event(Event(seq=1, at=T0, kind=EventKind.CAMERA_SHARED, actor="o", grant=grant))
    assert [type(item.command) for item in gateway.queries] == [ListCameras]
    shared = make_alarm(7, shared_with=["fire"])
    model.alarms.upsert(shared)
    unshared = msgspec.structs.replace(shared, version=shared.version + 1, shared_with=[])
    model.alarms.upsert(unshared)
    model.apply_event(
        Event(seq=2, at=T0, kind=EventKind.ALARM_UNSHARED, actor="o", alarm=unshared, grant=grant)
    )
    assert model.alarms.get(7) is None, "out of the desk's scope now"
    # An officer keeps it; a desk still dispatched to keeps it too.
    model.alarms.upsert(unshared)
    model.user = USER
    model.apply_event(
        Event(seq=3, at=T0, kind=EventKind.ALARM_UNSHARED, actor="o", alarm=unshared, grant=grant)
    )
    assert model.alarms.get(7) is not None
    assert not model.alarms.remove(99)


def test_read_only_roles_act_on_nothing() -> None:
    def user(role: Role) -> UserInfo:
        return UserInfo(username="u", display_name="", role=role)

    assert not may_act(None)
    assert not may_enter_alarms(None)
    for role in (Role.VIEWER, Role.TRAINER):
        assert not may_act(user(role))
        assert not may_enter_alarms(user(role))
    assert may_act(user(Role.AGENCY))
    assert not may_enter_alarms(user(Role.AGENCY))
    for role in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN):
        assert may_act(user(role))
        assert may_enter_alarms(user(role))
