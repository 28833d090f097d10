"""What a scenario description (``scenario.toml``) may say: the typed, checked schema.

:func:`read_description` parses the TOML file and converts it into :class:`Description`,
refusing unknown keys, wrong types and inconsistent values with one
:class:`ScenarioError` that names the file and the line (a TOML syntax error) or the
field (``$.sensor[2].curve``). docs/exercises.md ("Shipped scenarios") shows a whole file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from backend.sensors.rules.config import Error as RulesError
from backend.sensors.rules.config import Placement, RuleSet, SensorKind
from devices.jt808.bits import ALARM_BITS_2013, ALARM_BITS_2019
from realtime.states import AlarmLevel

SCENARIO_FILE: Final = "scenario.toml"
MAX_DURATION_S: Final = 4 * 3600.0
"""A scenario longer than this is refused (shipped ones last a few minutes)."""

Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_DURATION_S)]
Interval = Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Point = tuple[Latitude, Longitude]
"""(latitude, longitude), WGS-84."""
Phone = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,20}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ScenarioError(Exception):
    """A scenario description cannot be compiled; ``str()`` says where and why."""


class _Strict(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class Header(_Strict, kw_only=True):
    """``[scenario]``: what the scenario is."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: str = ""
    start: dt.datetime
    """The timeline's first instant (a TOML offset date-time, e.g. 2020-06-13T16:39:00+08:00)."""
    duration_s: Annotated[float, msgspec.Meta(gt=0.0, le=MAX_DURATION_S)]
    area: str = ""
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    """The public reports the timeline follows (title, publisher, year, URL)."""


class CameraEntry(_Strict, kw_only=True):
    code: Code
    name: str
    lat: float
    lon: float
    agency: str = ""
    jurisdiction: str = ""
    hazard_source: str = ""
    enterprise: str = ""
    stream_url: Annotated[str, msgspec.Meta(min_length=1)]
    """Where its video comes from (a scenario's cameras use documentation addresses,
    192.0.2.x, which reach nothing: the drill shows the camera, not a picture)."""


class UnitEntry(_Strict, kw_only=True):
    code: Code
    name: str
    agency: str
    jurisdiction: str = ""
    lat: float | None = None
    lon: float | None = None


class RegistrySection(_Strict, kw_only=True):
    """``[registry]``: the registry the exercise starts with (besides the devices)."""

    items_file: str = ""
    """A registry JSON (``dutydesk registry import`` format), relative to the scenario."""
    item_codes: list[Code] = msgspec.field(default_factory=list)
    """The items of ``items_file`` to take (teams, equipment, targets, plans…)."""
    camera: list[CameraEntry] = msgspec.field(default_factory=list)
    unit: list[UnitEntry] = msgspec.field(default_factory=list)


class TerminalEvent(_Strict, kw_only=True):
    """``[[terminal.event]]``: from ``at_s`` on, the terminal reports differently."""

    at_s: Seconds
    set_alarms: list[str] = msgspec.field(default_factory=list)
    """Alarm bit names (devices/jt808/bits.py of the terminal's edition) set from now."""
    clear_alarms: list[str] = msgspec.field(default_factory=list)
    speed_kmh: Annotated[float, msgspec.Meta(ge=0.0, le=250.0)] | None = None
    """The new speed (0: the vehicle stands)."""
    pulse_reports: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    """Bits in ``set_alarms`` are cleared again after this many reports (0: they stay);
    an SOS is cleared once the platform replied (JT/T 808: "收到应答后清零")."""


class Terminal(_Strict, kw_only=True):
    """``[[terminal]]``: a JT/T 808 terminal on a vehicle driving a route."""

    phone: Phone
    plate: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    edition: Literal[2013, 2019] = 2013
    name: str = ""
    owner: str = ""
    jurisdiction: str = ""
    connect_at_s: Seconds = 0.0
    """When it registers (0x0100) and authenticates (0x0102)."""
    until_s: Seconds | None = None
    """When it stops reporting (default: the end of the scenario)."""
    interval_s: Interval = 10.0
    heartbeat_s: Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)] = 0.0
    """A 0x0002 heartbeat this often between reports (0: none)."""
    speed_kmh: Annotated[float, msgspec.Meta(ge=0.0, le=250.0)] = 60.0
    route: Annotated[list[Point], msgspec.Meta(min_length=1)]
    event: list[TerminalEvent] = msgspec.field(default_factory=list)


class Receiver(_Strict, kw_only=True):
    """``[[receiver]]``: a GNSS receiver speaking NMEA 0183 (RMC + GGA per fix)."""

    device: Code
    name: str = ""
    jurisdiction: str = ""
    start_s: Seconds = 0.0
    until_s: Seconds | None = None
    interval_s: Interval = 5.0
    speed_kmh: Annotated[float, msgspec.Meta(ge=0.0, le=250.0)] = 40.0
    route: Annotated[list[Point], msgspec.Meta(min_length=1)]


