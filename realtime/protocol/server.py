"""What the server sends: the welcome, the event log (replayed or live), snapshots,
command results, errors, device acknowledgements and coalesced telemetry."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Final

import msgspec

from realtime.protocol.assessment import AssessmentResult
from realtime.protocol.catalogue import CatalogueResult
from realtime.protocol.chat import (
    AttachmentData,
    MessageResult,
    MessageView,
    ReadResult,
    ReceiptView,
    UnreadResult,
    UploadResult,
)
from realtime.protocol.common import AwareDateTime, ErrorCode, Tagged
from realtime.protocol.dangers import (
    DangerExport,
    DangerResult,
    DangersResult,
    DangerStatsResult,
    HiddenDangerView,
    InspectionResult,
    InspectionsResult,
    InspectionView,
)
from realtime.protocol.early_warning import (
    EarlyWarningView,
    ProjectionResult,
    WarningResult,
    WarningsResult,
    WeatherImported,
)
from realtime.protocol.events import RecentWindow
from realtime.protocol.exercises import (
    ExerciseLabel,
    ExerciseResult,
    ExerciseRunView,
    ExerciseScoreResult,
    ExercisesResult,
    RecordingResult,
    RecordingsResult,
)
from realtime.protocol.grid import (
    HandoverResult,
    HandoversResult,
    HandoverView,
    ReportResult,
    ReportsResult,
    RosterResult,
)
from realtime.protocol.incidents import (
    IncidentResult,
    IncidentsResult,
    IncidentView,
    TaskResult,
    TasksResult,
    TaskView,
)
from realtime.protocol.publishing import (
    InboxItem,
    InboxResult,
    NoticeDetail,
    NoticeResult,
    NoticesResult,
    NoticeView,
)
from realtime.protocol.registry import (
    ChecklistResult,
    ChecklistView,
    DecisionSupport,
    Recommendation,
    RegistryChangeView,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemResult,
    RegistryItemView,
    RegistryResult,
)
from realtime.protocol.roads import RoadsResult
from realtime.protocol.vehicle_commands import VehicleCommandResult, VehicleCommandView
from realtime.protocol.views import (
    AgencyView,
    AlarmView,
    CameraView,
    ContactField,
    DeviceView,
    GeofenceView,
    GrantView,
    Limits,
    PositionView,
    ReadingView,
    SessionView,
    UnitView,
    UserInfo,
)
from realtime.states import AlarmAction, AlarmLevel


class Welcome(Tagged, tag="welcome"):
    """The server's answer to a good :class:`~realtime.protocol.Hello`."""

    protocol: int
    server_version: str
    session_token: str
    """Present it as ``Authorization: Bearer …`` to reconnect without the password."""
    user: UserInfo
    head_seq: int
    limits: Limits
    exercise: ExerciseLabel | None = None
    """Set on an exercise's connection (:mod:`realtime.protocol.exercises`): everything on
    it is a drill, and the console says so on every view."""


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
    fields: list[str] = msgspec.field(default_factory=list)
    """For ``contact.revealed`` (and ``contact.reveal_refused``): which protected fields were
    asked for. Never their values; ``note`` carries the reason given. For
    ``incident.checklist_ticked``: the id of the step ticked or unticked (its state is in
    ``checklist``)."""
    grant: GrantView | None = None
    """A share granted or revoked (``grant.alarm_shared`` … ``grant.camera_unshared``)."""
    # Left out of the JSON unless set (msgspec.UNSET), so every event that is not about an
    # incident encodes byte for byte as before and older consoles keep decoding it.
    incident: IncidentView | msgspec.UnsetType = msgspec.UNSET
    """The incident an ``incident.*`` event is about, as it is after the change."""
    task: TaskView | msgspec.UnsetType = msgspec.UNSET
    """The task a ``task.*`` event is about, as it is after the change."""
    message: MessageView | msgspec.UnsetType = msgspec.UNSET
    """The message of an ``incident.message`` event (the actor is its author)."""
    receipt: ReceiptView | msgspec.UnsetType = msgspec.UNSET
    """The read receipt of an ``incident.message_read`` event."""
    handover: HandoverView | msgspec.UnsetType = msgspec.UNSET
    """The handover a ``handover.*`` event is about (without its items)."""
    registry_item: RegistryItemView | msgspec.UnsetType = msgspec.UNSET
    """The item a ``registry.changed`` event is about, as it is after the change (contacts
    masked)."""
    registry_change: RegistryChangeView | msgspec.UnsetType = msgspec.UNSET
    """What a ``registry.changed`` event changed (before, after, the fields)."""
    checklist: ChecklistView | msgspec.UnsetType = msgspec.UNSET
    """The checklist an ``incident.checklist_ticked`` event changed, after the tick (the
    event's ``incident`` is the incident)."""
    exercise: ExerciseLabel | msgspec.UnsetType = msgspec.UNSET
    """Set on every event of an exercise (its own log, its own ``seq``): a drill's event."""
    exercise_run: ExerciseRunView | msgspec.UnsetType = msgspec.UNSET
    """The run an ``exercise.*`` life-cycle event of the live log is about."""
    early_warning: EarlyWarningView | msgspec.UnsetType = msgspec.UNSET
    """The warning a ``warning.*`` event is about, as it is after the change."""
    notice: NoticeView | msgspec.UnsetType = msgspec.UNSET
    """The notice a ``notice.*`` event is about (the staff of its area get this)."""
    inbox: InboxItem | msgspec.UnsetType = msgspec.UNSET
    """A ``notice.published``/``notice.cancelled`` event as a recipient (an enterprise's or
    agency's console) gets it: the notice without its workflow (``notice`` left out)."""
    danger: HiddenDangerView | msgspec.UnsetType = msgspec.UNSET
    """The hidden danger a ``danger.*`` event is about, as it is after the change."""
    inspection: InspectionView | msgspec.UnsetType = msgspec.UNSET
    """The inspection an ``inspection.recorded`` event is about."""
    vehicle_command: VehicleCommandView | msgspec.UnsetType = msgspec.UNSET
    """The order of a ``vehicle.command`` event and the terminal's answer."""


