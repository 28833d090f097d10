"""The command table: every console command and device message the server accepts, in
one place, each with its handler, the permission it needs and its request and response
types; and the one error mapping every handler's outcome goes through.

To add a command: define its request and result in :mod:`realtime.protocol`, write the
handler in :mod:`backend.server.handlers` (or :mod:`backend.server.incident_handlers`,
:mod:`backend.server.device_handlers`),
name a :class:`~backend.authz.policy.Permission` (adding it to the permission table if it
is new) and add one row below. A test checks that every command of the protocol has a row.

Error mapping, for every handler alike: a :class:`backend.errors.Error` becomes an
``error`` with its code and message; a database failure becomes ``internal`` ("not
applied, try again"); anything else becomes ``internal`` for that request and is logged
once with its traceback, and the session goes on.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import policy as authz
from backend.authz.policy import Permission
from backend.errors import Error as Refusal
from backend.runtime.episodes import EpisodeLog
from backend.server import (
    assessment_handlers,
    catalogue_handlers,
    chat_handlers,
    danger_handlers,
    decision_handlers,
    device_handlers,
    event_handlers,
    exercise_handlers,
    exercise_record_handlers,
    grid_handlers,
    handlers,
    incident_handlers,
    plan_handlers,
    publishing_handlers,
    recommend_handlers,
    registry_handlers,
    road_handlers,
    score_handlers,
    vehicle_command_handlers,
    warning_handlers,
)
from backend.server.device_handlers import DeviceContext
from backend.server.handlers import ConsoleContext
from backend.storage import answers, db
from realtime.protocol import (
    AcceptHandover,
    Ack,
    ActOnTask,
    ActOnWarning,
    AgenciesResult,
    AlarmResult,
    AnswerSupervision,
    ApproveNotice,
    AssessmentResult,
    AttachAlarm,
    AttachmentData,
    CamerasResult,
    CancelNotice,
    CatalogueResult,
    ChangeIncident,
    ChecklistResult,
    Command,
    ConfirmVehicleCommand,
    ContactResult,
    ControlExercise,
    CreateAlarm,
    DecisionSupport,
    DeleteGeofence,
    DeviceAlarm,
    DeviceMessage,
    DevicePosition,
    DeviceReading,
    DevicesResult,
    DeviceStatus,
    DispatchAlarm,
    DraftHandover,
    Error,
    ErrorCode,
    ExerciseResult,
    ExerciseScoreResult,
    ExercisesResult,
    GeofenceResult,
    GeofencesResult,
    GetAlarmHistory,
    GetAssessment,
    GetAttachment,
    GetCatalogue,
    GetChecklist,
    GetExerciseScore,
    GetHandover,
    GetIncident,
    GetIncidentTimeline,
    GetNotice,
    GetProjection,
    GetRegistryHistory,
    GetRegistryItem,
    GetRoads,
    GetSeries,
    GetTrack,
    GrantResult,
    GrantsResult,
    HandoverResult,
    HandoversResult,
    HistoryResult,
    ImportWeather,
    InboxResult,
    IncidentResult,
    IncidentsResult,
    InjectEvent,
    ListAgencies,
    ListCameras,
    ListDevices,
    ListExercises,
    ListGeofences,
    ListGrants,
    ListHandovers,
    ListInbox,
    ListIncidents,
    ListMyReports,
    ListNotices,
    ListRecordings,
    ListRegistry,
    ListSensors,
    ListSessions,
    ListTasks,
    ListUnits,
    ListUnread,
    ListWarnings,
    MarkNoticeRead,
    MarkRead,
    MessageResult,
    NoticeDetail,
    NoticeResult,
    NoticesResult,
    OpenIncident,
    Ping,
    Pong,
    PostMessage,
    ProjectionResult,
    ReadResult,
    RecentEvents,
    RecentEventsResult,
    Recommend,
    Recommendation,
    RecordingResult,
    RecordingsResult,
    RecordWindow,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemResult,
    RegistryResult,
    RejectNotice,
    ReportIncident,
    ReportResult,
    ReportsResult,
    Result,
    RetireRegistryItem,
    RevealContact,
    RevealRegistryContact,
    RoadsResult,
    RosterResult,
    RosterToday,
    SaveGeofence,
    SaveNotice,
    SaveRegistryItem,
    SendTask,
    SendText,
    SendVehicleCommand,
    SensorsResult,
    SeriesResult,
    SessionsResult,
    SessionUnlocked,
    SetTaskDeadlines,
    ShareAlarm,
    ShareCamera,
    SignHandover,
    StartExercise,
    StopExercise,
    SubmitNotice,
    Subscribe,
    Subscribed,
    SuperviseTask,
    SupportRequest,
    TaskResult,
    TasksResult,
    TextSent,
    TickStep,
    TimelineResult,
    TrackColumns,
    TrackResult,
    TransitionAlarm,
    TransitionIncident,
    UnitsResult,
    UnlockSession,
    UnreadResult,
    UnshareAlarm,
    UnshareCamera,
    UploadAttachment,
    UploadResult,
    VehicleCommandResult,
    WarningResult,
    WarningsResult,
    WeatherImported,
    decode_server,
    encode,
)
from realtime.protocol import (
    DeviceAlarmRaised as DeviceAlarmRaisedMessage,
)
from realtime.protocol.dangers import (
    ActOnDanger,
    DangerExport,
    DangerResult,
    DangersResult,
    DangerStatsResult,
    ExportDangers,
    GetDanger,
    GetDangerStats,
    InspectionResult,
    InspectionsResult,
    ListDangers,
    ListInspections,
    RecordInspection,
    ReportDanger,
)

logger = logging.getLogger(__name__)

ANSWER_MEMORY = 10_000
"""How many recent answers of state-changing commands are kept to absorb re-sends."""
STORAGE_FAILED = "the database failed; the command was not applied, try again"
SERVER_FAILED = "the server failed on this request (logged there); try again"
ANSWER_LOST = (
    "this command was applied already, by a server that stopped before it answered: "
    "reload to see its outcome"
)
PRUNE_EVERY = 600.0
"""Seconds between prunes of the answers kept in the database."""

_C = TypeVar("_C")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Route(Generic[_C, _R]):
    """One row of the command table."""

    request: type[_C]
    """The message type (a tagged struct of :mod:`realtime.protocol`)."""
    responses: tuple[type[Any], ...]
    """What a successful answer carries."""
    permission: Permission
    """The capability the sender's role must hold; its row in the permission table also
    states the scope rule, which the handler (or its service) applies to every object."""
    handler: Callable[[Any, _C], Awaitable[_R]]
    """What the command does."""
    remember_answer: bool = False
    """State-changing and not idempotent by itself: a re-send with the same ``req`` (after
    a reconnect lost the answer) gets the first answer instead of acting twice."""
    waits_on_terminal: bool = False
    """Waits for a vehicle terminal's answer (up to its reply timeout): the console runs it
    beside its other commands, so an alarm's acknowledgement is not held behind it."""


