"""What an entry of the event log records: every ``Event.kind`` the backend writes.

:class:`EventKind` names the kinds, so the backend writes members instead of string
literals and the console can give each one a label.

``Event.kind`` stays a plain ``str`` on the wire on purpose. The JSON would be the same
either way (a ``StrEnum`` member encodes as its value), but decoding would not be: msgspec
rejects a value that is not a member, so a console older than its server would fail to
decode the whole message carrying a new kind, and lose the alarm in it too. As a ``str``
an unknown kind decodes, is applied like any other event, and shows as its raw code
(``tests/backend/eventlog`` checks that every kind the backend writes is a member).
"""

from __future__ import annotations

import enum


class EventKind(enum.StrEnum):
    """The kinds of event-log entries the backend writes (its ``kind=`` values)."""

    ALARM_RAISED = "alarm.raised"
    """A new alarm was entered by an officer or raised by a device."""
    ALARM_REPEATED = "alarm.repeated"
    """A device reported an alarm that is still open (its count grew)."""
    ALARM_LEVEL_CHANGED = "alarm.level_changed"
    """A device's reading moved an open alarm to another level."""
    ALARM_RESTORED = "alarm.restored"
    """A device's reading (or its data) came back to normal; the officer decides to clear."""
    ALARM_TRANSITIONED = "alarm.transitioned"
    """An alarm moved along its life cycle (acknowledged, resolved, closed…)."""
    ALARM_DISPATCHED = "alarm.dispatched"
    """Units were sent to an alarm."""
    ALARM_MERGED_IN = "alarm.merged_in"
    """Another alarm was merged into this one."""
    CONTACT_REVEALED = "contact.revealed"
    """Someone viewed protected personal data of an alarm in full (``fields`` says which,
    ``note`` why)."""
    CONTACT_REVEAL_REFUSED = "contact.reveal_refused"
    """Someone went over the hourly limit of reveals (the first refusal of each spell)."""
    DEVICE_ADDED = "device.added"
    """A device was registered."""
    DEVICE_REMOVED = "device.removed"
    """A device was removed from the registry."""
    DEVICE_ONLINE = "device.online"
    """A device started talking to the backend."""
    DEVICE_OFFLINE = "device.offline"
    """A device went quiet."""
    GEOFENCE_SAVED = "geofence.saved"
    """A geofence was created or changed."""
    GEOFENCE_DELETED = "geofence.deleted"
    """A geofence was deleted."""
    ALARM_SHARED = "grant.alarm_shared"
    """An alarm was shared with an agency (its desks see it from now on)."""
    ALARM_UNSHARED = "grant.alarm_unshared"
    """An alarm's share with an agency was revoked."""
    CAMERA_SHARED = "grant.camera_shared"
    """A camera was shared with an agency for an alarm."""
    CAMERA_UNSHARED = "grant.camera_unshared"
    """A camera's share with an agency was revoked."""
    JURISDICTIONS_IMPORTED = "jurisdictions.imported"
    """Towns and villages were imported into the jurisdiction tree (the note says how many,
    from which file)."""
    INCIDENT_OPENED = "incident.opened"
    """An incident was opened: raised from an alarm, or reported by a person."""
    INCIDENT_ALARM_ATTACHED = "incident.alarm_attached"
    """An alarm was attached to an open incident."""
    INCIDENT_CHANGED = "incident.changed"
    """An incident's state, level or commander changed (closing carries the feedback)."""
    TASK_SENT = "task.sent"
    """An incident sent a task to an agency, a unit or a grid level."""
    TASK_CHANGED = "task.changed"
    """A task moved along its life (accepted, on scene, done, declined…) or its deadlines
    were changed."""
    TASK_ESCALATED = "task.escalated"
    """A task went one rung up its ladder: a deadline passed, or it was returned."""
    TASK_SUPERVISED = "task.supervised"
    """A supervisor flagged a task for supervision (督办)."""
    TASK_SUPERVISION_ANSWERED = "task.supervision_answered"
    """The task's desk answered a supervision flag."""
    INCIDENT_MESSAGE = "incident.message"
    """A desk posted a message (with attachments) to an incident's chat."""
    INCIDENT_MESSAGE_READ = "incident.message_read"
    """A user read an incident's messages up to a ``seq`` (a read receipt; coalesced)."""
    HANDOVER_SIGNED = "handover.signed"
    """The outgoing officer signed a shift handover (交接班)."""
    HANDOVER_ACCEPTED = "handover.accepted"
    """The incoming officer accepted a signed shift handover."""
    REGISTRY_CHANGED = "registry.changed"
    """A registry item was created, changed, retired, restored or imported (the payload is
    a :class:`~realtime.protocol.RegistryChangeView` without its ``seq``)."""
    REGISTRY_CONTACT_REVEALED = "registry.contact_revealed"
    """Someone viewed a registry item's contacts in full (``note`` says why)."""
    REGISTRY_IMPORTED = "registry.imported"
    """A file was imported into the registry (its name, kind, rows created and changed)."""
    CHECKLIST_TICKED = "incident.checklist_ticked"
    """A plan step was ticked or unticked in an incident."""
    EXERCISE_STARTED = "exercise.started"
    """A trainer started an exercise (演练) run (``exercise_run`` is the run)."""
    EXERCISE_CHANGED = "exercise.changed"
    """A run was paused, resumed, moved (seek) or sped up or down (``note`` says which)."""
    EXERCISE_INJECTED = "exercise.injected"
    """The trainer injected an event into a run (``note``: what and to which target)."""
    EXERCISE_ENDED = "exercise.ended"
    """A run reached the end of its recording or was stopped by the trainer."""
    RECORDING_MADE = "exercise.recorded"
    """A recording was made (around an incident or for a window; ``note`` names it)."""
    WARNING_RAISED = "warning.raised"
    """An early warning (预警) was raised: a trend, several sensors rising together, or a
    weather alert over a hazard source (``early_warning`` is the warning)."""
    WARNING_CHANGED = "warning.changed"
    """A warning's level or prediction changed, a repeat merged into it, or an officer
    acknowledged it."""
    WARNING_ENDED = "warning.ended"
    """A warning cleared (its condition went away) or an officer closed it."""
    WEATHER_IMPORTED = "weather.imported"
    """A weather warning (CAP) was imported (``note``: its identifier and event)."""
    NOTICE_SAVED = "notice.saved"
    """A notice or warning for publishing was drafted or edited (``notice``)."""
    NOTICE_SUBMITTED = "notice.submitted"
    """A draft was submitted for approval."""
    NOTICE_REJECTED = "notice.rejected"
    """A supervisor sent a pending notice back (``note``: the reason)."""
    NOTICE_PUBLISHED = "notice.published"
    """A supervisor approved a notice and it was published (staff: ``notice``; recipients:
    ``inbox``)."""
    NOTICE_CANCELLED = "notice.cancelled"
    """A published notice was withdrawn (a CAP Cancel went out)."""
    NOTICE_DELIVERY = "notice.delivery"
    """A published notice's delivery counts changed (coalesced: receipts arrive in bulk)."""
    DANGER_REPORTED = "danger.reported"
    """A hidden danger (隐患) was reported by its enterprise or found by an inspection."""
    DANGER_CHANGED = "danger.changed"
    """A hidden danger moved along its life (assigned, rectifying, rectified, verified,
    rejected, supervised) or got a photo."""
    DANGER_OVERDUE = "danger.overdue"
    """A hidden danger's deadline passed before it was rectified."""
    DANGER_ESCALATED = "danger.escalated"
    """An overdue hidden danger went one rung up (the area's supervisors, then the level
    above)."""
    INSPECTION_RECORDED = "inspection.recorded"
    """The bureau recorded an inspection (执法检查) of an enterprise and its findings."""
    VEHICLE_COMMAND = "vehicle.command"
    """An order or a text was sent to a vehicle terminal (position query, tracking,
    call-back, control, parameters; text) with the terminal's answer (``vehicle_command``)."""
