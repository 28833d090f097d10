"""Authorization: which role may do what, and who may see which object.

One permission table (:data:`PERMISSIONS`) says, for each capability of the system, the
roles that hold it **and** the scope rule (:class:`Scope`) that decides which objects
they may use it on; :data:`TOPICS` says the same for what the live stream carries, and
:data:`ACTION_ROLES` which roles may take each alarm action. The server's command table
names one :class:`Permission` per command; the command runner checks the role against
the table before the handler runs, and the handlers and services call the scope checks
below (which read the same table) for every object they read, change or send. Both
tables are rendered into docs/protocol.md (``python -m backend.server.permission_docs``),
never written twice.

A scoped user is never told that an object outside their scope exists: such an object is
refused exactly like a missing one (:func:`hidden`: ``forbidden``, "no such … in your
area"), and lists simply leave it out. The desktop's greyed-out buttons are a courtesy,
never the control.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from backend.authz import dangers, incidents, notices, registry
from backend.authz.principal import Principal
from backend.authz.scope import (
    COMMAND_CENTRE,
    CONSOLE_ROLES,
    ENTERPRISE_USERS,
    READERS,
    SUPERVISORS,
    hidden,
    in_jurisdiction,
    outside_staff,
    sees_jurisdiction,
)
from backend.errors import ForbiddenError
from realtime.protocol import (
    AlarmView,
    DangerAction,
    EarlyWarningView,
    Event,
    ExerciseRunView,
    GrantView,
    HandoverView,
    HiddenDangerView,
    InboxItem,
    InspectionView,
    MessageView,
    NoticeView,
    ReceiptView,
    RecordingSource,
    RegistryItemView,
    Role,
    VehicleCommandView,
)
from realtime.states import AlarmAction

__all__ = [
    "ACTION_ROLES",
    "COMMAND_CENTRE",
    "CONSOLE_ROLES",
    "DANGER_ACTION_ROLES",
    "ENTERPRISE_USERS",
    "PERMISSIONS",
    "READERS",
    "SUPERVISORS",
    "TOPICS",
    "ForbiddenError",
    "Permission",
    "Rule",
    "Scope",
    "Topic",
    "agencies_of",
    "allows",
    "can_see",
    "can_see_camera",
    "can_see_danger",
    "can_see_event",
    "can_see_exercise",
    "can_see_grant",
    "can_see_handover",
    "can_see_recording",
    "can_see_unit",
    "check",
    "check_action",
    "check_console",
    "check_create_alarm",
    "check_device",
    "check_reveal_contact",
    "check_whole_area",
    "event_as_seen",
    "hidden",
    "in_jurisdiction",
    "receives",
    "sees_jurisdiction",
]


class Scope(enum.Enum):
    """Which objects an allowed role may use a capability on; the value says it in words
    (the docs show it)."""

    NONE = "no object of an area: the same for every user"
    OWN = "the user's own: a device account's messages, a console's own session"
    JURISDICTION = (
        'objects whose jurisdiction lies inside the user\'s (prefix); unplaced objects ("") '
        "only whole-area users"
    )
    ALARM = (
        "alarms inside the user's jurisdiction; an `agency` desk only those dispatched to "
        "(a unit of) or shared with its agency"
    )
    AGENCY = "objects inside the user's jurisdiction; a user of an agency only its agency's"
    CAMERA = (
        "as AGENCY, plus cameras shared with the user's agency for an alarm it sees, while "
        "the share lasts (until revoked, expired or the alarm closes)"
    )
    GRANT = "shares of alarms inside the user's jurisdiction; an `agency` desk only its agency's"
    INCIDENT = (
        "incidents inside the user's jurisdiction, those of its grid level's tasks, and those "
        "it reported; a user of an agency only those with a task of its agency (inside its "
        "area); changing one: the command centre (no agency) of the incident's area"
    )
    TASK = (
        "tasks inside the user's jurisdiction (a grid task lies in its level's area); a user "
        "of an agency only its agency's; cancelling one: the command centre (no agency)"
    )
    DESK = (
        "desks (a jurisdiction and, for an agency, the agency) inside the user's "
        "jurisdiction; a user of an agency only its agency's"
    )
    OWN_REPORTS = "the user's own reports (the reporter follows them wherever they landed)"
    REGISTRY = (
        "registry items inside the user's jurisdiction and those of the areas above it (a "
        'city\'s team or plan serves its towns); unplaced items ("") everyone; changing '
        "one: inside the user's jurisdiction, a user of an agency only its agency's items"
    )
    EXERCISE = (
        "exercise runs the user started or takes part in; a supervisor or admin every run "
        "started inside their jurisdiction"
    )
    NOTICE = (
        "notices drafted inside the user's jurisdiction (drafts: the drafter's own and, for a "
        "supervisor, those submitted); approving: a supervisor of the area, never the drafter; "
        "a recipient (an enterprise user, an agency desk) only what was published to it"
    )
    DANGER = (
        "hidden dangers and inspections of enterprises inside the user's jurisdiction; an "
        "enterprise user only its own enterprise's"
    )
    WHOLE_AREA = "whole-area users only (the objects carry no jurisdiction: rules for every area)"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of a table: who holds it, on which objects, and what they get."""

    roles: frozenset[Role]
    scope: Scope
    sees: str = ""
    """What an allowed user gets (for the docs)."""


