"""The DutyDesk wire schema: every message a console, a device feed and the server exchange.

Messages are JSON objects tagged by their ``type`` field and decoded into msgspec Structs,
so a malformed message is rejected with a precise reason before any code acts on it.
``docs/protocol.md`` is the human description of this module; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import enum
import operator
from typing import Annotated, Any, Final, Literal

import msgspec

from realtime.states import AlarmAction, AlarmLevel, AlarmState

# --------------------------------------------------------------------------- limits

MAX_CONSOLE_MESSAGE_BYTES: Final = 64 * 1024
"""Largest message a console may send; larger ones close the connection with 1009."""
MAX_DEVICE_MESSAGE_BYTES: Final = 16 * 1024
"""Largest message a device feed may send."""
MAX_SERVER_MESSAGE_BYTES: Final = 16 * 1024 * 1024
"""Largest message the server sends (a snapshot); clients set their max_size to this."""
CONSOLE_RATE_PER_SECOND: Final = 20.0
CONSOLE_RATE_BURST: Final = 60
DEVICE_RATE_PER_SECOND: Final = 200.0
DEVICE_RATE_BURST: Final = 400
HELLO_TIMEOUT_SECONDS: Final = 10.0
MAX_REPLAY_EVENTS: Final = 10_000
"""A resume further back than this gets a snapshot instead of a replay."""

CONSOLE_PATH: Final = "/console"
DEVICE_PATH: Final = "/device"
HEALTH_PATH: Final = "/health"

# WebSocket close codes DutyDesk uses besides the standard ones.
CLOSE_HELLO_EXPECTED: Final = 4002
CLOSE_UNSUPPORTED_PROTOCOL: Final = 4003
CLOSE_RATE_ABUSE: Final = 4008
CLOSE_TOO_SLOW: Final = 4013
CLOSE_SESSION_ENDED: Final = 4001


class Role(enum.StrEnum):
    """What a user is allowed to do; checked by the server on every message."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AGENCY_DISPATCHER = "agency_dispatcher"
    ADMIN = "admin"
    DEVICE = "device"


class ErrorCode(enum.StrEnum):
    """Machine-readable reason carried by every :class:`Error`."""

    BAD_MESSAGE = "bad_message"
    """Not JSON, unknown ``type``, a missing or mistyped field."""
    VALIDATION = "validation"
    """Well formed but meaningless: latitude 120, an empty title, an unknown unit."""
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    """The role or jurisdiction does not allow this."""
    NOT_FOUND = "not_found"
    ILLEGAL_TRANSITION = "illegal_transition"
    STALE_VERSION = "stale_version"
    """The alarm changed since the client read it; reload and decide again."""
    RATE_LIMITED = "rate_limited"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"
    HELLO_EXPECTED = "hello_expected"
    DEVICE_OFFLINE = "device_offline"
    """The device is not connected, so the command cannot reach it now."""
    INTERNAL = "internal"


AwareDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
"""A datetime that must carry its offset (``…Z`` or ``…+08:00``); naive times are refused."""
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]


