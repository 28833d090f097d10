"""Event logs for the scoring tests, written as a response happens: built from the real
protocol structs (:class:`Event` with :class:`AlarmView`, :class:`IncidentView`,
:class:`TaskView`), as the backend's services write them."""

from __future__ import annotations

import datetime as dt
import itertools

import msgspec

from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    EscalationCause,
    EscalationLevel,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import AlarmView, DispatchView, EscalationView, Event, IncidentView, TaskView
from realtime.states import AlarmAction, AlarmLevel, AlarmState

ORIGIN = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)


class ResponseLog:
    """A log being written: each method appends the event the backend would write, at
    ``seconds`` after :data:`ORIGIN`."""

    def __init__(self, origin: dt.datetime = ORIGIN) -> None:
        self.origin = origin
        self.events: list[Event] = []
        self._seq = itertools.count(1)
        self._alarms: dict[int, AlarmView] = {}
        self._incidents: dict[int, IncidentView] = {}
        self._tasks: dict[int, TaskView] = {}

    def at(self, seconds: float) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=seconds)

    def _append(
        self,
        seconds: float,
        kind: EventKind,
        actor: str = "officer1",
        *,
        alarm: AlarmView | None = None,
        action: AlarmAction | None = None,
        incident: IncidentView | msgspec.UnsetType = msgspec.UNSET,
        task: TaskView | msgspec.UnsetType = msgspec.UNSET,
    ) -> None:
        self.events.append(
            Event(
                seq=next(self._seq),
                at=self.at(seconds),
                kind=kind,
                actor=actor,
                action=action,
                alarm=alarm,
                incident=incident,
                task=task,
            )
        )

    # ------------------------------------------------------------------ alarms

    def raise_alarm(
        self,
        seconds: float,
        alarm_id: int,
        level: AlarmLevel = AlarmLevel.RED,
        *,
        title: str = "",
        device: str = "H2S-T101-01",
        alarm_type: str = "sensor.threshold",
    ) -> None:
        at = self.at(seconds)
        view = AlarmView(
            id=alarm_id,
            version=1,
            state=AlarmState.NEW,
            level=level,
            alarm_type=alarm_type,
            title=title or f"告警{alarm_id}",
            source="device",
            source_ref=device,
            reported_by=device,
            first_seen=at,
            last_seen=at,
            updated_at=at,
        )
        self._alarms[alarm_id] = view
        self._append(seconds, EventKind.ALARM_RAISED, actor=device, alarm=view)

    def _alarm_event(
        self,
        seconds: float,
        alarm_id: int,
        kind: EventKind,
        *,
        action: AlarmAction | None = None,
        **changes: object,
    ) -> None:
        current = self._alarms[alarm_id]
        view = msgspec.structs.replace(
            current, version=current.version + 1, updated_at=self.at(seconds), **changes
        )
        self._alarms[alarm_id] = view
        self._append(seconds, kind, alarm=view, action=action)

    def act(self, seconds: float, alarm_id: int, action: AlarmAction, state: AlarmState) -> None:
        """An ``alarm.transitioned`` event: ``action`` moved the alarm to ``state``."""
        self._alarm_event(
            seconds, alarm_id, EventKind.ALARM_TRANSITIONED, action=action, state=state
        )

    def acknowledge(self, seconds: float, alarm_id: int) -> None:
        self.act(seconds, alarm_id, AlarmAction.ACKNOWLEDGE, AlarmState.ACKNOWLEDGED)

    def dispatch_units(self, seconds: float, alarm_id: int, unit_id: int = 7) -> None:
        current = self._alarms[alarm_id]
        state = (
            AlarmState.HANDLING if current.state is AlarmState.HANDLING else AlarmState.DISPATCHED
        )
        dispatches = [
            *current.dispatches,
            DispatchView(
                unit_id=unit_id,
                unit_name=f"车{unit_id}",
                agency="fire",
                note="",
                by="officer1",
                at=self.at(seconds),
            ),
        ]
        self._alarm_event(
            seconds,
            alarm_id,
            EventKind.ALARM_DISPATCHED,
            action=AlarmAction.DISPATCH,
            state=state,
            dispatches=dispatches,
        )

    def change_level(self, seconds: float, alarm_id: int, level: AlarmLevel) -> None:
        self._alarm_event(seconds, alarm_id, EventKind.ALARM_LEVEL_CHANGED, level=level)

    def merge(self, seconds: float, alarm_id: int, into: int) -> None:
        self._alarm_event(
            seconds,
            alarm_id,
            EventKind.ALARM_TRANSITIONED,
            action=AlarmAction.MERGE,
            state=AlarmState.MERGED,
            merged_into=into,
        )
        self._alarm_event(seconds, into, EventKind.ALARM_MERGED_IN)

    # ------------------------------------------------------------------ incidents

    def open_incident(self, seconds: float, incident_id: int, alarm_ids: list[int]) -> None:
        at = self.at(seconds)
        view = IncidentView(
            id=incident_id,
            version=1,
            state=IncidentState.OPEN,
            level=IncidentLevel.III,
            type_code="hazchem_leak",
            title=f"事件{incident_id}",
            opened_at=at,
            opened_by="officer1",
            alarm_ids=list(alarm_ids),
            updated_at=at,
        )
        self._incidents[incident_id] = view
        self._append(seconds, EventKind.INCIDENT_OPENED, incident=view)

    def _incident_event(
        self, seconds: float, incident_id: int, kind: EventKind, **changes: object
    ) -> None:
        current = self._incidents[incident_id]
        view = msgspec.structs.replace(
            current, version=current.version + 1, updated_at=self.at(seconds), **changes
        )
        self._incidents[incident_id] = view
        self._append(seconds, kind, incident=view)

    def attach(self, seconds: float, incident_id: int, alarm_id: int) -> None:
        ids = [*self._incidents[incident_id].alarm_ids, alarm_id]
        self._incident_event(seconds, incident_id, EventKind.INCIDENT_ALARM_ATTACHED, alarm_ids=ids)

    def close_incident(self, seconds: float, incident_id: int) -> None:
        self._incident_event(
            seconds,
            incident_id,
            EventKind.INCIDENT_CHANGED,
            state=IncidentState.CLOSED,
            closed_at=self.at(seconds),
            feedback="已处置完毕",
        )

    # ------------------------------------------------------------------ tasks

    def send_task(self, seconds: float, task_id: int, incident_id: int) -> None:
        at = self.at(seconds)
        view = TaskView(
            id=task_id,
            incident_id=incident_id,
            version=1,
            state=TaskState.SENT,
            assignee_kind=AssigneeKind.AGENCY,
            assignee_ref="fire",
            agency="fire",
            escalation_level=EscalationLevel.AGENCY_DESK,
            created_at=at,
            created_by="officer1",
            updated_at=at,
        )
        self._tasks[task_id] = view
        self._append(seconds, EventKind.TASK_SENT, task=view)

    def task_step(self, seconds: float, task_id: int, action: TaskAction, state: TaskState) -> None:
        current = self._tasks[task_id]
        view = msgspec.structs.replace(
            current,
            version=current.version + 1,
            state=state,
            last_action=action,
            updated_at=self.at(seconds),
        )
        self._tasks[task_id] = view
        self._append(seconds, EventKind.TASK_CHANGED, task=view, actor="fire1")

    def escalate(
        self, seconds: float, task_id: int, cause: EscalationCause = EscalationCause.ACCEPT
    ) -> None:
        current = self._tasks[task_id]
        step = EscalationView(
            cause=cause,
            from_level=EscalationLevel.AGENCY_DESK,
            to_level=EscalationLevel.AGENCY_SUPERVISOR,
            by="system",
            at=self.at(seconds),
        )
        view = msgspec.structs.replace(
            current,
            version=current.version + 1,
            escalation_level=EscalationLevel.AGENCY_SUPERVISOR,
            escalations=[*current.escalations, step],
            updated_at=self.at(seconds),
        )
        self._tasks[task_id] = view
        self._append(seconds, EventKind.TASK_ESCALATED, task=view, actor="system")