class Permission(enum.Enum):
    """A capability; its value is the phrase that completes "role X may not …"."""

    OPEN_CONSOLE = "open a console; use the device endpoint"
    FEED_DEVICES = "send device messages"
    ENTER_ALARMS = "enter alarms"
    WORK_ALARMS = "act on alarms"
    DISPATCH_UNITS = "dispatch units"
    SHARE_ALARMS = "share alarms with agencies"
    SHARE_CAMERAS = "share cameras with agencies"
    SEE_GRANTS = "see shares"
    SEE_ALARM_HISTORY = "read alarm histories"
    REVEAL_CONTACT = "see protected personal data (callers' details, sensitive notes)"
    SEE_AGENCIES = "see the agencies"
    SEE_UNITS = "see units"
    SEE_CAMERAS = "see cameras"
    SUBSCRIBE = "subscribe to the live stream"
    RECEIVE_TELEMETRY = "receive vehicle positions, sensor readings and device changes"
    SEE_DEVICES = "see the device registry"
    SEND_TEXT = "send texts to vehicles"
    READ_SENSOR_HISTORY = "read sensor history"
    SEE_SENSORS = "see the sensor registry"
    REPLAY_TRACKS = "replay vehicle tracks"
    SEE_GEOFENCES = "see geofences"
    EDIT_GEOFENCES = "edit geofences"
    DELETE_GEOFENCES = "delete geofences"
    PING = "ping the server"
    UNLOCK_SESSION = "unlock their locked console"
    SEE_SESSIONS = "see who is logged in where"
    OPEN_INCIDENTS = "open incidents"
    COMMAND_INCIDENTS = "command incidents"
    SEE_INCIDENTS = "see incidents"
    SEND_TASKS = "send tasks and set their deadlines"
    WORK_TASKS = "work tasks"
    SUPERVISE_TASKS = "flag tasks for supervision"
    SEE_TASKS = "see tasks"
    POST_MESSAGES = "post messages to incidents"
    READ_MESSAGES = "read incident messages and mark them read"
    UPLOAD_ATTACHMENTS = "upload attachments to incidents"
    READ_ATTACHMENTS = "fetch incident attachments"
    SEE_CATALOGUE = "read the event catalogue"
    REPORT_EVENTS = "report events from the grid"
    SEE_OWN_REPORTS = "follow their reports"
    HAND_OVER = "draft and sign shift handovers"
    ACCEPT_HANDOVER = "accept shift handovers"
    SEE_HANDOVERS = "read shift handovers"
    SEE_ROSTER = "see the duty roster"
    SEE_RECENT_EVENTS = "read the event log of the shift"
    SEE_ASSESSMENT = "see the quantified assessment (量化考核) and rankings"
    SEE_REGISTRY = "see the registry (台账) and its history"
    EDIT_REGISTRY = "create, change and retire registry items"
    REVEAL_REGISTRY_CONTACT = "see registry contacts in full"
    SEE_CHECKLIST = "see an incident's plan checklist"
    TICK_CHECKLIST = "tick plan steps in an incident"
    RECOMMEND = "ask for resource recommendations"
    DECISION_SUPPORT = "ask for hazardous-chemical decision support"
    SEE_BASEMAP = "read the road layer of the map"
    RUN_EXERCISES = "start, steer and end exercises (演练) and inject events into them"
    SEE_EXERCISES = "see exercises, their recordings and scores, and take part in one"
    RECORD_LIVE = "record live input and events for exercises"
    SEE_WARNINGS = "see early warnings (预警)"
    WORK_WARNINGS = "acknowledge and close early warnings"
    IMPORT_WEATHER = "import weather warnings (CAP)"
    DRAFT_NOTICES = "draft notices and warnings for publishing"
    APPROVE_NOTICES = "approve, reject and withdraw notices for publishing"
    SEE_NOTICES = "see notices for publishing and their receipts"
    READ_INBOX = "read the notices published to them"
    REPORT_DANGERS = "report hidden dangers (隐患)"
    WORK_DANGERS = "move hidden dangers along their rectification"
    SEE_DANGERS = "see hidden dangers, inspections and their statistics"
    RECORD_INSPECTIONS = "record inspections (执法检查) and their findings"
    QUERY_VEHICLES = "query vehicle terminals (position, tracking, parameters)"
    CONTROL_VEHICLES = "control vehicles and set terminal parameters (two steps)"