class Tagged(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every wire message: a JSON object whose ``type`` names its Struct."""


# --------------------------------------------------------------------------- shared views


class UserInfo(msgspec.Struct, kw_only=True):
    """Who is logged in, as the server sees them."""

    username: str
    display_name: str
    role: Role
    agency: str | None = None
    jurisdiction: str = ""
    """Region code prefix (e.g. ``330102``); empty means the whole area."""


class Limits(msgspec.Struct, kw_only=True):
    """The limits the server enforces on this connection."""

    max_message_bytes: int
    rate_per_second: float
    rate_burst: int


class DispatchView(msgspec.Struct, kw_only=True):
    """One unit sent to an alarm."""

    unit_id: int
    unit_name: str
    agency: str
    note: str
    by: str
    at: dt.datetime


class AlarmView(msgspec.Struct, kw_only=True):
    """An alarm as consoles see it. ``caller_phone`` is masked unless the role may see it."""

    id: int
    version: int
    state: AlarmState
    level: AlarmLevel
    alarm_type: str
    title: str
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    place: str = ""
    jurisdiction: str = ""
    source: str
    """``manual`` (an officer took a report) or ``device``."""
    source_ref: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    reported_by: str = ""
    count: int = 1
    """How many times a device reported this still-open alarm."""
    first_seen: dt.datetime
    last_seen: dt.datetime
    updated_at: dt.datetime
    updated_by: str = ""
    last_note: str = ""
    merged_into: int | None = None
    dispatches: list[DispatchView] = msgspec.field(default_factory=list)


class Presence(enum.StrEnum):
    """Whether a device is talking to the server."""

    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    """Not heard from since the server started: what was recorded before (a stop, a
    crash) says nothing about now. ``last_seen`` tells when it was last heard."""


class DeviceView(msgspec.Struct, kw_only=True):
    """A field device in the registry and whether it is talking to us."""

    id: int
    kind: str
    """``jt808`` (truck terminal), ``nmea`` (serial GPS), ``modbus`` (sensor), ``json`` (feed)."""
    identity: str
    """Phone number (JT/T 808), serial port, ``host:port/unit`` (Modbus) or account name."""
    name: str
    plate: str = ""
    owner: str = ""
    """What it belongs to: a vehicle, a sensor group, a hazard source."""
    online: bool = False
    """True only while the server knows the device is online (``presence`` online)."""
    last_seen: dt.datetime | None = None
    """When it was last heard (any message), or None if never."""
    presence: Presence | None = None
    """``online``, ``offline`` or ``unknown``; None from servers that predate it (then
    ``online`` is all there is): read it through :func:`presence_of`."""


def presence_of(view: DeviceView) -> Presence:
    """The device's presence, also for a view from a server that predates ``presence``."""
    if view.presence is not None:
        return view.presence
    return Presence.ONLINE if view.online else Presence.OFFLINE


class PositionView(msgspec.Struct, kw_only=True):
    """The latest fix of one device (coalesced: consoles get the newest, not every fix)."""

    device: str
    at: dt.datetime
    lat: float
    lon: float
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    alarms: list[str] = msgspec.field(default_factory=list)


class ReadingView(msgspec.Struct, kw_only=True):
    """The latest value of one sensor."""

    device: str
    sensor: str
    at: dt.datetime
    value: float
    unit: str = ""


class UnitView(msgspec.Struct, kw_only=True):
    """A unit in the registry that can be dispatched (a fire station, a police team…)."""

    id: int
    code: str
    name: str
    agency: str
    jurisdiction: str = ""
    lat: float | None = None
    lon: float | None = None
    """Where the unit is based (WGS-84), when known."""


class CameraView(msgspec.Struct, kw_only=True):
    """A camera in the registry: where it is, whose it is, and where its video comes from."""

    id: int
    code: str
    name: str
    lat: float
    lon: float
    """Where the camera is (WGS-84)."""
    agency: str = ""
    """The agency that runs it; agency desks see only their own agency's cameras."""
    jurisdiction: str = ""
    """Region-code prefix of its area; empty means the whole area."""
    hazard_source: str = ""
    """The major hazard source it watches, if any."""
    enterprise: str = ""
    """The enterprise it belongs to or watches, if any."""
    stream_url: str = ""
    """``rtsp://``, ``http(s)://`` or ``file://`` URL, or an absolute path of a recorded
    clip. It may carry credentials: show it only through ``realtime.streams.mask_stream_url``.
    Empty when the server cannot give it (the stored address could not be read)."""


GeofenceKind = Literal["geofence", "no_go_zone", "speed_zone", "route_corridor"]
"""What a stored geofence does: enter/exit events, a forbidden area, an area with a speed
limit, or an approved route (a corridor of ``width_m`` around a polyline)."""


class CircleShape(msgspec.Struct, tag_field="type", tag="circle", forbid_unknown_fields=True):
    """A circle: centre and radius in metres (WGS-84)."""

    lat: Latitude
    lon: Longitude
    radius_m: float


class PolygonShape(msgspec.Struct, tag_field="type", tag="polygon", forbid_unknown_fields=True):
    """A polygon: its outer ring as ``[lat, lon]`` pairs (not repeated at the end)."""

    outer: list[list[float]]


class PolylineShape(msgspec.Struct, tag_field="type", tag="polyline", forbid_unknown_fields=True):
    """A route: ``[lat, lon]`` vertices and the corridor's full width in metres."""

    points: list[list[float]]
    width_m: float


GeofenceShape = CircleShape | PolygonShape | PolylineShape
"""The shape of a geofence (tagged by ``type``)."""


class GeofenceView(msgspec.Struct, kw_only=True):
    """A geofence, no-go zone, speed zone or route corridor in the registry."""

    id: int
    version: int
    name: str
    kind: GeofenceKind
    shape: GeofenceShape
    limit_kmh: float | None = None
    """Speed limit (speed zones; optional for route corridors)."""
    level: AlarmLevel
    dwell_s: float = 0.0
    """Seconds the condition must last before it counts."""
    vehicles: list[str] = msgspec.field(default_factory=list)
    """Device ids the rule watches (empty: every vehicle)."""
    enabled: bool = True
    created_by: str = ""
    created_at: dt.datetime
    updated_by: str = ""
    updated_at: dt.datetime


# --------------------------------------------------------------------------- client → server


class Hello(Tagged, tag="hello"):
    """First message on a console connection."""

    protocol: int
    client: str = ""
    resume_from: int | None = None
    """The last ``seq`` this console holds; the server replays everything after it."""


class CreateAlarm(Tagged, tag="alarm.create"):
    """An officer enters an alarm taken by phone (接警录入)."""

    req: str
    alarm_type: str
    level: AlarmLevel
    title: ShortText
    description: LongText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    place: ShortText = ""
    jurisdiction: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    occurred_at: AwareDateTime | None = None


class TransitionAlarm(Tagged, tag="alarm.transition"):
    """Move an alarm along its life cycle.

    Refused unless the move is legal now and ``expected_version`` is the current version.
    """

    req: str
    alarm_id: int
    action: AlarmAction
    expected_version: int
    note: LongText = ""
    merge_into: int | None = None


class DispatchAlarm(Tagged, tag="alarm.dispatch"):
    """Send units to an alarm (派警)."""

    req: str
    alarm_id: int
    expected_version: int
    unit_ids: list[int]
    note: LongText = ""


class ListUnits(Tagged, tag="units.list"):
    """Ask for the units this user may dispatch."""

    req: str


class ListCameras(Tagged, tag="cameras.list"):
    """Ask for the cameras this user may watch, with their stream addresses."""

    req: str


class GetAlarmHistory(Tagged, tag="alarm.history"):
    """Ask for every event of one alarm, oldest first."""

    req: str
    alarm_id: int


class RevealContact(Tagged, tag="alarm.reveal_contact"):
    """Ask for the caller's full phone number. Allowed to the command centre; audited."""

    req: str
    alarm_id: int
    reason: str


class Subscribe(Tagged, tag="subscribe"):
    """Choose the telemetry streams to receive (``positions``, ``readings``); replaces the set."""

    req: str
    topics: list[str]


class ListDevices(Tagged, tag="devices.list"):
    """Ask for the device registry."""

    req: str


class SendText(Tagged, tag="device.send_text"):
    """Send a text message to a vehicle terminal (JT/T 808 0x8300)."""

    req: str
    device: str
    """The terminal's identity (phone number)."""
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    emergency: bool = False
    tts: bool = True
    display: bool = True


class TrackForm(enum.StrEnum):
    """How a ``vehicle.track`` answer carries its fixes."""

    ROWS = "rows"
    """A :class:`TrackResult`: one :class:`PositionView` per fix (the original form)."""
    COLUMNS = "columns"
    """A :class:`TrackColumns`: parallel arrays, about a quarter of the size and far
    cheaper to encode and decode (consoles use this)."""


MAX_TRACK_ROWS: Final = 100_000
"""The most fixes a ``rows`` answer carries (more would not fit a server message)."""


class GetTrack(Tagged, tag="vehicle.track"):
    """Ask for a vehicle's stored fixes between two times, oldest first (track replay).

    A range holding more than ``max_points`` fixes is thinned evenly (every n-th fix) by
    the database; the answer says so (``truncated``).
    """

    req: str
    device: str
    start: AwareDateTime
    end: AwareDateTime
    max_points: Annotated[int, msgspec.Meta(ge=2, le=200_000)] = 100_000
    form: TrackForm = TrackForm.ROWS


class GetSeries(Tagged, tag="sensor.series"):
    """Ask for a sensor's history between two times, at most ``max_points`` points, with the
    peaks kept (trend panels; zooming out never hides a spike)."""

    req: str
    sensor: str
    start: AwareDateTime
    end: AwareDateTime
    max_points: Annotated[int, msgspec.Meta(ge=2, le=20_000)] = 2000


class ListSensors(Tagged, tag="sensors.list"):
    """Ask for the sensors and their thresholds."""

    req: str


class ListGeofences(Tagged, tag="geofences.list"):
    """Ask for every stored geofence (command centre only)."""

    req: str


class SaveGeofence(Tagged, tag="geofence.save", kw_only=True):
    """Create a geofence (``id`` None) or update one (``id`` and ``expected_version``)."""

    req: str
    id: int | None = None
    expected_version: int | None = None
    name: ShortText
    kind: GeofenceKind
    shape: GeofenceShape
    limit_kmh: float | None = None
    level: AlarmLevel = AlarmLevel.ORANGE
    dwell_s: float = 0.0
    vehicles: list[str] = msgspec.field(default_factory=list)
    enabled: bool = True


class DeleteGeofence(Tagged, tag="geofence.delete"):
    """Delete a geofence (supervisor or admin) if it is still at ``expected_version``."""

    req: str
    id: int
    expected_version: int


class Ping(Tagged, tag="ping"):
    """Application-level round trip (WebSocket pings keep the link alive on their own)."""

    req: str


Command = (
    CreateAlarm
    | TransitionAlarm
    | DispatchAlarm
    | ListUnits
    | ListCameras
    | GetAlarmHistory
    | RevealContact
    | Subscribe
    | ListDevices
    | SendText
    | GetTrack
    | GetSeries
    | ListSensors
    | ListGeofences
    | SaveGeofence
    | DeleteGeofence
    | Ping
)
"""Console messages that expect a :class:`Result` or an :class:`Error` with the same ``req``."""

ConsoleMessage = Hello | Command
"""Anything a console may send."""


class DeviceAlarm(Tagged, tag="device.alarm"):
    """A device (or a gateway on its behalf) raises an alarm.

    ``key`` identifies the condition on that device (``gas_leak``, ``sos``…): while an alarm
    with the same device and key is open, a repeat raises its count instead of a new alarm.
    """

    ref: str
    key: str
    alarm_type: str
    level: AlarmLevel
    title: ShortText
    description: LongText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    place: ShortText = ""
    jurisdiction: str = ""
    at: AwareDateTime | None = None


DeviceKind = Literal["jt808", "nmea", "modbus", "json"]
"""The protocols devices speak; a forwarded observation says which one it came by."""


class DeviceReading(Tagged, tag="device.reading"):
    """One measured value from a sensor.

    A gateway forwarding for many devices names the one it speaks for in ``device`` (and
    its protocol in ``kind``); a plain feed leaves them empty and is the device itself.
    """

    ref: str
    sensor: str
    value: float
    unit: str = ""
    at: AwareDateTime | None = None
    device: str = ""
    kind: DeviceKind = "json"


class DevicePosition(Tagged, tag="device.position", kw_only=True):
    """A fix of a vehicle or receiver, forwarded by a gateway (telemetry: group-committed)."""

    ref: str
    device: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    kind: DeviceKind = "json"
    at: AwareDateTime
    lat: Latitude
    lon: Longitude
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    altitude_m: float = 0.0
    alarms: list[str] = msgspec.field(default_factory=list)
    backfill: bool = False


class DeviceAlarmRaised(Tagged, tag="device.alarm_raised", kw_only=True):
    """A device's own alarm condition became active (e.g. a JT/T 808 alarm bit rose).

    The backend chooses the level and title from ``kind`` and ``key`` (site settings).
    """

    ref: str
    device: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    kind: DeviceKind = "json"
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    at: AwareDateTime
    lat: Latitude | None = None
    lon: Longitude | None = None
    description: LongText = ""


class DeviceStatus(Tagged, tag="device.status", kw_only=True):
    """A device went online or offline (as its gateway sees it)."""

    ref: str
    device: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    kind: DeviceKind = "json"
    online: bool
    at: AwareDateTime
    reason: ShortText = ""


DeviceMessage = DeviceAlarm | DeviceReading | DevicePosition | DeviceAlarmRaised | DeviceStatus
"""Anything a device feed (or a gateway forwarding for devices) may send."""


# --------------------------------------------------------------------------- server → client


class Welcome(Tagged, tag="welcome"):
    """The server's answer to a good :class:`Hello`."""

    protocol: int
    server_version: str
    session_token: str
    """Present it as ``Authorization: Bearer …`` to reconnect without the password."""
    user: UserInfo
    head_seq: int
    limits: Limits


class Event(Tagged, tag="event"):
    """One entry of the event log. ``seq`` is global, gap-free and increasing."""

    seq: int
    at: dt.datetime
    kind: str
    """An :class:`~realtime.event_kinds.EventKind` value; a plain ``str`` so that a kind
    newer than this client still decodes (see :mod:`realtime.event_kinds`)."""
    actor: str
    action: AlarmAction | None = None
    note: str = ""
    alarm: AlarmView | None = None
    device: DeviceView | None = None
    geofence: GeofenceView | None = None


class Snapshot(Tagged, tag="snapshot"):
    """The current state, sent instead of a replay to a new console or one too far behind."""

    head_seq: int
    alarms: list[AlarmView]


class Synced(Tagged, tag="synced"):
    """Everything up to ``head_seq`` has been sent; what follows is live."""

    head_seq: int


class UnitsResult(msgspec.Struct, tag="units", kw_only=True):
    units: list[UnitView]


class CamerasResult(msgspec.Struct, tag="cameras", kw_only=True):
    cameras: list[CameraView]


class AlarmResult(msgspec.Struct, tag="alarm", kw_only=True):
    alarm: AlarmView


class HistoryResult(msgspec.Struct, tag="history", kw_only=True):
    events: list[Event]


class ContactResult(msgspec.Struct, tag="contact", kw_only=True):
    alarm_id: int
    caller_name: str
    caller_phone: str


class DevicesResult(msgspec.Struct, tag="devices", kw_only=True):
    devices: list[DeviceView]


class Subscribed(msgspec.Struct, tag="subscribed", kw_only=True):
    topics: list[str]


class TextSent(msgspec.Struct, tag="text_sent", kw_only=True):
    device: str
    acknowledged: bool
    """True when the terminal confirmed receipt (0x0001)."""


class TrackResult(msgspec.Struct, tag="track", kw_only=True):
    device: str
    positions: list[PositionView]
    truncated: bool
    """True when the range held more fixes than ``max_points`` (every n-th was kept)."""


TRACK_COORDINATE_SCALE: Final = 10_000_000
""":class:`TrackColumns` carries latitude and longitude in units of 1e-7 degree (~1 cm)."""


class TrackAlarms(msgspec.Struct, array_like=True):
    """``[index, [alarm, …]]``: the alarms of fix ``index`` of a :class:`TrackColumns`."""

    index: int
    alarms: list[str]


class TrackColumns(msgspec.Struct, tag="track_columns", kw_only=True):
    """A vehicle's track as parallel arrays, element ``i`` of each being fix ``i``, oldest
    first (the answer to ``vehicle.track`` with ``form`` ``columns``).

    Decoding refuses arrays of different lengths, times out of order and fixes named in
    ``alarms`` that do not exist.
    """

    device: str
    t0: AwareDateTime
    """The time of the first fix (the range's start when there is none)."""
    t_ms: list[int]
    """Each fix's time in milliseconds after ``t0``, ascending."""
    lat_e7: list[int]
    """Latitude, WGS-84, in 1e-7 degree (:data:`TRACK_COORDINATE_SCALE`)."""
    lon_e7: list[int]
    """Longitude, WGS-84, in 1e-7 degree."""
    speed_kmh: list[float]
    heading_deg: list[float]
    alarms: list[TrackAlarms] = msgspec.field(default_factory=list)
    """Only the fixes that carry alarms, in index order."""
    truncated: bool = False
    """True when the range held more fixes than ``max_points`` (every n-th was kept)."""
    total: int = 0
    """How many fixes the range held before thinning."""

    def __post_init__(self) -> None:
        # Runs on decode too (msgspec turns the ValueError into a ValidationError).
        count = len(self.t_ms)
        for name in ("lat_e7", "lon_e7", "speed_kmh", "heading_deg"):
            length = len(getattr(self, name))
            if length != count:
                raise ValueError(f"track column {name} has {length} values, not {count}")
        times = self.t_ms
        if times and (times[0] < 0 or not all(map(operator.le, times, times[1:]))):
            raise ValueError("track times must not be before t0 and must ascend")
        if any(not 0 <= entry.index < count for entry in self.alarms):
            raise ValueError("a track alarm names a fix that is not in the track")


class SeriesPoint(msgspec.Struct, array_like=True):
    """``[time, value]``: compact, since a series may hold thousands of points."""

    at: dt.datetime
    value: float


class SeriesResult(msgspec.Struct, tag="series", kw_only=True):
    sensor: str
    unit: str
    source: str
    """``raw`` (readings) or ``rollup`` (five-minute extremes)."""
    downsampled: bool
    points: list[SeriesPoint]


class ThresholdView(msgspec.Struct, kw_only=True):
    """One alarm line of a sensor: trend panels draw it as a band."""

    level: AlarmLevel
    direction: str
    """``high`` (alarm at or above ``value``) or ``low`` (at or below)."""
    value: float
    restore: float
    label: str = ""


class SensorView(msgspec.Struct, kw_only=True):
    """A sensor in the registry with its thresholds."""

    sensor_id: str
    kind: str
    unit: str
    name: str = ""
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    hazard_source: str = ""
    enterprise: str = ""
    poll_cycle_seconds: float = 30.0
    thresholds: list[ThresholdView] = msgspec.field(default_factory=list)


class SensorsResult(msgspec.Struct, tag="sensors", kw_only=True):
    sensors: list[SensorView]


class GeofencesResult(msgspec.Struct, tag="geofences", kw_only=True):
    geofences: list[GeofenceView]


class GeofenceResult(msgspec.Struct, tag="geofence", kw_only=True):
    geofence: GeofenceView
    deleted: bool = False


class Pong(msgspec.Struct, tag="pong", kw_only=True):
    server_time: dt.datetime


ResultData = (
    UnitsResult
    | CamerasResult
    | AlarmResult
    | HistoryResult
    | ContactResult
    | DevicesResult
    | Subscribed
    | TextSent
    | TrackResult
    | TrackColumns
    | SeriesResult
    | SensorsResult
    | GeofencesResult
    | GeofenceResult
    | Pong
)


class Result(Tagged, tag="result"):
    """Success answer to the command with the same ``req``."""

    req: str
    data: ResultData


class Error(Tagged, tag="error"):
    """Failure answer. ``req`` (console) or ``ref`` (device) names the message it answers."""

    code: ErrorCode
    message: str
    req: str | None = None
    ref: str | None = None


class Ack(Tagged, tag="ack"):
    """A device message was durably stored. ``alarm_id`` is set for alarms."""

    ref: str
    alarm_id: int | None = None
    repeated: bool = False


class Telemetry(Tagged, tag="telemetry"):
    """Coalesced live telemetry for subscribed topics: the latest per device or sensor.

    Not part of the event log (no ``seq``): a console that misses one simply shows the
    next, newer one.
    """

    positions: list[PositionView] = msgspec.field(default_factory=list)
    readings: list[ReadingView] = msgspec.field(default_factory=list)


ServerMessage = Welcome | Event | Snapshot | Synced | Result | Error | Ack | Telemetry
"""Anything the server sends."""


# --------------------------------------------------------------------------- codecs

_console_decoder = msgspec.json.Decoder(ConsoleMessage)
_device_decoder = msgspec.json.Decoder(DeviceMessage)
_server_decoder = msgspec.json.Decoder(ServerMessage)
_encoder = msgspec.json.Encoder()


class ProtocolError(Exception):
    """A message that cannot be decoded; ``str()`` says exactly what is wrong."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: msgspec.Struct) -> bytes:
    """Encode any wire message to JSON bytes."""
    return _encoder.encode(message)


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes | str) -> Any:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"invalid message: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # msgspec bounds its own recursion and raises this cleanly: arrays or objects
        # nested deeper than any message of ours is one more bad message, not a crash.
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "not valid JSON: nested too deeply") from exc


def decode_console(data: bytes | str) -> ConsoleMessage:
    """Decode a console message or raise :class:`ProtocolError`."""
    result: ConsoleMessage = _decode(_console_decoder, data)
    return result


def decode_device(data: bytes | str) -> DeviceMessage:
    """Decode a device-feed message or raise :class:`ProtocolError`."""
    result: DeviceMessage = _decode(_device_decoder, data)
    return result


def decode_server(data: bytes | str) -> ServerMessage:
    """Decode a server message or raise :class:`ProtocolError`."""
    result: ServerMessage = _decode(_server_decoder, data)
    return result


def request_id_of(data: bytes | str) -> str | None:
    """Best effort: the ``req`` of a message that failed to decode, so the error can name it."""
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(raw, dict):
        req = raw.get("req", raw.get("ref"))
        if isinstance(req, str):
            return req
    return None
