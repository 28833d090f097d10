"""Compile a scenario description into a recording whose device input is real wire data.

A shipped scenario (``resources/scenarios/<name>/scenario.toml``, schema in
:mod:`backend.exercises.scenario_schema`) says what happens; :func:`build_scenario` turns
it, deterministically (the same file, the same bytes), into a
:class:`~backend.exercises.recording.Recording` as if a server had recorded it:

- JT/T 808 terminals: 0x0100 registration, 0x0102 authentication, 0x0200 locations
  along their route (alarm bits set by the timeline's events) and 0x0002 heartbeats, as
  frames encoded by :mod:`devices.jt808`'s codec (2013 or 2019 edition);
- sensors: ``device.reading`` device-feed messages (or Modbus holding registers, one
  big-endian float32) following a value curve;
- GNSS receivers: NMEA 0183 RMC and GGA sentences with their checksums;
- monitoring systems: ``device.alarm`` (e.g. a mine's power cut-off) and
  ``device.status`` (a camera drops) messages.

Sans I/O apart from reading the description and the registry file it names.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import msgspec

from backend.exercises.recording import (
    DeviceEntry,
    Entry,
    FeedInput,
    Header,
    Jt808Input,
    ModbusInput,
    NmeaInput,
    Recording,
    RegistrySnapshot,
    SensorEntry,
)
from backend.exercises.scenario_schema import (
    SCENARIO_FILE,
    Description,
    Point,
    Receiver,
    ScenarioError,
    Sensor,
    Terminal,
    TerminalEvent,
    read_description,
)
from backend.sensors.rules.config import DEFAULT_UNITS
from devices.jt808.bits import ALARM_BITS_2013, ALARM_BITS_2019
from devices.jt808.codec import encode_frame
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages import (
    Authentication,
    Heartbeat,
    Location,
    MileageItem,
    Register,
    SatelliteCountItem,
)
from realtime.protocol import (
    CameraView,
    DeviceAlarm,
    DeviceReading,
    DeviceStatus,
    HazardSourceDetails,
    RecordingSource,
    RegistryItemInput,
    UnitView,
    encode,
)

__all__ = [
    "SCENARIO_FILE",
    "ScenarioError",
    "auth_code_of",
    "build_scenario",
    "compile_description",
]

EARTH_RADIUS_M: Final = 6_371_008.8
STATUS_ACC_ON: Final = 1 << 0
STATUS_POSITIONED: Final = 1 << 1
STATUS_GPS_BEIDOU: Final = (1 << 18) | (1 << 19)
AUTH_GAP_S: Final = 0.5
"""Seconds between a terminal's registration and its authentication (the 0x8100 round trip)."""


def auth_code_of(phone: str) -> str:
    """The auth code a scenario's terminal authenticates with (the code the original
    platform would have issued; a replay re-issues its own)."""
    return f"SCN{phone.lstrip('0')[-8:]}"


def build_scenario(directory: Path) -> Recording:
    """Compile ``directory/scenario.toml``; raise
    :class:`~backend.exercises.scenario_schema.ScenarioError` saying where and why."""
    return compile_description(read_description(directory / SCENARIO_FILE), directory)


def compile_description(description: Description, directory: Path) -> Recording:
    """Compile a checked description (``directory``: where its ``items_file`` is relative
    to). Generators (bench/replay.py) build a :class:`Description` in code and call this."""
    start = description.scenario.start.astimezone(dt.UTC)
    timeline = _Timeline(start)
    for number, terminal in enumerate(description.terminal, 1):
        _terminal_frames(timeline, terminal, number, description.scenario.duration_s)
    for receiver in description.receiver:
        _nmea_sentences(timeline, receiver, description.scenario.duration_s)
    account = description.feed.account
    for sensor in description.sensor:
        _sensor_readings(timeline, sensor, account, description.scenario.duration_s)
    for alarm in description.alarm:
        at = timeline.at(alarm.at_s)
        message = DeviceAlarm(
            ref=f"alarm-{alarm.key}-{alarm.at_s:g}",
            key=alarm.key,
            alarm_type=alarm.alarm_type,
            level=alarm.level,
            title=alarm.title,
            description=alarm.description,
            lat=alarm.lat,
            lon=alarm.lon,
            place=alarm.place,
            jurisdiction=alarm.jurisdiction,
            at=at,
        )
        timeline.add(alarm.at_s, _feed(at, account, message))
    for change in description.status:
        at = timeline.at(change.at_s)
        status = DeviceStatus(
            ref=f"status-{change.device}-{change.at_s:g}",
            device=change.device,
            online=change.online,
            at=at,
            reason=change.reason,
        )
        timeline.add(change.at_s, _feed(at, account, status))
    header = description.scenario
    end = start + dt.timedelta(seconds=header.duration_s)
    return Recording(
        header=Header(
            title=header.title,
            description=header.description,
            source=RecordingSource.SCENARIO,
            window_from=start,
            window_to=end,
            recorded_at=end,
            recorded_by="scenario",
            area=header.area,
            masked=True,
            sources=list(header.sources),
        ),
        registry=_registry(directory, description),
        entries=timeline.entries(),
    )