PERMISSIONS: dict[Permission, Rule] = {
    Permission.OPEN_CONSOLE: Rule(
        CONSOLE_ROLES | ENTERPRISE_USERS, Scope.NONE, "a console session"
    ),
    Permission.FEED_DEVICES: Rule(
        frozenset({Role.DEVICE, Role.ADMIN}), Scope.OWN, "acknowledgements of its messages"
    ),
    Permission.ENTER_ALARMS: Rule(
        COMMAND_CENTRE, Scope.JURISDICTION, "the new alarm (only inside their area)"
    ),
    # Which actions a role may take on an alarm is the finer table below.
    Permission.WORK_ALARMS: Rule(
        COMMAND_CENTRE | {Role.AGENCY}, Scope.ALARM, "the alarm after the action"
    ),
    Permission.DISPATCH_UNITS: Rule(
        COMMAND_CENTRE, Scope.ALARM, "the alarm; only units of their area may be sent"
    ),
    Permission.SHARE_ALARMS: Rule(
        COMMAND_CENTRE, Scope.ALARM, "the alarm with its `shared_with` agencies"
    ),
    Permission.SHARE_CAMERAS: Rule(
        COMMAND_CENTRE,
        Scope.CAMERA,
        "the grant; the alarm must be one they see, already shared with or dispatched to "
        "the agency",
    ),
    Permission.SEE_GRANTS: Rule(CONSOLE_ROLES, Scope.GRANT, "the shares in force"),
    Permission.SEE_ALARM_HISTORY: Rule(CONSOLE_ROLES, Scope.ALARM, "every event of the alarm"),
    # An agency desk only for alarms dispatched or shared to it (check_reveal_contact).
    Permission.REVEAL_CONTACT: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.ALARM,
        "the caller's name, number, address and sensitive note asked for (audited)",
    ),
    Permission.SEE_AGENCIES: Rule(CONSOLE_ROLES, Scope.NONE, "every agency's code and names"),
    Permission.SEE_UNITS: Rule(CONSOLE_ROLES, Scope.AGENCY, "the units they may see"),
    Permission.SEE_CAMERAS: Rule(
        CONSOLE_ROLES, Scope.CAMERA, "the cameras with their stream addresses"
    ),
    Permission.SUBSCRIBE: Rule(
        CONSOLE_ROLES | ENTERPRISE_USERS,
        Scope.NONE,
        "the topics (what arrives is scoped: see the topics table)",
    ),
    Permission.RECEIVE_TELEMETRY: Rule(
        READERS, Scope.JURISDICTION, "positions, readings and device changes of their area"
    ),
    Permission.SEE_DEVICES: Rule(
        READERS,
        Scope.JURISDICTION,
        "devices by where they are: a vehicle by its latest fix, a sensor device by its sensors",
    ),
    Permission.SEND_TEXT: Rule(
        COMMAND_CENTRE, Scope.JURISDICTION, "the terminal's confirmation (vehicles of their area)"
    ),
    Permission.READ_SENSOR_HISTORY: Rule(
        READERS, Scope.JURISDICTION, "the series of a sensor of their area"
    ),
    Permission.SEE_SENSORS: Rule(READERS, Scope.JURISDICTION, "the sensors of their area"),
    Permission.REPLAY_TRACKS: Rule(
        READERS, Scope.JURISDICTION, "only the fixes that lie inside their area"
    ),
    Permission.SEE_GEOFENCES: Rule(READERS, Scope.WHOLE_AREA, "every geofence"),
    Permission.EDIT_GEOFENCES: Rule(COMMAND_CENTRE, Scope.WHOLE_AREA, "the saved geofence"),
    Permission.DELETE_GEOFENCES: Rule(SUPERVISORS, Scope.WHOLE_AREA, "the deleted geofence"),
    Permission.PING: Rule(CONSOLE_ROLES | ENTERPRISE_USERS, Scope.NONE, "the server's clock"),
    Permission.UNLOCK_SESSION: Rule(
        CONSOLE_ROLES | ENTERPRISE_USERS,
        Scope.OWN,
        "their own session unlocked (the password checked again)",
    ),
    Permission.SEE_SESSIONS: Rule(
        frozenset({Role.ADMIN}), Scope.JURISDICTION, "the open sessions of users of their area"
    ),
    Permission.OPEN_INCIDENTS: Rule(
        COMMAND_CENTRE,
        Scope.INCIDENT,
        "the new incident (inside their area; raised from an alarm they see)",
    ),
    Permission.COMMAND_INCIDENTS: Rule(
        COMMAND_CENTRE,
        Scope.INCIDENT,
        "the incident after attaching an alarm, a state change, a new level, commander or type",
    ),
    Permission.SEE_INCIDENTS: Rule(
        CONSOLE_ROLES,
        Scope.INCIDENT,
        "the incidents with the tasks they may see; the timeline filtered like the live stream",
    ),
    Permission.SEND_TASKS: Rule(
        COMMAND_CENTRE,
        Scope.INCIDENT,
        "the task (to an agency, a unit or a grid level of their area)",
    ),
    Permission.WORK_TASKS: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.TASK,
        "the task after the step; the answer to a supervision flag",
    ),
    Permission.SUPERVISE_TASKS: Rule(SUPERVISORS, Scope.TASK, "the task with its new flag (督办)"),
    Permission.SEE_TASKS: Rule(
        CONSOLE_ROLES, Scope.TASK, "their inbox, the tasks escalated to them, the supervised ones"
    ),
    # Chat: viewers and trainers read but do not post; a closed incident takes no messages.
    Permission.POST_MESSAGES: Rule(
        COMMAND_CENTRE | {Role.AGENCY}, Scope.INCIDENT, "the message as posted (an event)"
    ),
    Permission.READ_MESSAGES: Rule(
        CONSOLE_ROLES, Scope.INCIDENT, "their read marks and unread counts"
    ),
    Permission.UPLOAD_ATTACHMENTS: Rule(
        COMMAND_CENTRE | {Role.AGENCY} | ENTERPRISE_USERS,
        Scope.INCIDENT,
        "the stored attachment (JPEG, PNG, WebP or PDF, checked from the bytes); a hidden "
        "danger's photo (`danger_id`) by who may act on that danger (Scope.DANGER)",
    ),
    Permission.READ_ATTACHMENTS: Rule(
        CONSOLE_ROLES | ENTERPRISE_USERS,
        Scope.INCIDENT,
        "the attachment's bytes and what it is; a hidden danger's photo by who sees the danger",
    ),
    Permission.SEE_CATALOGUE: Rule(
        CONSOLE_ROLES,
        Scope.NONE,
        "every area, category and item with its handling level, deadlines and agencies",
    ),
    Permission.REPORT_EVENTS: Rule(
        COMMAND_CENTRE,
        Scope.JURISDICTION,
        "the incident (placed where the place lies, inside their area) and its grid task; "
        "users of an agency may not",
    ),
    Permission.SEE_OWN_REPORTS: Rule(
        COMMAND_CENTRE, Scope.OWN_REPORTS, "each report's incident state, level, task, feedback"
    ),
    Permission.HAND_OVER: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.DESK,
        "their own desk's handover report; only the author signs",
    ),
    Permission.ACCEPT_HANDOVER: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.DESK,
        "a signed handover of their own desk (not their own; the named incoming officer)",
    ),
    Permission.SEE_HANDOVERS: Rule(
        COMMAND_CENTRE | {Role.AGENCY, Role.VIEWER},
        Scope.DESK,
        "the handovers of desks in their area, with their reports as generated",
    ),
    Permission.SEE_RECENT_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.NONE,
        "the events since the start of their shift that the live stream would have sent "
        "them (each event scoped as in the topics table)",
    ),
    Permission.SEE_ROSTER: Rule(
        CONSOLE_ROLES, Scope.DESK, "who is on duty now and next at the desks of their area"
    ),
    # Leadership's view of its subordinates; wall displays (viewers) do not show rankings.
    Permission.SEE_ASSESSMENT: Rule(
        SUPERVISORS,
        Scope.AGENCY,
        "the figures, scores and ranks of the jurisdictions inside their area and of the "
        "agencies' work there; a supervisor of an agency only that agency's work",
    ),
    Permission.SEE_REGISTRY: Rule(
        CONSOLE_ROLES,
        Scope.REGISTRY,
        "the items with contacts masked, and each item's changes (who, when, before, after)",
    ),
    Permission.EDIT_REGISTRY: Rule(
        COMMAND_CENTRE | {Role.AGENCY}, Scope.REGISTRY, "the item as stored (one event each)"
    ),
    Permission.REVEAL_REGISTRY_CONTACT: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.REGISTRY,
        "an item's contact numbers in full (audited, limited per hour like alarm contacts)",
    ),
    Permission.SEE_CHECKLIST: Rule(
        CONSOLE_ROLES, Scope.INCIDENT, "the plan steps with who ticked each and when"
    ),
    Permission.TICK_CHECKLIST: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.INCIDENT,
        "the checklist after the tick (one event); a user of an agency only its own steps",
    ),
    Permission.RECOMMEND: Rule(
        COMMAND_CENTRE | {Role.AGENCY},
        Scope.REGISTRY,
        "the ranking of the resources they may see, with ETA and the reasons",
    ),
    Permission.DECISION_SUPPORT: Rule(
        CONSOLE_ROLES,
        Scope.REGISTRY,
        "chemical notes, rings and what lies in them among the items they may see",
    ),
    # Roads are public map data (OSM or the site's own), the same for every user.
    Permission.SEE_BASEMAP: Rule(
        CONSOLE_ROLES, Scope.NONE, "the roads in the box by class, simplified, size-limited"
    ),
    # Exercises (演练) run beside the live system, each in its own database and event log.
    Permission.RUN_EXERCISES: Rule(
        frozenset({Role.TRAINER, Role.SUPERVISOR, Role.ADMIN}),
        Scope.EXERCISE,
        "the run as it is after the change (one live `exercise.*` event each)",
    ),
    Permission.SEE_EXERCISES: Rule(
        CONSOLE_ROLES,
        Scope.EXERCISE,
        "the library, the runs, their scores; a console on the run's path (every message "
        "marked as the exercise's)",
    ),
    Permission.RECORD_LIVE: Rule(
        frozenset({Role.TRAINER, Role.SUPERVISOR, Role.ADMIN}),
        Scope.JURISDICTION,
        "a recording of the inputs and events inside their area, personal data masked "
        "unless the role may reveal it",
    ),
    # Early warning (预警): below alarms, scoped like the sensors and hazard sources they are
    # about.
    Permission.SEE_WARNINGS: Rule(
        READERS, Scope.JURISDICTION, "the warnings of their area with the trend projection"
    ),
    Permission.WORK_WARNINGS: Rule(
        COMMAND_CENTRE, Scope.JURISDICTION, "the warning after the step (one event each)"
    ),
    Permission.IMPORT_WEATHER: Rule(
        COMMAND_CENTRE,
        Scope.JURISDICTION,
        "the alert as read and the warnings it raised for the hazard sources of their area",
    ),
    # Publishing (信息发布): two people, always: the drafter never approves.
    Permission.DRAFT_NOTICES: Rule(
        COMMAND_CENTRE, Scope.NOTICE, "the draft as saved or submitted (one event each)"
    ),
    Permission.APPROVE_NOTICES: Rule(
        SUPERVISORS,
        Scope.NOTICE,
        "the notice published, rejected or withdrawn (audited); never their own draft",
    ),
    Permission.SEE_NOTICES: Rule(
        COMMAND_CENTRE | {Role.VIEWER}, Scope.NOTICE, "the notices with receipts per recipient"
    ),
    Permission.READ_INBOX: Rule(
        frozenset({Role.AGENCY}) | ENTERPRISE_USERS | COMMAND_CENTRE,
        Scope.NOTICE,
        "the notices published to their enterprise or agency; their read receipt",
    ),
    # Hidden dangers (隐患排查治理): which action each role may take is DANGER_ACTION_ROLES.
    Permission.REPORT_DANGERS: Rule(
        COMMAND_CENTRE | ENTERPRISE_USERS,
        Scope.DANGER,
        "the hidden danger as stored (an enterprise user: of its own enterprise)",
    ),
    Permission.WORK_DANGERS: Rule(
        COMMAND_CENTRE | ENTERPRISE_USERS, Scope.DANGER, "the hidden danger after the step"
    ),
    Permission.SEE_DANGERS: Rule(
        READERS | ENTERPRISE_USERS,
        Scope.DANGER,
        "hidden dangers, inspections, statistics and rankings, the Excel export (phones masked)",
    ),
    Permission.RECORD_INSPECTIONS: Rule(
        COMMAND_CENTRE, Scope.DANGER, "the inspection and the hidden dangers it found"
    ),
    # Orders to vehicle terminals (JT/T 808), beyond texts; every one is an event.
    Permission.QUERY_VEHICLES: Rule(
        COMMAND_CENTRE,
        Scope.JURISDICTION,
        "the terminal's answer (vehicles of their area, by the latest fix)",
    ),
    Permission.CONTROL_VEHICLES: Rule(
        SUPERVISORS,
        Scope.JURISDICTION,
        "a confirmation token, then the terminal's answer (vehicles of their area)",
    ),
}
"""Which roles hold each capability and on which objects: the one table every check reads."""