class Sensor(_Strict, kw_only=True):
    """``[[sensor]]``: a sensor whose value follows ``curve`` (linear between points)."""

    sensor_id: Code
    kind: SensorKind
    unit: str = ""
    placement: Placement = Placement.GENERAL
    name: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    hazard_source: str = ""
    enterprise: str = ""
    jurisdiction: str = ""
    poll_cycle_seconds: Interval = 5.0
    via: Literal["feed", "modbus"] = "feed"
    """How readings arrive: device-feed ``device.reading`` messages or Modbus registers
    (one float32, big-endian words, at ``register``)."""
    device: Code = ""
    """The monitoring system it reports through (default: the scenario's feed)."""
    register: Annotated[int, msgspec.Meta(ge=0, le=0xFFFE)] = 0
    start_s: Seconds = 0.0
    until_s: Seconds | None = None
    curve: Annotated[list[tuple[Seconds, float]], msgspec.Meta(min_length=1)]
    """(seconds from the start, value) points; before the first and after the last the
    value holds."""
    rules: dict[str, Any] | None = None
    """Its rules (the rules file's keys); default: the shipped rules for its kind."""


class FeedAlarm(_Strict, kw_only=True):
    """``[[alarm]]``: a monitoring system raises an alarm (``device.alarm``), e.g. the
    mine's power cut-off."""

    at_s: Seconds
    key: Code
    alarm_type: Code
    level: AlarmLevel
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    place: str = ""
    jurisdiction: str = ""


class StatusChange(_Strict, kw_only=True):
    """``[[status]]``: a device (a camera, a monitoring station) goes off- or online."""

    at_s: Seconds
    device: Code
    online: bool
    reason: str = ""


class FeedSection(_Strict, kw_only=True):
    """``[feed]``: the device-feed account the scenario's messages come from."""

    account: Code = "scenario-feed"
    name: str = ""
    jurisdiction: str = ""


class Description(_Strict, kw_only=True):
    """A whole ``scenario.toml``."""

    scenario: Header
    registry: RegistrySection = msgspec.field(default_factory=RegistrySection)
    feed: FeedSection = msgspec.field(default_factory=FeedSection)
    terminal: list[Terminal] = msgspec.field(default_factory=list)
    receiver: list[Receiver] = msgspec.field(default_factory=list)
    sensor: list[Sensor] = msgspec.field(default_factory=list)
    alarm: list[FeedAlarm] = msgspec.field(default_factory=list)
    status: list[StatusChange] = msgspec.field(default_factory=list)


def read_description(path: Path) -> Description:
    """Parse and check ``path``; raise :class:`ScenarioError` saying where and why."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc  # names line and column
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    try:
        description = msgspec.convert(raw, Description)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    _check(path, description)
    return description


def _check(path: Path, description: Description) -> None:
    """The checks beyond types; each error names the field."""
    if description.scenario.start.tzinfo is None:
        raise ScenarioError(f"{path}: $.scenario.start needs an offset (e.g. +08:00)")
    end = description.scenario.duration_s
    phones: set[str] = set()
    for index, terminal in enumerate(description.terminal):
        if terminal.phone.lstrip("0") in phones:
            raise ScenarioError(f"{path}: $.terminal[{index}].phone {terminal.phone} is used twice")
        phones.add(terminal.phone.lstrip("0"))
        _check_terminal(path, f"$.terminal[{index}]", terminal, end)
    sensor_ids: set[str] = set()
    for index, sensor in enumerate(description.sensor):
        if sensor.sensor_id in sensor_ids:
            raise ScenarioError(f"{path}: $.sensor[{index}].sensor_id is used twice")
        sensor_ids.add(sensor.sensor_id)
        _check_sensor(path, f"$.sensor[{index}]", sensor)
    for section in ("alarm", "status"):
        for index, item in enumerate(getattr(description, section)):
            _within(path, f"$.{section}[{index}].at_s", item.at_s, end)
    if description.registry.item_codes and not description.registry.items_file:
        raise ScenarioError(f"{path}: $.registry.item_codes needs $.registry.items_file")


def _check_terminal(path: Path, where: str, terminal: Terminal, end: float) -> None:
    names = set((ALARM_BITS_2013 if terminal.edition == 2013 else ALARM_BITS_2019).values())
    for number, event in enumerate(terminal.event):
        for bit in (*event.set_alarms, *event.clear_alarms):
            if bit not in names:
                raise ScenarioError(
                    f"{path}: {where}.event[{number}]: {bit!r} is no JT/T 808-"
                    f"{terminal.edition} alarm bit"
                )
        _within(path, f"{where}.event[{number}].at_s", event.at_s, end)
    _within(path, f"{where}.connect_at_s", terminal.connect_at_s, end)


def _check_sensor(path: Path, where: str, sensor: Sensor) -> None:
    times = [at for at, _value in sensor.curve]
    if times != sorted(times):
        raise ScenarioError(f"{path}: {where}.curve: the points must be in time order")
    if (sensor.lat is None) != (sensor.lon is None):
        raise ScenarioError(f"{path}: {where}: give both lat and lon, or neither")
    if sensor.rules is not None:
        try:
            RuleSet.from_data(sensor.rules)
        except RulesError as exc:
            raise ScenarioError(f"{path}: {where}.rules: {exc}") from exc


def _within(path: Path, where: str, at_s: float, end: float) -> None:
    if at_s > end:
        raise ScenarioError(f"{path}: {where} = {at_s:g} is after the end ({end:g} s)")