class _Timeline:
    """Entries gathered in any order, returned in time order (ties: in the order added)."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._items: list[tuple[float, int, Entry]] = []

    def at(self, seconds: float) -> dt.datetime:
        """The instant ``seconds`` after the start, to the millisecond."""
        return self.start + dt.timedelta(milliseconds=round(seconds * 1000))

    def add(self, seconds: float, entry: Entry) -> None:
        self._items.append((round(seconds, 3), len(self._items), entry))

    def entries(self) -> list[Entry]:
        return [entry for _s, _n, entry in sorted(self._items, key=lambda item: item[:2])]


def _feed(
    at: dt.datetime, account: str, message: DeviceAlarm | DeviceReading | DeviceStatus
) -> FeedInput:
    return FeedInput(at=at, connection=1, account=account, text=encode(message).decode())


# --------------------------------------------------------------------------- routes


def _distance_m(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0)))


def _bearing_deg(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


def _along(route: Sequence[Point], distance_m: float) -> tuple[float, float, float]:
    """(lat, lon, heading) ``distance_m`` along ``route``; the end holds."""
    if len(route) == 1:
        return route[0][0], route[0][1], 0.0
    heading = 0.0
    for a, b in itertools.pairwise(route):
        span = _distance_m(a, b)
        heading = _bearing_deg(a, b) if span > 0 else heading
        if distance_m <= span:
            fraction = 0.0 if span == 0 else distance_m / span
            return a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction, heading
        distance_m -= span
    return route[-1][0], route[-1][1], heading


def _ticks(first_s: float, until_s: float, interval_s: float) -> Iterator[float]:
    """``first_s``, ``first_s + interval_s``, … up to ``until_s`` inclusive."""
    count = 0
    while (at_s := first_s + count * interval_s) <= until_s + 1e-9:
        yield round(at_s, 3)
        count += 1


# --------------------------------------------------------------------------- JT/T 808


@dataclass
class _Drive:
    speed_kmh: float
    distance_m: float = 0.0
    alarms: int = 0
    pulses: dict[int, int] = field(default_factory=dict)
    """Alarm bit -> reports left before it clears by itself."""


def _terminal_frames(
    timeline: _Timeline, terminal: Terminal, connection: int, end_s: float
) -> None:
    version = ProtocolVersion.V2019 if terminal.edition == 2019 else ProtocolVersion.V2013
    table = ALARM_BITS_2019 if terminal.edition == 2019 else ALARM_BITS_2013
    bits = {name: bit for bit, name in table.items()}
    serial = 0

    def frame(seconds: float, message: Register | Authentication | Location | Heartbeat) -> None:
        nonlocal serial
        data = encode_frame(message, phone=terminal.phone, serial=serial, version=version)
        serial = (serial + 1) & 0xFFFF
        timeline.add(seconds, Jt808Input(at=timeline.at(seconds), connection=connection, data=data))

    connect = terminal.connect_at_s
    frame(connect, _register(terminal))
    if version == ProtocolVersion.V2019:
        auth = Authentication(
            auth_code_of(terminal.phone),
            imei=f"86{terminal.phone.lstrip('0'):0>13}"[-15:],
            software_version="DD-SCN-1",
        )
    else:
        auth = Authentication(auth_code_of(terminal.phone))
    frame(connect + AUTH_GAP_S, auth)
    events = sorted(terminal.event, key=lambda event: event.at_s)
    drive = _Drive(speed_kmh=terminal.speed_kmh)
    last_s = connect + AUTH_GAP_S
    until = end_s if terminal.until_s is None else min(terminal.until_s, end_s)
    reports = list(_ticks(connect + 1.0, until, terminal.interval_s))
    event_times = [event.at_s for event in events if event.at_s > connect + 1.0]
    moments = sorted({*reports, *event_times})
    next_heartbeat = connect + terminal.heartbeat_s if terminal.heartbeat_s else math.inf
    for moment in moments:
        while next_heartbeat < moment:
            frame(next_heartbeat, Heartbeat())
            next_heartbeat += terminal.heartbeat_s
        drive.distance_m += drive.speed_kmh / 3.6 * (moment - last_s)
        last_s = moment
        while events and events[0].at_s <= moment:
            _apply(drive, events.pop(0), bits)
        frame(moment, _location(terminal, drive, timeline.at(moment)))
        _count_pulses(drive)
        if terminal.heartbeat_s:
            next_heartbeat = moment + terminal.heartbeat_s


def _apply(drive: _Drive, event: TerminalEvent, bits: dict[str, int]) -> None:
    """An event of the timeline changes how the terminal reports from now on."""
    for name in event.set_alarms:
        drive.alarms |= 1 << bits[name]
        if event.pulse_reports:
            drive.pulses[bits[name]] = event.pulse_reports
    for name in event.clear_alarms:
        drive.alarms &= ~(1 << bits[name])
    if event.speed_kmh is not None:
        drive.speed_kmh = event.speed_kmh


def _count_pulses(drive: _Drive) -> None:
    """Bits set for a number of reports clear after them (an acknowledged SOS)."""
    if not drive.pulses:
        return
    for bit in list(drive.pulses):
        drive.pulses[bit] -= 1
        if drive.pulses[bit] <= 0:
            drive.alarms &= ~(1 << bit)
            del drive.pulses[bit]


def _register(terminal: Terminal) -> Register:
    return Register(
        province=32,
        city=100,
        maker="DDSCN",
        model="DD-SCN-808",
        terminal_id=terminal.phone.lstrip("0")[-7:],
        plate_color=2,
        plate=terminal.plate,
    )


def _location(terminal: Terminal, drive: _Drive, at: dt.datetime) -> Location:
    lat, lon, heading = _along(terminal.route, drive.distance_m)
    return Location.from_degrees(
        lat=round(lat, 6),
        lon=round(lon, 6),
        time=at.replace(microsecond=0),
        speed_kmh=round(drive.speed_kmh, 1),
        heading_deg=round(heading) % 360,
        altitude_m=12,
        alarm_flags=drive.alarms,
        status_flags=STATUS_ACC_ON | STATUS_POSITIONED | STATUS_GPS_BEIDOU,
        items=(MileageItem(round(drive.distance_m / 100)), SatelliteCountItem(14)),
    )


# --------------------------------------------------------------------------- NMEA


def nmea_checksum(body: str) -> str:
    """The two hex digits of an NMEA sentence body (between ``$`` and ``*``)."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return f"{value:02X}"