class Topic(enum.Enum):
    """What the live stream (and the catch-up before it) carries; the value names it."""

    SNAPSHOT = "snapshot (a new console, or one too far behind)"
    RESUME = "replay after reconnect (`resume_from`)"
    ALARM_EVENTS = "alarm events"
    DEVICE_EVENTS = "device events"
    GEOFENCE_EVENTS = "geofence events"
    GRANT_EVENTS = "camera share events"
    INCIDENT_EVENTS = "incident events"
    TASK_EVENTS = "task events"
    POSITIONS = "positions (topic `positions`)"
    READINGS = "readings (topic `readings`)"
    MESSAGE_EVENTS = "incident messages and read receipts"
    HANDOVER_EVENTS = "handover events"
    REGISTRY_EVENTS = "registry changes"
    EXERCISE_EVENTS = "exercise runs started, changed and ended"
    WARNING_EVENTS = "early warnings raised, changed and ended"
    NOTICE_EVENTS = "notices drafted, approved, published, withdrawn and their delivery"
    DANGER_EVENTS = "hidden dangers reported and changed, inspections recorded"
    VEHICLE_COMMAND_EVENTS = "orders sent to vehicle terminals and their answers"


TOPICS: dict[Topic, Rule] = {
    Topic.SNAPSHOT: Rule(
        CONSOLE_ROLES, Scope.ALARM, "the open (and recently closed) alarms they may see"
    ),
    Topic.RESUME: Rule(
        CONSOLE_ROLES,
        Scope.ALARM,
        "the missed events, each filtered as the live events below (nothing else)",
    ),
    Topic.ALARM_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.ALARM,
        "events of alarms they may see; an agency desk also the unshare that ends its view",
    ),
    Topic.DEVICE_EVENTS: Rule(
        READERS,
        Scope.JURISDICTION,
        "added, removed, online, offline by the device's jurisdiction (unknown: whole area)",
    ),
    Topic.GEOFENCE_EVENTS: Rule(READERS, Scope.WHOLE_AREA, "geofences saved and deleted"),
    Topic.GRANT_EVENTS: Rule(
        CONSOLE_ROLES, Scope.GRANT, "camera shares granted and revoked (never the address)"
    ),
    Topic.INCIDENT_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.INCIDENT,
        "opened, alarm attached, changed (state, level, commander, the feedback at close) for "
        "incidents they may see; the reporter too",
    ),
    Topic.TASK_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.TASK,
        "sent, changed, escalated, supervised, answered for tasks they may see: an agency its "
        "own; an escalation also reaches the rung it lands on (the agency's supervisor, the "
        "command centre)",
    ),
    Topic.POSITIONS: Rule(
        READERS,
        Scope.JURISDICTION,
        "the latest fix of each vehicle whose fix lies in their area (at subscribe, then live)",
    ),
    Topic.READINGS: Rule(
        READERS,
        Scope.JURISDICTION,
        "the latest value of each sensor standing in their area (at subscribe, then live)",
    ),
    Topic.MESSAGE_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.INCIDENT,
        "messages and read receipts of the incidents they may see (as when it was posted)",
    ),
    Topic.HANDOVER_EVENTS: Rule(
        CONSOLE_ROLES, Scope.DESK, "handovers signed and accepted at desks of their area"
    ),
    Topic.REGISTRY_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.REGISTRY,
        "items created, changed, retired and imported that they may see (contacts masked)",
    ),
    Topic.EXERCISE_EVENTS: Rule(
        CONSOLE_ROLES,
        Scope.EXERCISE,
        "the life cycle of the runs they started or take part in (never a run's own events)",
    ),
    Topic.WARNING_EVENTS: Rule(
        READERS, Scope.JURISDICTION, "the warnings of their area (by the warning's jurisdiction)"
    ),
    Topic.NOTICE_EVENTS: Rule(
        CONSOLE_ROLES | ENTERPRISE_USERS,
        Scope.NOTICE,
        "staff of the area: the workflow (`notice`); a recipient: the published notice and "
        "its withdrawal only (`inbox`, never the workflow or the other recipients)",
    ),
    Topic.DANGER_EVENTS: Rule(
        READERS | ENTERPRISE_USERS,
        Scope.DANGER,
        "hidden dangers and inspections of the enterprises of their area; an enterprise its own",
    ),
    Topic.VEHICLE_COMMAND_EVENTS: Rule(
        READERS, Scope.JURISDICTION, "orders to the vehicles of their area and the answers"
    ),
}
"""Who receives each kind of streamed data, and which of it."""