def _table(*routes: Route[Any, Any]) -> Mapping[type[Any], Route[Any, Any]]:
    table: dict[type[Any], Route[Any, Any]] = {}
    for route in routes:
        if route.request in table:
            raise ValueError(f"{route.request.__name__} has two routes")
        table[route.request] = route
    return table


CONSOLE_COMMANDS: Mapping[type[Any], Route[Any, Any]] = _table(
    # alarms (create is made idempotent by the alarm service: the req is its client ref)
    Route(CreateAlarm, (AlarmResult,), Permission.ENTER_ALARMS, handlers.create_alarm),
    Route(
        TransitionAlarm,
        (AlarmResult,),
        Permission.WORK_ALARMS,
        handlers.transition_alarm,
        remember_answer=True,
    ),
    Route(
        DispatchAlarm,
        (AlarmResult,),
        Permission.DISPATCH_UNITS,
        handlers.dispatch_alarm,
        remember_answer=True,
    ),
    Route(GetAlarmHistory, (HistoryResult,), Permission.SEE_ALARM_HISTORY, handlers.alarm_history),
    Route(RevealContact, (ContactResult,), Permission.REVEAL_CONTACT, handlers.reveal_contact),
    # grants: the only way data crosses a scope (each an audited event)
    Route(
        ShareAlarm,
        (AlarmResult,),
        Permission.SHARE_ALARMS,
        handlers.share_alarm,
        remember_answer=True,
    ),
    Route(
        UnshareAlarm,
        (AlarmResult,),
        Permission.SHARE_ALARMS,
        handlers.unshare_alarm,
        remember_answer=True,
    ),
    Route(
        ShareCamera,
        (GrantResult,),
        Permission.SHARE_CAMERAS,
        handlers.share_camera,
        remember_answer=True,
    ),
    Route(
        UnshareCamera,
        (GrantResult,),
        Permission.SHARE_CAMERAS,
        handlers.unshare_camera,
        remember_answer=True,
    ),
    Route(ListGrants, (GrantsResult,), Permission.SEE_GRANTS, handlers.list_grants),
    # registry
    Route(ListAgencies, (AgenciesResult,), Permission.SEE_AGENCIES, handlers.list_agencies),
    Route(ListUnits, (UnitsResult,), Permission.SEE_UNITS, handlers.list_units),
    Route(ListCameras, (CamerasResult,), Permission.SEE_CAMERAS, handlers.list_cameras),
    Route(ListDevices, (DevicesResult,), Permission.SEE_DEVICES, handlers.list_devices),
    Route(ListSensors, (SensorsResult,), Permission.SEE_SENSORS, handlers.list_sensors),
    # live stream
    Route(Subscribe, (Subscribed,), Permission.SUBSCRIBE, handlers.subscribe),
    Route(Ping, (Pong,), Permission.PING, handlers.ping),
    Route(UnlockSession, (SessionUnlocked,), Permission.UNLOCK_SESSION, handlers.unlock_session),
    Route(ListSessions, (SessionsResult,), Permission.SEE_SESSIONS, handlers.list_sessions),
    # sensors
    Route(GetSeries, (SeriesResult,), Permission.READ_SENSOR_HISTORY, handlers.sensor_series),
    # vehicles
    Route(GetTrack, (TrackResult, TrackColumns), Permission.REPLAY_TRACKS, handlers.vehicle_track),
    Route(
        SendText,
        (TextSent,),
        Permission.SEND_TEXT,
        vehicle_command_handlers.send_text,
        waits_on_terminal=True,
    ),
    # Orders act on the vehicle (a call, the doors) and a token is used once: a re-send
    # gets the first answer.
    Route(
        SendVehicleCommand,
        (VehicleCommandResult,),
        Permission.QUERY_VEHICLES,
        vehicle_command_handlers.send_command,
        remember_answer=True,
        waits_on_terminal=True,
    ),
    Route(
        ConfirmVehicleCommand,
        (VehicleCommandResult,),
        Permission.CONTROL_VEHICLES,
        vehicle_command_handlers.confirm_command,
        remember_answer=True,
        waits_on_terminal=True,
    ),
    Route(ListGeofences, (GeofencesResult,), Permission.SEE_GEOFENCES, handlers.list_geofences),
    Route(
        SaveGeofence,
        (GeofenceResult,),
        Permission.EDIT_GEOFENCES,
        handlers.save_geofence,
        remember_answer=True,
    ),
    Route(
        DeleteGeofence,
        (GeofenceResult,),
        Permission.DELETE_GEOFENCES,
        handlers.delete_geofence,
        remember_answer=True,
    ),
    # incidents and tasks (every change is remembered: a re-send is answered, not repeated)
    Route(
        OpenIncident,
        (IncidentResult,),
        Permission.OPEN_INCIDENTS,
        incident_handlers.open_incident,
        remember_answer=True,
    ),
    Route(
        AttachAlarm,
        (IncidentResult,),
        Permission.COMMAND_INCIDENTS,
        incident_handlers.attach_alarm,
        remember_answer=True,
    ),
    Route(
        TransitionIncident,
        (IncidentResult,),
        Permission.COMMAND_INCIDENTS,
        incident_handlers.transition_incident,
        remember_answer=True,
    ),
    Route(
        ChangeIncident,
        (IncidentResult,),
        Permission.COMMAND_INCIDENTS,
        incident_handlers.change_incident,
        remember_answer=True,
    ),
    Route(GetIncident, (IncidentResult,), Permission.SEE_INCIDENTS, incident_handlers.get_incident),
    Route(
        GetIncidentTimeline,
        (TimelineResult,),
        Permission.SEE_INCIDENTS,
        incident_handlers.incident_timeline,
    ),
    Route(
        ListIncidents,
        (IncidentsResult,),
        Permission.SEE_INCIDENTS,
        incident_handlers.list_incidents,
    ),
    Route(
        SendTask,
        (TaskResult,),
        Permission.SEND_TASKS,
        incident_handlers.send_task,
        remember_answer=True,
    ),
    Route(
        ActOnTask,
        (TaskResult,),
        Permission.WORK_TASKS,
        incident_handlers.act_on_task,
        remember_answer=True,
    ),
    Route(
        SetTaskDeadlines,
        (TaskResult,),
        Permission.SEND_TASKS,
        incident_handlers.set_task_deadlines,
        remember_answer=True,
    ),
    Route(
        SuperviseTask,
        (TaskResult,),
        Permission.SUPERVISE_TASKS,
        incident_handlers.supervise_task,
        remember_answer=True,
    ),
    Route(
        AnswerSupervision,
        (TaskResult,),
        Permission.WORK_TASKS,
        incident_handlers.answer_supervision,
        remember_answer=True,
    ),
    Route(ListTasks, (TasksResult,), Permission.SEE_TASKS, incident_handlers.list_tasks),
    # incident chat (a re-sent post gets the first answer, not a second message)
    Route(
        PostMessage,
        (MessageResult,),
        Permission.POST_MESSAGES,
        chat_handlers.post_message,
        remember_answer=True,
    ),
    Route(MarkRead, (ReadResult,), Permission.READ_MESSAGES, chat_handlers.mark_read),
    Route(ListUnread, (UnreadResult,), Permission.READ_MESSAGES, chat_handlers.list_unread),
    # A re-sent chunk is recognised by the store (no answer memory: 160 chunks per 5 MiB).
    Route(
        UploadAttachment,
        (UploadResult,),
        Permission.UPLOAD_ATTACHMENTS,
        chat_handlers.upload_attachment,
    ),
    Route(
        GetAttachment,
        (AttachmentData,),
        Permission.READ_ATTACHMENTS,
        chat_handlers.get_attachment,
    ),
    Route(
        GetCatalogue, (CatalogueResult,), Permission.SEE_CATALOGUE, catalogue_handlers.get_catalogue
    ),
    # grid reports, shift handover, duty roster
    Route(
        ReportIncident,
        (ReportResult,),
        Permission.REPORT_EVENTS,
        grid_handlers.report_incident,
        remember_answer=True,
    ),
    Route(ListMyReports, (ReportsResult,), Permission.SEE_OWN_REPORTS, grid_handlers.my_reports),
    Route(
        DraftHandover,
        (HandoverResult,),
        Permission.HAND_OVER,
        grid_handlers.draft_handover,
        remember_answer=True,
    ),
    Route(
        SignHandover,
        (HandoverResult,),
        Permission.HAND_OVER,
        grid_handlers.sign_handover,
        remember_answer=True,
    ),
    Route(
        AcceptHandover,
        (HandoverResult,),
        Permission.ACCEPT_HANDOVER,
        grid_handlers.accept_handover,
        remember_answer=True,
    ),
    Route(
        ListHandovers, (HandoversResult,), Permission.SEE_HANDOVERS, grid_handlers.list_handovers
    ),
    Route(GetHandover, (HandoverResult,), Permission.SEE_HANDOVERS, grid_handlers.get_handover),
    Route(RosterToday, (RosterResult,), Permission.SEE_ROSTER, grid_handlers.roster_today),
    # the event log at login
    Route(
        RecentEvents,
        (RecentEventsResult,),
        Permission.SEE_RECENT_EVENTS,
        event_handlers.recent_events,
    ),
    # the registry (台账): every change is remembered (a re-send is answered, not repeated)
    Route(
        ListRegistry, (RegistryResult,), Permission.SEE_REGISTRY, registry_handlers.list_registry
    ),
    Route(
        GetRegistryItem, (RegistryItemResult,), Permission.SEE_REGISTRY, registry_handlers.get_item
    ),
    Route(
        SaveRegistryItem,
        (RegistryItemResult,),
        Permission.EDIT_REGISTRY,
        registry_handlers.save_item,
        remember_answer=True,
    ),
    Route(
        RetireRegistryItem,
        (RegistryItemResult,),
        Permission.EDIT_REGISTRY,
        registry_handlers.retire_item,
        remember_answer=True,
    ),
    Route(
        GetRegistryHistory,
        (RegistryHistoryResult,),
        Permission.SEE_REGISTRY,
        registry_handlers.item_history,
    ),
    Route(
        RevealRegistryContact,
        (RegistryContactResult,),
        Permission.REVEAL_REGISTRY_CONTACT,
        registry_handlers.reveal_contacts,
    ),
    # decision support over the registry
    Route(Recommend, (Recommendation,), Permission.RECOMMEND, recommend_handlers.recommend),
    # reports
    Route(
        GetAssessment,
        (AssessmentResult,),
        Permission.SEE_ASSESSMENT,
        assessment_handlers.assessment,
    ),
    # emergency plans in incidents
    Route(GetChecklist, (ChecklistResult,), Permission.SEE_CHECKLIST, plan_handlers.get_checklist),
    Route(
        TickStep,
        (ChecklistResult,),
        Permission.TICK_CHECKLIST,
        plan_handlers.tick_step,
        remember_answer=True,
    ),
    # decision support (reads only)
    Route(
        SupportRequest,
        (DecisionSupport,),
        Permission.DECISION_SUPPORT,
        decision_handlers.decision_support,
    ),
    # the road layer of the map
    Route(GetRoads, (RoadsResult,), Permission.SEE_BASEMAP, road_handlers.get_roads),
    # exercises (演练), steered on the live connection
    Route(
        ListRecordings,
        (RecordingsResult,),
        Permission.SEE_EXERCISES,
        exercise_handlers.list_recordings,
    ),
    Route(
        ListExercises,
        (ExercisesResult,),
        Permission.SEE_EXERCISES,
        exercise_handlers.list_exercises,
    ),
    Route(
        StartExercise,
        (ExerciseResult,),
        Permission.RUN_EXERCISES,
        exercise_handlers.start_exercise,
        remember_answer=True,
    ),
    Route(
        ControlExercise,
        (ExerciseResult,),
        Permission.RUN_EXERCISES,
        exercise_handlers.control_exercise,
        remember_answer=True,
    ),
    Route(
        InjectEvent,
        (ExerciseResult,),
        Permission.RUN_EXERCISES,
        exercise_handlers.inject_event,
        remember_answer=True,
    ),
    Route(
        StopExercise,
        (ExerciseResult,),
        Permission.RUN_EXERCISES,
        exercise_handlers.stop_exercise,
        remember_answer=True,
    ),
    # exercises: recording the live server (the answer is remembered: one file per req)
    Route(
        RecordWindow,
        (RecordingResult,),
        Permission.RECORD_LIVE,
        exercise_record_handlers.record_window,
        remember_answer=True,
    ),
    Route(
        GetExerciseScore,
        (ExerciseScoreResult,),
        Permission.SEE_EXERCISES,
        score_handlers.get_exercise_score,
    ),
    # early warning (预警)
    Route(ListWarnings, (WarningsResult,), Permission.SEE_WARNINGS, warning_handlers.list_warnings),
    Route(
        ActOnWarning,
        (WarningResult,),
        Permission.WORK_WARNINGS,
        warning_handlers.act_on_warning,
        remember_answer=True,
    ),
    Route(
        GetProjection,
        (ProjectionResult,),
        Permission.READ_SENSOR_HISTORY,
        warning_handlers.sensor_projection,
    ),
    Route(
        ImportWeather,
        (WeatherImported,),
        Permission.IMPORT_WEATHER,
        warning_handlers.import_weather,
        remember_answer=True,
    ),
    # hidden dangers (隐患排查治理): every change is remembered (a re-send is not a second)
    Route(
        ReportDanger,
        (DangerResult,),
        Permission.REPORT_DANGERS,
        danger_handlers.report_danger,
        remember_answer=True,
    ),
    Route(
        ActOnDanger,
        (DangerResult,),
        Permission.WORK_DANGERS,
        danger_handlers.act_on_danger,
        remember_answer=True,
    ),
    Route(ListDangers, (DangersResult,), Permission.SEE_DANGERS, danger_handlers.list_dangers),
    Route(GetDanger, (DangerResult,), Permission.SEE_DANGERS, danger_handlers.get_danger),
    Route(
        GetDangerStats, (DangerStatsResult,), Permission.SEE_DANGERS, danger_handlers.danger_stats
    ),
    Route(ExportDangers, (DangerExport,), Permission.SEE_DANGERS, danger_handlers.export_dangers),
    Route(
        RecordInspection,
        (InspectionResult,),
        Permission.RECORD_INSPECTIONS,
        danger_handlers.record_inspection,
        remember_answer=True,
    ),
    Route(
        ListInspections,
        (InspectionsResult,),
        Permission.SEE_DANGERS,
        danger_handlers.list_inspections,
    ),
    # publishing (信息发布): every step remembered, so a re-send never publishes twice
    Route(
        SaveNotice,
        (NoticeResult,),
        Permission.DRAFT_NOTICES,
        publishing_handlers.save_notice,
        remember_answer=True,
    ),
    Route(
        SubmitNotice,
        (NoticeResult,),
        Permission.DRAFT_NOTICES,
        publishing_handlers.submit_notice,
        remember_answer=True,
    ),
    Route(
        ApproveNotice,
        (NoticeResult,),
        Permission.APPROVE_NOTICES,
        publishing_handlers.approve_notice,
        remember_answer=True,
    ),
    Route(
        RejectNotice,
        (NoticeResult,),
        Permission.APPROVE_NOTICES,
        publishing_handlers.reject_notice,
        remember_answer=True,
    ),
    Route(
        CancelNotice,
        (NoticeResult,),
        Permission.APPROVE_NOTICES,
        publishing_handlers.cancel_notice,
        remember_answer=True,
    ),
    Route(ListNotices, (NoticesResult,), Permission.SEE_NOTICES, publishing_handlers.list_notices),
    Route(GetNotice, (NoticeDetail,), Permission.SEE_NOTICES, publishing_handlers.get_notice),
    Route(ListInbox, (InboxResult,), Permission.READ_INBOX, publishing_handlers.list_inbox),
    Route(
        MarkNoticeRead, (InboxResult,), Permission.READ_INBOX, publishing_handlers.mark_notice_read
    ),
)
"""Every console command: request type → its row."""