def _sentence(body: str) -> str:
    return f"${body}*{nmea_checksum(body)}"


def _nmea_coordinate(value: float, *, latitude: bool) -> tuple[str, str]:
    hemisphere = ("N" if value >= 0 else "S") if latitude else ("E" if value >= 0 else "W")
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    width = 2 if latitude else 3
    return f"{degrees:0{width}d}{minutes:07.4f}", hemisphere


def _nmea_sentences(timeline: _Timeline, receiver: Receiver, end_s: float) -> None:
    until = end_s if receiver.until_s is None else min(receiver.until_s, end_s)
    for moment in _ticks(receiver.start_s, until, receiver.interval_s):
        distance = receiver.speed_kmh / 3.6 * (moment - receiver.start_s)
        lat, lon, heading = _along(receiver.route, distance)
        utc = timeline.at(moment).astimezone(dt.UTC)
        clock = f"{utc:%H%M%S}.{utc.microsecond // 10_000:02d}"
        lat_text, ns = _nmea_coordinate(lat, latitude=True)
        lon_text, ew = _nmea_coordinate(lon, latitude=False)
        knots = receiver.speed_kmh / 1.852
        rmc = (
            f"GNRMC,{clock},A,{lat_text},{ns},{lon_text},{ew},{knots:.1f},{heading:.1f},"
            f"{utc:%d%m%y},,,A"
        )
        gga = f"GNGGA,{clock},{lat_text},{ns},{lon_text},{ew},1,12,0.9,15.0,M,3.0,M,,"
        for body in (rmc, gga):
            at = timeline.at(moment)
            timeline.add(moment, NmeaInput(at=at, device=receiver.device, line=_sentence(body)))


# --------------------------------------------------------------------------- sensors