ACTION_ROLES: dict[AlarmAction, frozenset[Role]] = {
    AlarmAction.ACKNOWLEDGE: COMMAND_CENTRE,
    AlarmAction.DISPATCH: COMMAND_CENTRE,
    AlarmAction.START_HANDLING: COMMAND_CENTRE | {Role.AGENCY},
    AlarmAction.RESOLVE: COMMAND_CENTRE | {Role.AGENCY},
    AlarmAction.REOPEN: COMMAND_CENTRE,
    AlarmAction.CLOSE: COMMAND_CENTRE,
    AlarmAction.MARK_FALSE: COMMAND_CENTRE,
    AlarmAction.MERGE: COMMAND_CENTRE,
}
"""Which roles may take each alarm action (all of them hold :attr:`Permission.WORK_ALARMS`)."""

DANGER_ACTION_ROLES: dict[DangerAction, frozenset[Role]] = {
    DangerAction.ASSIGN: COMMAND_CENTRE | ENTERPRISE_USERS,
    DangerAction.START: COMMAND_CENTRE | ENTERPRISE_USERS,
    DangerAction.COMPLETE: COMMAND_CENTRE | ENTERPRISE_USERS,
    DangerAction.VERIFY: COMMAND_CENTRE,
    DangerAction.REJECT: COMMAND_CENTRE,
    DangerAction.SUPERVISE: SUPERVISORS,
}
"""Which roles may take each hidden-danger action (all hold :attr:`Permission.WORK_DANGERS`):
the bureau verifies, an enterprise never verifies its own rectification."""


