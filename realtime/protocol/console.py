"""What a console sends: :class:`Hello`, then commands, each answered by a
:class:`~realtime.protocol.Result` or an :class:`~realtime.protocol.Error` with the same
``req``."""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.assessment import GetAssessment
from realtime.protocol.catalogue import GetCatalogue
from realtime.protocol.chat import (
    GetAttachment,
    ListUnread,
    MarkRead,
    PostMessage,
    UploadAttachment,
)
from realtime.protocol.common import (
    AwareDateTime,
    JurisdictionCode,
    Latitude,
    Longitude,
    LongText,
    ShortText,
    Tagged,
)
from realtime.protocol.dangers import (
    ActOnDanger,
    ExportDangers,
    GetDanger,
    GetDangerStats,
    ListDangers,
    ListInspections,
    RecordInspection,
    ReportDanger,
)
from realtime.protocol.early_warning import ActOnWarning, GetProjection, ImportWeather, ListWarnings
from realtime.protocol.events import RecentEvents
from realtime.protocol.exercises import (
    ControlExercise,
    GetExerciseScore,
    InjectEvent,
    ListExercises,
    ListRecordings,
    RecordWindow,
    StartExercise,
    StopExercise,
)
from realtime.protocol.grid import (
    AcceptHandover,
    DraftHandover,
    GetHandover,
    ListHandovers,
    ListMyReports,
    ReportIncident,
    RosterToday,
    SignHandover,
)
from realtime.protocol.incidents import (
    ActOnTask,
    AnswerSupervision,
    AttachAlarm,
    ChangeIncident,
    GetIncident,
    GetIncidentTimeline,
    ListIncidents,
    ListTasks,
    OpenIncident,
    SendTask,
    SetTaskDeadlines,
    SuperviseTask,
    TransitionIncident,
)
from realtime.protocol.publishing import (
    ApproveNotice,
    CancelNotice,
    GetNotice,
    ListInbox,
    ListNotices,
    MarkNoticeRead,
    RejectNotice,
    SaveNotice,
    SubmitNotice,
)
from realtime.protocol.registry import (
    GetChecklist,
    GetRegistryHistory,
    GetRegistryItem,
    ListRegistry,
    Recommend,
    RetireRegistryItem,
    RevealRegistryContact,
    SaveRegistryItem,
    SupportRequest,
    TickStep,
)
from realtime.protocol.roads import GetRoads
from realtime.protocol.vehicle_commands import ConfirmVehicleCommand, SendVehicleCommand
from realtime.protocol.views import ContactField, GeofenceKind, GeofenceShape
from realtime.states import AlarmAction, AlarmLevel


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
    jurisdiction: JurisdictionCode = ""
    caller_name: str = ""
    caller_phone: str = ""
    caller_address: ShortText = ""
    """Where the caller (the reporter) is, when it matters: stored encrypted, shown masked."""
    sensitive_note: LongText = ""
    """Sensitive personal facts (a person under special care, a health status): stored
    encrypted; views carry only a placeholder."""
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
    """Ask for protected personal fields of an alarm in full, saying why.

    Allowed to the command centre in its area and to an agency desk for an alarm
    dispatched to its agency; limited per user and hour; every reveal (and a refusal for
    the limit) is an event naming who, when, why and which fields, never their values.
    """

    req: str
    alarm_id: int
    reason: ShortText
    """Why (required, at most 200 characters): it goes into the audit trail."""
    fields: list[ContactField] = msgspec.field(default_factory=list)
    """Which fields; empty means the caller's name and number (what this command returned
    before it took ``fields``)."""


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
    """A :class:`~realtime.protocol.TrackResult`: one
    :class:`~realtime.protocol.PositionView` per fix (the original form)."""
    COLUMNS = "columns"
    """A :class:`~realtime.protocol.TrackColumns`: parallel arrays, about a quarter of the
    size and far cheaper to encode and decode (consoles use this)."""


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


class ListAgencies(Tagged, tag="agencies.list"):
    """Ask for the agencies (codes and names), to show 消防救援 instead of ``fire``."""

    req: str


