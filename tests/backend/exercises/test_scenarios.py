"""The scenario compiler: shipped scenarios compile to real wire data, deterministically,
and a broken description is refused with an error that says where."""

from __future__ import annotations

import datetime as dt
import shutil
import struct
from pathlib import Path

import pytest

from backend.exercises.library import SHIPPED_SCENARIOS
from backend.exercises.recording import (
    FeedInput,
    Jt808Input,
    ModbusInput,
    NmeaInput,
    decode_recording,
    encode_recording,
)
from backend.exercises.scenario_schema import SCENARIO_FILE, ScenarioError
from backend.exercises.scenarios import auth_code_of, build_scenario, value_at
from backend.sensors.rules.config import RuleSet
from devices.jt808 import decode_frame
from devices.jt808.bits import alarm_names
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages import Authentication, Heartbeat, Location, Register
from devices.nmea import parse_sentence
from realtime.protocol import (
    DeviceAlarm,
    DeviceReading,
    DeviceStatus,
    HazardSourceDetails,
    RecordingSource,
)
from realtime.protocol.codec import decode_device

SHIPPED = ("mine-methane", "tank-farm-leak", "tanker-rollover")


def test_the_three_scenarios_are_shipped_with_a_readme() -> None:
    names = sorted(p.name for p in SHIPPED_SCENARIOS.iterdir() if (p / SCENARIO_FILE).exists())
    assert names == list(SHIPPED)
    for name in SHIPPED:
        readme = (SHIPPED_SCENARIOS / name / "README.md").read_text(encoding="utf-8")
        assert "Sources" in readme
        assert "invented" in readme
        assert "Licence" in readme


@pytest.mark.parametrize("name", SHIPPED)
def test_a_scenario_compiles_to_the_same_bytes_every_time(name: str) -> None:
    first = encode_recording(build_scenario(SHIPPED_SCENARIOS / name))
    second = encode_recording(build_scenario(SHIPPED_SCENARIOS / name))
    assert first == second
    recording = decode_recording(first)
    assert recording.header.source is RecordingSource.SCENARIO
    assert recording.header.sources, "a scenario names its public sources"
    # Short enough that a 1x replay test lasts minutes at most.
    assert 60 <= recording.duration_s <= 240
    assert recording.entries[-1].at <= recording.header.window_to


@pytest.mark.parametrize("name", SHIPPED)
def test_every_input_is_real_wire_data(name: str) -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / name)
    for entry in recording.device_inputs():
        match entry:
            case Jt808Input():
                frame = decode_frame(entry.data)  # raises on a bad checksum or escape
                assert entry.data[:1] == entry.data[-1:] == b"\x7e"
                if isinstance(frame.message, Location):
                    assert frame.message.time == entry.at.replace(microsecond=0)
            case FeedInput():
                message = decode_device(entry.text.encode())
                assert isinstance(message, DeviceReading | DeviceAlarm | DeviceStatus)
                assert message.at == entry.at
            case NmeaInput():
                parse_sentence(entry.line)  # checks the checksum
            case ModbusInput():
                assert len(entry.registers) == 2
                assert all(0 <= word <= 0xFFFF for word in entry.registers)
    sensors = {sensor.sensor_id: sensor for sensor in recording.registry.sensors}
    for sensor in sensors.values():
        if sensor.rules is not None:
            RuleSet.from_data(sensor.rules)


def test_terminals_register_authenticate_then_report_in_either_edition() -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / "tanker-rollover")
    by_connection: dict[int, list[Jt808Input]] = {}
    for entry in recording.entries:
        if isinstance(entry, Jt808Input):
            by_connection.setdefault(entry.connection, []).append(entry)
    editions = set()
    for frames in by_connection.values():
        decoded = [decode_frame(frame.data) for frame in frames]
        assert isinstance(decoded[0].message, Register)
        assert isinstance(decoded[1].message, Authentication)
        assert decoded[1].message.auth_code == auth_code_of(decoded[0].header.phone)
        assert all(isinstance(f.message, Location | Heartbeat) for f in decoded[2:])
        assert [f.header.serial for f in decoded] == list(range(len(decoded)))
        editions.add(decoded[0].header.version)
    assert editions == {ProtocolVersion.V2013, ProtocolVersion.V2019}


def test_the_tanker_raises_rollover_then_sos_which_clears_once_acknowledged() -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / "tanker-rollover")
    seen: list[tuple[float, frozenset[str]]] = []
    for entry in recording.entries:
        if not isinstance(entry, Jt808Input) or entry.connection != 1:
            continue
        frame = decode_frame(entry.data)
        if isinstance(frame.message, Location):
            names = frozenset(alarm_names(frame.message.alarm_flags, frame.header.version))
            offset = (entry.at - recording.header.window_from).total_seconds()
            seen.append((offset, names))
    rollover = [offset for offset, names in seen if "collision_rollover" in names]
    sos = [offset for offset, names in seen if "emergency" in names]
    assert rollover
    assert rollover[0] == pytest.approx(92.0)
    assert rollover[-1] == seen[-1][0], "the rollover bit stays set while it lies there"
    assert sos == [97.0]
    assert all(offset < 92.0 for offset, names in seen if not names)