# ---------------------------------------------------------------------------- roles


def allows(principal: Principal, permission: Permission) -> bool:
    """Return whether the principal's role holds ``permission``."""
    return principal.role in PERMISSIONS[permission].roles


def receives(principal: Principal, topic: Topic) -> bool:
    """Return whether the principal's role receives ``topic`` at all (scope aside)."""
    return principal.role in TOPICS[topic].roles


def check(principal: Principal, permission: Permission) -> None:
    """Refuse unless the principal's role holds ``permission``."""
    if not allows(principal, permission):
        raise ForbiddenError(f"role {principal.role} may not {permission.value}")


# ---------------------------------------------------------------------------- scope


def check_whole_area(principal: Principal, what: str) -> None:
    """Refuse unless the principal's area is the whole area (objects without a
    jurisdiction, e.g. geofences, which apply to every area)."""
    if principal.jurisdiction:
        raise ForbiddenError(f"{what} are kept by whole-area users only")


def agencies_of(alarm: AlarmView) -> frozenset[str]:
    """The agencies an alarm is shared with: those of its dispatched units and those it
    was explicitly shared with."""
    return frozenset(d.agency for d in alarm.dispatches) | frozenset(alarm.shared_with)


def can_see(principal: Principal, alarm: AlarmView) -> bool:
    """Return whether the principal may see this alarm at all (:attr:`Scope.ALARM`)."""
    if outside_staff(principal) or not in_jurisdiction(principal, alarm.jurisdiction):
        return False
    if principal.role is Role.AGENCY:
        return principal.agency is not None and principal.agency in agencies_of(alarm)
    return True


