"""How the server shows things to consoles: users, alarms, devices, positions, readings,
units, cameras and geofences. Messages in both directions carry these views."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Literal

import msgspec

from realtime.protocol.common import AwareDateTime, Latitude, Longitude, Role
from realtime.states import AlarmLevel, AlarmState


class UserInfo(msgspec.Struct, kw_only=True):
    """Who is logged in, as the server sees them."""

    username: str
    display_name: str
    role: Role
    agency: str | None = None
    jurisdiction: str = ""
    """Region code prefix (e.g. ``330102``); empty means the whole area."""
    # Left out of the JSON unless set, so every other user's welcome encodes as before.
    enterprise: str | msgspec.UnsetType = msgspec.UNSET
    """For the ``enterprise`` role: the registry code of the user's enterprise."""


class SessionView(msgspec.Struct, kw_only=True):
    """One open session: who, where from, with what, since when."""

    id: int
    username: str
    kind: str
    """``console`` or ``device``."""
    remote: str
    """``host:port`` of the peer."""
    client: str
    """The client's name and version."""
    started_at: AwareDateTime
    last_seen_at: AwareDateTime
    expires_at: AwareDateTime | None = None
    stale: bool = False
    """Not seen for five minutes: its server probably stopped without closing it."""


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


class ContactField(enum.StrEnum):
    """A protected personal field of an alarm: stored encrypted, sent masked, shown in full
    only by an audited ``alarm.reveal_contact``."""

    CALLER_NAME = "caller_name"
    CALLER_PHONE = "caller_phone"
    CALLER_ADDRESS = "caller_address"
    SENSITIVE_NOTE = "sensitive_note"


class AlarmView(msgspec.Struct, kw_only=True):
    """An alarm as consoles see it.

    The caller's name, number and address and the sensitive note are always masked here
    (``张*``, ``138****5678``, ``杭州市西湖区文三路****``, ``〔敏感内容，需授权查看〕``),
    for every role: the full values travel only in a :class:`ContactResult` answer to the
    one console that asked, with a reason, and the asking is in the event log.
    """

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
    caller_address: str = ""
    sensitive_note: str = ""
    """A placeholder when the alarm carries a sensitive note, else empty."""
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
    shared_with: list[str] = msgspec.field(default_factory=list)
    """Agencies the alarm is explicitly shared with (``alarm.share``), besides those of the
    units dispatched to it: their desks see it too."""


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
    jurisdiction: str = ""
    """Where the device is, as far as the server knows (a vehicle: its latest fix; a
    sensor device: its sensors); "" if unplaced, which only whole-area users see."""


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
    jurisdiction: str = ""
    """The jurisdiction the fix lies in (the deepest that contains it; "" if unplaced):
    what scoped consoles are filtered by."""


class ReadingView(msgspec.Struct, kw_only=True):
    """The latest value of one sensor."""

    device: str
    sensor: str
    at: dt.datetime
    value: float
    unit: str = ""
    jurisdiction: str = ""
    """The jurisdiction the sensor stands in ("" if unplaced): what scoped consoles are
    filtered by."""


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


class AgencyView(msgspec.Struct, kw_only=True):
    """An agency (消防救援, 公安, …): consoles show its name instead of its code."""

    code: str
    name_zh: str
    name_en: str = ""
    kind: str = ""
    active: bool = True


class GrantView(msgspec.Struct, kw_only=True):
    """An explicit share across scopes: an alarm, or a camera for an alarm, shared with an
    agency. Granting and revoking are event-log events (``grant`` of the event)."""

    id: int
    kind: Literal["alarm", "camera"]
    alarm_id: int
    agency: str
    jurisdiction: str = ""
    """The alarm's jurisdiction: who sees the grant (besides the agency's desks)."""
    camera: str = ""
    """The camera's code (camera grants)."""
    by: str
    at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked: bool = False
    """True in the event that records the revocation."""


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