class ShareAlarm(Tagged, tag="alarm.share"):
    """Share an alarm with an agency that has no unit dispatched to it (its desks then see
    the alarm). Audited: the grant is an event."""

    req: str
    alarm_id: int
    agency: str
    note: LongText = ""


class UnshareAlarm(Tagged, tag="alarm.unshare"):
    """Revoke an alarm's share with an agency (dispatched units still share it)."""

    req: str
    alarm_id: int
    agency: str
    note: LongText = ""


class ShareCamera(Tagged, tag="camera.share"):
    """Let an agency watch a camera while it works an alarm; the grant ends when revoked,
    when it expires, or when the alarm closes. Audited."""

    req: str
    camera: str
    """The camera's code."""
    agency: str
    alarm_id: int
    expires_at: AwareDateTime | None = None
    note: LongText = ""


class UnshareCamera(Tagged, tag="camera.unshare"):
    """Revoke a camera's share with an agency for an alarm."""

    req: str
    camera: str
    agency: str
    alarm_id: int
    note: LongText = ""


class ListGrants(Tagged, tag="grants.list"):
    """Ask for the shares in force that this user may see (those of its agency, or of
    the alarms in its area)."""

    req: str


class Ping(Tagged, tag="ping"):
    """Application-level round trip (WebSocket pings keep the link alive on their own)."""

    req: str


class UnlockSession(Tagged, tag="session.unlock"):
    """Unlock a console locked after idle: the user's password (and TOTP code when the
    user has a second factor). Five wrong tries end the session."""

    req: str
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    totp: Annotated[str, msgspec.Meta(max_length=16)] = ""


class ListSessions(Tagged, tag="sessions.list"):
    """Who is logged in where (administrators): the open sessions of users of their area."""

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
    | UnlockSession
    | ListSessions
    | ListSensors
    | ListGeofences
    | SaveGeofence
    | DeleteGeofence
    | ListAgencies
    | ShareAlarm
    | UnshareAlarm
    | ShareCamera
    | UnshareCamera
    | ListGrants
    | Ping
    | OpenIncident
    | AttachAlarm
    | TransitionIncident
    | ChangeIncident
    | GetIncident
    | GetIncidentTimeline
    | ListIncidents
    | SendTask
    | ActOnTask
    | SetTaskDeadlines
    | SuperviseTask
    | AnswerSupervision
    | ListTasks
    | PostMessage
    | MarkRead
    | ListUnread
    | UploadAttachment
    | GetAttachment
    | ReportIncident
    | ListMyReports
    | DraftHandover
    | SignHandover
    | AcceptHandover
    | ListHandovers
    | GetHandover
    | RosterToday
    | GetAssessment
    | GetCatalogue
    | ListRegistry
    | GetRegistryItem
    | SaveRegistryItem
    | RetireRegistryItem
    | GetRegistryHistory
    | RevealRegistryContact
    | GetChecklist
    | TickStep
    | Recommend
    | SupportRequest
    | GetRoads
    | RecentEvents
    | ListRecordings
    | StartExercise
    | ListExercises
    | ControlExercise
    | InjectEvent
    | StopExercise
    | GetExerciseScore
    | RecordWindow
    | ListWarnings
    | ActOnWarning
    | GetProjection
    | ImportWeather
    | SaveNotice
    | SubmitNotice
    | ApproveNotice
    | RejectNotice
    | CancelNotice
    | ListNotices
    | GetNotice
    | ListInbox
    | MarkNoticeRead
    | ReportDanger
    | ActOnDanger
    | ListDangers
    | GetDanger
    | RecordInspection
    | ListInspections
    | GetDangerStats
    | ExportDangers
    | SendVehicleCommand
    | ConfirmVehicleCommand
)
"""Console messages that expect a :class:`~realtime.protocol.Result` or an
:class:`~realtime.protocol.Error` with the same ``req``."""

ConsoleMessage = Hello | Command
"""Anything a console may send."""