class Snapshot(Tagged, tag="snapshot"):
    """The current state, sent instead of a replay to a new console or one too far behind."""

    head_seq: int
    alarms: list[AlarmView]
    exercise: ExerciseLabel | msgspec.UnsetType = msgspec.UNSET
    """Set when the snapshot is an exercise's."""


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
    """The protected fields asked for, in full; those not asked for are empty."""

    alarm_id: int
    caller_name: str
    caller_phone: str
    caller_address: str = ""
    sensitive_note: str = ""
    fields: list[ContactField] = msgspec.field(default_factory=list)
    """The fields revealed (so an empty value means "none recorded", not "not asked")."""


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


class AgenciesResult(msgspec.Struct, tag="agencies", kw_only=True):
    agencies: list[AgencyView]


class GrantResult(msgspec.Struct, tag="grant", kw_only=True):
    grant: GrantView


class GrantsResult(msgspec.Struct, tag="grants", kw_only=True):
    grants: list[GrantView]


class Pong(msgspec.Struct, tag="pong", kw_only=True):
    server_time: dt.datetime


class SessionsResult(msgspec.Struct, tag="sessions", kw_only=True):
    """Every open session, oldest first."""

    sessions: list[SessionView]


class SessionUnlocked(msgspec.Struct, tag="unlocked", kw_only=True):
    """The lock screen may go: the password (and code) were right."""


class TimelineResult(msgspec.Struct, tag="timeline", kw_only=True):
    """An incident's timeline, oldest first: the events about it the user may see, as in
    the live stream (so ``seq`` orders and resumes it)."""

    incident_id: int
    events: list[Event]


class RecentEventsResult(msgspec.Struct, tag="recent_events", kw_only=True):
    """The answer to ``events.recent`` (:mod:`realtime.protocol.events`): the events the
    user may see since ``since``, oldest first, filtered as the live stream is."""

    since: dt.datetime
    """Where the window started."""
    window: RecentWindow
    """What decided ``since``: the user's shift, the default hours, or the request."""
    events: list[Event]
    more: bool = False
    """Older events of the window were left out (the limit was reached)."""


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
    | SessionUnlocked
    | SessionsResult
    | GeofencesResult
    | GeofenceResult
    | AgenciesResult
    | GrantResult
    | GrantsResult
    | Pong
    | IncidentResult
    | IncidentsResult
    | TaskResult
    | TasksResult
    | TimelineResult
    | MessageResult
    | ReadResult
    | UnreadResult
    | UploadResult
    | AttachmentData
    | ReportResult
    | ReportsResult
    | HandoverResult
    | HandoversResult
    | RosterResult
    | AssessmentResult
    | CatalogueResult
    | RegistryResult
    | RegistryItemResult
    | RegistryHistoryResult
    | RegistryContactResult
    | ChecklistResult
    | Recommendation
    | DecisionSupport
    | RoadsResult
    | RecentEventsResult
    | RecordingsResult
    | RecordingResult
    | ExerciseResult
    | ExercisesResult
    | ExerciseScoreResult
    | WarningsResult
    | WarningResult
    | ProjectionResult
    | WeatherImported
    | NoticeResult
    | NoticesResult
    | NoticeDetail
    | InboxResult
    | DangerResult
    | DangersResult
    | InspectionResult
    | InspectionsResult
    | DangerStatsResult
    | DangerExport
    | VehicleCommandResult
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
    exercise: ExerciseLabel | msgspec.UnsetType = msgspec.UNSET
    """Set when the telemetry is an exercise's (replayed devices)."""


ServerMessage = Welcome | Event | Snapshot | Synced | Result | Error | Ack | Telemetry
"""Anything the server sends."""