def can_see_unit(principal: Principal, jurisdiction: str, agency: str) -> bool:
    """Return whether the principal may see a unit of this area and agency
    (:attr:`Scope.AGENCY`): inside their area, and their own agency's if they have one."""
    if not sees_jurisdiction(principal, jurisdiction):
        return False
    return principal.agency is None or principal.agency == agency


def can_see_camera(
    principal: Principal, jurisdiction: str, agency: str, *, shared: Iterable[str] = ()
) -> bool:
    """Return whether the principal may see (and watch) a camera (:attr:`Scope.CAMERA`).

    As for units: a user sees the cameras in their area; a user of an agency only that
    agency's cameras. ``shared`` are the agencies the camera is shared with now (grants in
    force): their users see it wherever it stands. Device accounts see none.
    """
    if outside_staff(principal):
        return False
    if principal.agency is not None and principal.agency in shared:
        return True
    return can_see_unit(principal, jurisdiction, agency)


def can_see_grant(principal: Principal, grant: GrantView) -> bool:
    """Return whether the principal may see a share (:attr:`Scope.GRANT`): readers of the
    alarm's area, and the desks of the agency it was granted to (inside their area)."""
    if not sees_jurisdiction(principal, grant.jurisdiction):
        return False
    if principal.role is Role.AGENCY:
        return principal.agency == grant.agency
    return principal.role in READERS


def can_see_handover(principal: Principal, jurisdiction: str, agency: str) -> bool:
    """Return whether the principal may see a handover of the desk ``jurisdiction`` /
    ``agency`` (:attr:`Scope.DESK`)."""
    if not sees_jurisdiction(principal, jurisdiction):
        return False
    return principal.agency is None or principal.agency == agency


def _ends_own_share(principal: Principal, event: Event) -> bool:
    """An agency desk gets the revocation of its own agency's alarm share (the alarm it
    saw until now) so that its console can drop the alarm."""
    grant = event.grant
    return (
        grant is not None
        and grant.revoked
        and principal.role is Role.AGENCY
        and principal.agency == grant.agency
        and event.alarm is not None
        and in_jurisdiction(principal, event.alarm.jurisdiction)
    )


def can_see_exercise(principal: Principal, run: ExerciseRunView) -> bool:
    """Return whether the principal may see an exercise run (scope ``EXERCISE``): the
    trainer who started it, its participants, and supervisors (admins) of its area."""
    if outside_staff(principal):
        return False
    if principal.username == run.trainer or principal.username in run.participants:
        return True
    return principal.role in SUPERVISORS and in_jurisdiction(principal, run.jurisdiction)


def can_see_recording(principal: Principal, source: RecordingSource, area: str) -> bool:
    """Return whether a recording of the library is the principal's to see and start: a
    shipped scenario (invented data) everyone's; a recording of live input and events
    only users whose area contains the area it was made for (an automatic recording,
    made of the whole area, only whole-area users)."""
    if outside_staff(principal):
        return False
    return source is RecordingSource.SCENARIO or in_jurisdiction(principal, area)


def can_see_warning(principal: Principal, jurisdiction: str) -> bool:
    """Return whether the principal may see an early warning of ``jurisdiction`` (the
    jurisdiction of its hazard source or sensor; unplaced: whole-area readers only)."""
    return principal.role in READERS and sees_jurisdiction(principal, jurisdiction)


def can_see_event(principal: Principal, event: Event) -> bool:
    """Return whether an event-log event may reach this console (live and on resume).

    Chat messages and read receipts by their incident's scope (:mod:`backend.authz.incidents`,
    :func:`~backend.authz.incidents.can_see_incident_scope`). Task events by the task's
    scope and incident events by the incident's, checked next: an incident raised from an
    alarm, or an alarm attached to one, reaches whoever sees the incident (an agency desk
    with a task on it), never a desk merely because the alarm is shared with it. If such an
    event also carries the alarm itself, the receiver must see that alarm too, so an
    incident never leaks an alarm's details. Alarm events by :func:`can_see`; device events
    by the device's jurisdiction (unplaced or unknown: whole-area users only); geofence
    events to whole-area readers; share events by :func:`can_see_grant`; orders to vehicles
    (``vehicle.command``) by the vehicle's area when the order was sent;
    registry events by the item's scope (:func:`backend.authz.registry.can_see_item`);
    hidden-danger and inspection events by :func:`can_see_danger` (an enterprise its
    own, never another's). An
    event about nothing of an area goes to whole-area readers only.
    """
    chat = event.message if isinstance(event.message, MessageView) else event.receipt
    if isinstance(chat, MessageView | ReceiptView):
        return receives(principal, Topic.MESSAGE_EVENTS) and incidents.can_see_incident_scope(
            principal, chat.jurisdiction, chat.agencies, chat.grid_areas
        )
    if event.task is not msgspec.UNSET or event.incident is not msgspec.UNSET:
        topic = Topic.TASK_EVENTS if event.task is not msgspec.UNSET else Topic.INCIDENT_EVENTS
        return (
            receives(principal, topic)
            and incidents.can_see_incident_event(principal, event)
            and (event.alarm is None or can_see(principal, event.alarm))
        )
    if event.alarm is not None:
        return receives(principal, Topic.ALARM_EVENTS) and (
            can_see(principal, event.alarm) or _ends_own_share(principal, event)
        )
    if event.device is not None:
        return receives(principal, Topic.DEVICE_EVENTS) and sees_jurisdiction(
            principal, event.device.jurisdiction
        )
    if event.grant is not None:
        return receives(principal, Topic.GRANT_EVENTS) and can_see_grant(principal, event.grant)
    if event.geofence is not None:
        return receives(principal, Topic.GEOFENCE_EVENTS) and not principal.jurisdiction
    return _can_see_record_event(principal, event)