def test_the_mine_face_sensor_passes_both_limits_and_the_power_is_cut_within_2_s() -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / "mine-methane")
    start = recording.header.window_from
    face = [
        ((e.at - start).total_seconds(), struct.unpack(">f", struct.pack(">HH", *e.registers))[0])
        for e in recording.entries
        if isinstance(e, ModbusInput) and e.sensor == "ch4-1203-t1"
    ]
    alarm_at = next(t for t, value in face if value >= 1.0)
    cut_at = next(t for t, value in face if value >= 1.5)
    assert alarm_at < cut_at
    cuts = [
        (e.at - start).total_seconds()
        for e in recording.entries
        if isinstance(e, FeedInput) and "power_cut" in e.text
    ]
    assert cuts
    assert 0 <= cuts[0] - cut_at <= 2.0


def test_value_curves_are_linear_between_points_and_hold_at_the_ends() -> None:
    curve = [(10.0, 1.0), (20.0, 3.0)]
    assert value_at(curve, 0) == 1.0
    assert value_at(curve, 15) == 2.0
    assert value_at(curve, 99) == 3.0


def _copy(tmp_path: Path, name: str = "tank-farm-leak") -> Path:
    target = tmp_path / "scenarios" / name
    shutil.copytree(SHIPPED_SCENARIOS / name, target)
    # the registry file is named relative to the scenario
    registry = tmp_path / "registry"
    registry.mkdir(exist_ok=True)
    shutil.copy(SHIPPED_SCENARIOS.parent / "registry" / "demo_registry.json", registry)
    return target


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda text: text.replace("[scenario]", "[scenario\n", 1), "line"),
        (lambda text: text.replace("duration_s = 180", 'duration_s = "long"', 1), "duration_s"),
        (lambda text: text.replace('kind = "h2s"', 'kind = "radon"', 1), "$.sensor[0].kind"),
        (lambda text: text.replace("poll_cycle_seconds = 5", "colour = 5", 1), "colour"),
        (
            lambda text: text.replace(
                "value = 3.3, restore = 3.0", "value = 3.3, restore = 9.0", 1
            ),
            "$.sensor[0].rules",
        ),
        (lambda text: text.replace("at_s = 120", "at_s = 900", 1), "$.terminal[1].event[0].at_s"),
        (lambda text: text.replace('"E-JBHG"', '"NOPE-1"', 1), "NOPE-1"),
    ],
)
def test_a_broken_description_is_refused_saying_where(
    tmp_path: Path, change: object, says: str
) -> None:
    directory = _copy(tmp_path)
    path = directory / SCENARIO_FILE
    text = path.read_text(encoding="utf-8")
    assert callable(change)
    changed = change(text)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(ScenarioError, match=None) as caught:
        build_scenario(directory)
    assert says in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_unknown_alarm_bit_for_the_edition_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path, "tanker-rollover")
    path = directory / SCENARIO_FILE
    # rollover_warning is bit 30 of the 2013 table only; the tanker's terminal is 2019
    path.write_text(
        path.read_text(encoding="utf-8").replace('"collision_rollover"', '"rollover_warning"'),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="no JT/T 808-2019 alarm bit"):
        build_scenario(directory)


def test_a_time_without_offset_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    path = directory / SCENARIO_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "start = 2025-12-11T05:20:00+08:00", "start = 2025-12-11T05:20:00"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="offset"):
        build_scenario(directory)


def test_the_window_starts_at_the_scenarios_own_start() -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / "tank-farm-leak")
    assert recording.header.window_from == dt.datetime(2025, 12, 10, 21, 20, tzinfo=dt.UTC)


def test_the_registry_lists_only_the_scenarios_own_sensors_and_cameras() -> None:
    recording = build_scenario(SHIPPED_SCENARIOS / "tank-farm-leak")
    registry = recording.registry
    sensors = {sensor.sensor_id for sensor in registry.sensors}
    cameras = {camera.code for camera in registry.cameras}
    sources = [item for item in registry.items if isinstance(item.details, HazardSourceDetails)]
    assert sources
    for item in sources:
        assert isinstance(item.details, HazardSourceDetails)
        assert set(item.details.sensors) <= sensors
        assert set(item.details.cameras) <= cameras
    assert all(camera.stream_url for camera in registry.cameras)