def value_at(curve: Sequence[tuple[float, float]], at_s: float) -> float:
    """The curve's value at ``at_s`` (linear between points; the ends hold)."""
    if at_s <= curve[0][0]:
        return curve[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(curve):
        if at_s <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (at_s - t0) / (t1 - t0)
    return curve[-1][1]


def float32_registers(value: float) -> list[int]:
    """``value`` as a big-endian float32 in two holding registers (high word first)."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def _sensor_readings(timeline: _Timeline, sensor: Sensor, account: str, end_s: float) -> None:
    until = end_s if sensor.until_s is None else min(sensor.until_s, end_s)
    device = sensor.device or account
    unit = sensor.unit or _default_unit(sensor)
    for number, moment in enumerate(_ticks(sensor.start_s, until, sensor.poll_cycle_seconds)):
        value = round(value_at(sensor.curve, moment), 3)
        at = timeline.at(moment)
        if sensor.via == "modbus":
            timeline.add(
                moment,
                ModbusInput(
                    at=at,
                    device=device,
                    sensor=sensor.sensor_id,
                    address=sensor.register,
                    registers=float32_registers(value),
                ),
            )
            continue
        reading = DeviceReading(
            ref=f"{sensor.sensor_id}-{number}",
            sensor=sensor.sensor_id,
            value=value,
            unit=unit,
            at=at,
            device=device,
            kind="json",
        )
        timeline.add(moment, _feed(at, account, reading))


def _default_unit(sensor: Sensor) -> str:
    return DEFAULT_UNITS.get(sensor.kind, "")


# --------------------------------------------------------------------------- registry


def _registry(directory: Path, description: Description) -> RegistrySnapshot:
    section = description.registry
    devices = [
        DeviceEntry(
            kind="jt808",
            identity=terminal.phone.lstrip("0"),
            name=terminal.name or terminal.plate,
            plate=terminal.plate,
            owner=terminal.owner,
            jurisdiction=terminal.jurisdiction,
        )
        for terminal in description.terminal
    ]
    devices += [
        DeviceEntry(kind="nmea", identity=r.device, name=r.name, jurisdiction=r.jurisdiction)
        for r in description.receiver
    ]
    feed = description.feed
    feeds = {feed.account: feed.name} | {
        s.device: "" for s in description.sensor if s.device and s.via == "feed"
    }
    devices += [
        DeviceEntry(kind="json", identity=name, name=label, jurisdiction=feed.jurisdiction)
        for name, label in feeds.items()
    ]
    # A status change is an event only for a device the registry knows.
    known = {device.identity for device in devices}
    devices += [
        DeviceEntry(kind="json", identity=name, jurisdiction=feed.jurisdiction)
        for name in sorted({change.device for change in description.status} - known)
    ]
    modbus = sorted({s.device or feed.account for s in description.sensor if s.via == "modbus"})
    devices += [DeviceEntry(kind="modbus", identity=name) for name in modbus]
    sensors = [
        SensorEntry(
            sensor_id=s.sensor_id,
            kind=s.kind.value,
            unit=s.unit or _default_unit(s),
            placement=s.placement.value or "general",
            name=s.name,
            place=s.place,
            lat=s.lat,
            lon=s.lon,
            hazard_source=s.hazard_source,
            enterprise=s.enterprise,
            jurisdiction=s.jurisdiction,
            poll_cycle_seconds=s.poll_cycle_seconds,
            rules=s.rules,
        )
        for s in description.sensor
    ]
    cameras = [
        CameraView(id=number, **msgspec.structs.asdict(camera))
        for number, camera in enumerate(section.camera, 1)
    ]
    units = [
        UnitView(id=number, **msgspec.structs.asdict(unit))
        for number, unit in enumerate(section.unit, 1)
    ]
    return RegistrySnapshot(
        devices=devices,
        sensors=sensors,
        cameras=cameras,
        units=units,
        items=_with_own_devices(
            _items(directory, section.items_file, section.item_codes), sensors, cameras
        ),
    )


def _with_own_devices(
    items: list[RegistryItemInput], sensors: Sequence[SensorEntry], cameras: Sequence[CameraView]
) -> list[RegistryItemInput]:
    """A hazard source taken from a registry file lists the scenario's own sensors and
    cameras of that source (by name), not the file's: the exercise registers only those."""
    changed = []
    for item in items:
        if isinstance(item.details, HazardSourceDetails):
            details = msgspec.structs.replace(
                item.details,
                sensors=[s.sensor_id for s in sensors if s.hazard_source == item.name],
                cameras=[c.code for c in cameras if c.hazard_source == item.name],
            )
            changed.append(msgspec.structs.replace(item, details=details))
        else:
            changed.append(item)
    return changed


def _items(directory: Path, items_file: str, codes: Sequence[str]) -> list[RegistryItemInput]:
    if not codes:
        return []
    path = (directory / items_file).resolve()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{directory / SCENARIO_FILE}: $.registry.items_file: {exc}") from exc
    by_code = {item.get("code"): item for item in raw if isinstance(item, dict)}
    items = []
    for code in codes:
        if code not in by_code:
            raise ScenarioError(
                f"{directory / SCENARIO_FILE}: $.registry.item_codes: {code} is not in {path.name}"
            )
        try:
            items.append(msgspec.convert(by_code[code], RegistryItemInput))
        except msgspec.ValidationError as exc:
            raise ScenarioError(f"{path}: item {code}: {exc}") from exc
    return items