def _can_see_record_event(principal: Principal, event: Event) -> bool:
    """:func:`can_see_event` for the events about records (handovers, registry items,
    exercise runs, orders to vehicles, warnings, notices) and for those about nothing of
    an area."""
    if isinstance(event.handover, HandoverView):
        return receives(principal, Topic.HANDOVER_EVENTS) and can_see_handover(
            principal, event.handover.jurisdiction, event.handover.agency
        )
    if isinstance(event.registry_item, RegistryItemView):
        item = event.registry_item
        return receives(principal, Topic.REGISTRY_EVENTS) and registry.can_see_item(
            principal, item.jurisdiction, item.agency
        )
    return _can_see_other_event(principal, event)


def _can_see_other_event(principal: Principal, event: Event) -> bool:
    """:func:`can_see_event` of the kinds after the registry's (exercise runs, hidden
    dangers and inspections, and events about nothing of an area)."""
    if isinstance(event.exercise_run, ExerciseRunView):
        return receives(principal, Topic.EXERCISE_EVENTS) and can_see_exercise(
            principal, event.exercise_run
        )
    if isinstance(event.vehicle_command, VehicleCommandView):
        return receives(principal, Topic.VEHICLE_COMMAND_EVENTS) and sees_jurisdiction(
            principal, event.vehicle_command.jurisdiction
        )
    if isinstance(event.early_warning, EarlyWarningView):
        return receives(principal, Topic.WARNING_EVENTS) and can_see_warning(
            principal, event.early_warning.jurisdiction
        )
    danger = event.danger if isinstance(event.danger, HiddenDangerView) else event.inspection
    if isinstance(danger, HiddenDangerView | InspectionView):
        return receives(principal, Topic.DANGER_EVENTS) and dangers.can_see_danger(
            principal, danger.enterprise, danger.jurisdiction
        )
    if isinstance(event.notice, NoticeView):
        return receives(principal, Topic.NOTICE_EVENTS) and (
            notices.can_see_notice(principal, event.notice)
            or (
                isinstance(event.inbox, InboxItem)
                and notices.is_recipient(principal, event.fields, event.notice.jurisdiction)
            )
        )
    return principal.role in READERS and not principal.jurisdiction


can_see_danger = dangers.can_see_danger


def event_as_seen(principal: Principal, event: Event) -> Event:
    """The event as the principal receives it, once :func:`can_see_event` allowed it: the
    event itself, except a notice's for a mere recipient, which keeps only the inbox item
    (never the workflow, who decided, nor the other recipients)."""
    if isinstance(event.notice, NoticeView) and not notices.can_see_notice(principal, event.notice):
        return msgspec.structs.replace(event, notice=msgspec.UNSET, fields=[], actor="", note="")
    return event


# ---------------------------------------------------------------------------- checks


def check_console(principal: Principal) -> None:
    """Refuse device accounts on the console endpoint."""
    if not allows(principal, Permission.OPEN_CONSOLE):
        raise ForbiddenError("device accounts cannot open a console; use the device endpoint")


def check_create_alarm(principal: Principal, jurisdiction: str) -> None:
    """Only the command centre takes alarms, inside its own area."""
    check(principal, Permission.ENTER_ALARMS)
    if not in_jurisdiction(principal, jurisdiction):
        raise ForbiddenError(f"jurisdiction {jurisdiction!r} is outside your area")


def check_action(principal: Principal, action: AlarmAction, alarm: AlarmView) -> None:
    """Refuse an action the role may not take, or on an alarm the principal cannot see
    (then as if it did not exist)."""
    if not can_see(principal, alarm):
        raise hidden("alarm")
    if principal.role not in ACTION_ROLES[action]:
        raise ForbiddenError(f"role {principal.role} may not {action} an alarm")


def check_device(principal: Principal) -> None:
    """Only device accounts (and admins testing a feed) may use the device endpoint."""
    if not allows(principal, Permission.FEED_DEVICES):
        raise ForbiddenError("only device accounts may send device messages")


def check_reveal_contact(principal: Principal, alarm: AlarmView) -> None:
    """Refuse a reveal of an alarm's protected personal data unless the role may reveal
    and the alarm is in scope: the command centre inside its jurisdiction; an agency
    desk only for an alarm dispatched or shared to its agency (a 120 desk calling back).
    """
    if not can_see(principal, alarm):
        raise hidden("alarm")
    check(principal, Permission.REVEAL_CONTACT)