DEVICE_MESSAGES: Mapping[type[Any], Route[Any, Ack]] = _table(
    Route(DeviceAlarm, (Ack,), Permission.FEED_DEVICES, device_handlers.device_alarm),
    Route(DeviceReading, (Ack,), Permission.FEED_DEVICES, device_handlers.observation),
    Route(DevicePosition, (Ack,), Permission.FEED_DEVICES, device_handlers.observation),
    Route(DeviceAlarmRaisedMessage, (Ack,), Permission.FEED_DEVICES, device_handlers.observation),
    Route(DeviceStatus, (Ack,), Permission.FEED_DEVICES, device_handlers.observation),
)
"""Every device-feed message: request type → its row."""


def routes() -> Iterable[Route[Any, Any]]:
    """Every row of both tables (for documentation and tests)."""
    return [*CONSOLE_COMMANDS.values(), *DEVICE_MESSAGES.values()]


class CommandRunner:
    """Runs commands through the table: permission, handler, one error mapping.

    With ``sessions`` the answers of ``remember_answer`` commands are also kept in the
    database (:mod:`backend.storage.answers`), so a re-send reaching another instance on
    the same database (or this one after a restart) does not act twice either.
    """

    def __init__(
        self,
        outage: EpisodeLog | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._outage = outage or EpisodeLog(logger, "command storage")
        """Storage failures are logged once per outage, not once per command."""
        self._answers: collections.OrderedDict[tuple[str, str], Result | Error] = (
            collections.OrderedDict()
        )
        self._sessions = sessions
        self._pruned_at = time.monotonic()

    @staticmethod
    def waits_on_terminal(command: Command) -> bool:
        """Whether ``command`` waits for a vehicle terminal (see :class:`Route`)."""
        route = CONSOLE_COMMANDS.get(type(command))
        return route is not None and route.waits_on_terminal

    async def console(self, ctx: ConsoleContext, command: Command) -> Result | Error:
        """Run one console command and return the answer to send."""
        route = CONSOLE_COMMANDS.get(type(command))
        if route is None:
            return Error(
                code=ErrorCode.BAD_MESSAGE,
                message=f"unsupported command {type(command).__name__}",
                req=command.req,
            )
        username = ctx.principal.username
        key = (username, command.req)
        if route.remember_answer:
            remembered = self._answers.get(key) or await self._stored_answer(username, command)
            if remembered is not None:
                return remembered
        in_progress = (
            answers.command_in_progress(username, command.req)
            if route.remember_answer and self._sessions is not None
            else contextlib.nullcontext()
        )
        with in_progress:
            outcome = await _run(route, ctx, command, username, self._outage)
        answer: Result | Error
        if isinstance(outcome, _Refused):
            answer = Error(code=outcome.code, message=outcome.message, req=command.req)
        else:
            answer = Result(req=command.req, data=outcome)
        if route.remember_answer:
            self._answers[key] = answer
            while len(self._answers) > ANSWER_MEMORY:
                self._answers.popitem(last=False)
            await self._store_answer(username, answer)
        return answer

    async def _stored_answer(self, username: str, command: Command) -> Result | Error | None:
        """The answer of an earlier run of ``command`` kept in the database, if any."""
        if self._sessions is None:
            return None
        try:
            earlier = await answers.find(self._sessions, username, command.req)
        except SQLAlchemyError as exc:
            self._outage.failed(f"answers of {username} not read: {db.failure_reason(exc)}", exc)
            return Error(code=ErrorCode.INTERNAL, message=STORAGE_FAILED, req=command.req)
        if earlier is None:
            return None
        if earlier.answer is None:
            return Error(
                code=ErrorCode.STALE_VERSION,
                message=ANSWER_LOST,
                req=command.req,
            )
        stored = decode_server(earlier.answer)
        if isinstance(stored, Result | Error):
            return stored
        return None

    async def _store_answer(self, username: str, answer: Result | Error) -> None:
        if self._sessions is None or answer.req is None:
            return
        if isinstance(answer, Error) and answer.code is ErrorCode.INTERNAL:
            return  # not applied: a re-send may run it
        try:
            await answers.store_answer(
                self._sessions, username, answer.req, encode(answer).decode("utf-8")
            )
            if time.monotonic() - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = time.monotonic()
                await answers.prune(self._sessions, dt.datetime.now(dt.UTC))
        except SQLAlchemyError as exc:
            # Remembered in memory still: a re-send to this instance is answered alike.
            self._outage.failed(f"answer to {username} not kept: {db.failure_reason(exc)}", exc)

    async def device(self, ctx: DeviceContext, message: DeviceMessage) -> Ack | Error:
        """Run one device message and return the acknowledgement (or refusal) to send."""
        route = DEVICE_MESSAGES[type(message)]
        outcome = await _run(route, ctx, message, ctx.principal.username, self._outage)
        if isinstance(outcome, _Refused):
            return Error(code=outcome.code, message=outcome.message, ref=message.ref)
        return outcome


@dataclass(frozen=True, slots=True)
class _Refused:
    code: ErrorCode
    message: str


async def _run(
    route: Route[Any, _R],
    ctx: ConsoleContext | DeviceContext,
    message: Any,
    username: str,
    outage: EpisodeLog,
) -> _R | _Refused:
    name = route.request.__name__
    try:
        authz.check(ctx.principal, route.permission)
        return await route.handler(ctx, message)
    except Refusal as exc:
        logger.info("%s refused for %s: %s", name, username, exc.message)
        return _Refused(exc.code, exc.message)
    except SQLAlchemyError as exc:
        outage.failed(f"{name} of {username} not applied: {db.failure_reason(exc)}", exc)
        return _Refused(ErrorCode.INTERNAL, STORAGE_FAILED)
    except Exception:
        # One request's bug must not end the session or reach the client as a traceback.
        logger.exception("%s failed for %s", name, username)
        return _Refused(ErrorCode.INTERNAL, SERVER_FAILED)
