"""The demo's scripted night shift: the command centre and the agency desks at work.

Once the scenario's device alarms flow, the shift supervisor raises an incident from the
hazardous-goods tanker's SOS alarm, sends tasks to fire, police and 120 (the ``health``
agency), and the desks answer over their own consoles (:class:`realtime.client.DutyDeskClient`,
each logged in as its demo user): the fire desk accepts, sets out, arrives and finishes;
120 accepts and sets out; the police desk is slow, so the supervisor brings its accept
deadline a few seconds ahead and the server's deadline runner escalates it to the police
supervisor's rung. The incident stays open (responding) after fire has finished: one
agency finishing never closes it.

The desks talk in the incident's chat as they go (``incident.post``): the supervisor
announces the incident, the fire desk reports setting out and finishing, the supervisor
notes the escalation.

Once the incident is open the supervisor asks for the resource recommendation
(``recommend``) and the hazardous-chemical decision support (``decision.support``, for the
tanker's liquid ammonia) and logs one line of each; after finishing its work the fire desk
ticks its step of the plan that applies (``incident.tick``, the first step whose role is
``fire``, read from ``incident.checklist``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from realtime.client import ConnectionState, DutyDeskClient
from realtime.event_kinds import EventKind
from realtime.incident_states import AssigneeKind, Deadline, TaskAction
from realtime.protocol import (
    ActOnTask,
    AlarmView,
    ChecklistResult,
    ChecklistView,
    DecisionSupport,
    Event,
    GetChecklist,
    IncidentResult,
    IncidentView,
    MessageResult,
    MessageView,
    OpenIncident,
    PostMessage,
    Recommend,
    Recommendation,
    Role,
    SendTask,
    SetTaskDeadlines,
    Snapshot,
    SupportRequest,
    TaskResult,
    TaskView,
    TickStep,
    Welcome,
)

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

SUPERVISOR = "duty_supervisor"
FIRE_DESK = "fire_desk"
POLICE_DESK = "police_desk"
MEDICAL_DESK = "medical_desk"
DESKS: Mapping[str, str] = {FIRE_DESK: "fire", POLICE_DESK: "police", MEDICAL_DESK: "health"}
"""Each agency desk of the night shift and its agency (120 is the ``health`` agency)."""
SHIFT_USERS: tuple[tuple[str, Role, str | None], ...] = (
    (SUPERVISOR, Role.SUPERVISOR, None),
    *((desk, Role.AGENCY, agency) for desk, agency in DESKS.items()),
)
"""The demo users the night shift logs in as: (username, role, agency)."""

SOS_ALARM_TYPES = frozenset({"vehicle_sos", "vehicle_emergency"})
"""A tanker's SOS: the scenario's scripted alarm, or a terminal's emergency button."""
INCIDENT_TYPE = "hazchem_transport_accident"
"""The catalogue item the incident is raised as (危化品运输车辆事故)."""
CARGO = ("1005",)
"""What the tanker carries, by UN number: anhydrous ammonia (液氨)."""
FIRE_ROLE = "fire"
"""The role of the plan steps the fire desk ticks."""


class Error(Exception):
    """The night shift could not play its script (the server refused a step)."""


class _Desk:
    """One desk's console: the events it receives, and a wake-up when one arrives."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.alarms: dict[int, AlarmView] = {}
        self.changed = asyncio.Event()

    def on_state(self, state: ConnectionState, detail: str) -> None:
        logger.debug("night shift console: %s %s", state, detail)

    def on_welcome(self, welcome: Welcome) -> None:
        logger.debug("night shift console logged in as %s", welcome.user.username)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.alarms = {alarm.id: alarm for alarm in snapshot.alarms}
        self.changed.set()

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        if event.alarm is not None:
            self.alarms[event.alarm.id] = event.alarm
        self.changed.set()

    async def wait_for(self, found: Callable[[], _T | None], timeout: float) -> _T:
        """Wait until ``found()`` returns something; return it."""
        async with asyncio.timeout(timeout):
            while (result := found()) is None:
                self.changed.clear()
                await self.changed.wait()
        return result


@dataclass(frozen=True, slots=True)
class ShiftOutcome:
    """Where the night shift left things."""

    incident: IncidentView
    tasks: dict[str, TaskView]
    """The task of each agency, as it was last seen."""
    escalation: Event
    """The ``task.escalated`` event of the overdue police task."""
    messages: list[MessageView]
    """The chat messages the desks posted, in order."""
    recommendation: Recommendation
    """The ranking the supervisor asked for once the incident was open."""
    support: DecisionSupport
    """The decision support the supervisor asked for."""
    ticked: ChecklistView | None
    """The plan whose fire step the fire desk ticked, after the tick (None: no plan
    applied, or none had a step for fire)."""


@dataclass(slots=True)
class NightShift:
    """The scripted night shift against the console endpoint at ``url``."""

    url: str
    passwords: Mapping[str, str]
    """The password of each user of :data:`SHIFT_USERS`."""
    pace: float = 3.0
    """Seconds between the script's steps (a human pace for the watching officer)."""
    overdue_in: float = 5.0
    """Seconds from now the police task's accept deadline is brought to."""
    alarm_timeout: float = 120.0
    """Longest wait for the tanker's SOS alarm, and for the escalation."""
    _messages: list[MessageView] = field(default_factory=list)

    async def run(self) -> ShiftOutcome:
        """Play the shift once; return where it left the incident and its tasks."""
        async with self._consoles() as desks:
            clients = {username: client for username, (client, _) in desks.items()}
            supervisor, watch = desks[SUPERVISOR]
            sos = await watch.wait_for(lambda: _sos_alarm(watch), self.alarm_timeout)
            incident = await self._open(supervisor, sos)
            await self._post(supervisor, incident.id, "槽车侧翻泄漏，已立案，请各单位按任务处置")
            recommendation = await self._recommend(supervisor, incident.id)
            support = await self._support(supervisor, incident.id)
            tasks = {
                agency: await self._send(supervisor, incident.id, agency)
                for agency in ("fire", "police", "health")
            }
            await asyncio.sleep(self.pace)
            tasks["fire"] = await self._step(clients[FIRE_DESK], tasks["fire"], TaskAction.ACCEPT)
            await self._post(clients[FIRE_DESK], incident.id, "消防已签收，两车出动")
            tasks["health"] = await self._step(
                clients[MEDICAL_DESK], tasks["health"], TaskAction.ACCEPT
            )
            tasks["police"] = await self._hurry(supervisor, tasks["police"])
            for action, note in (
                (TaskAction.SET_OUT, ""),
                (TaskAction.ARRIVE, ""),
                (TaskAction.FINISH, "泄漏点已堵漏，现场洗消完毕"),
            ):
                await asyncio.sleep(self.pace)
                tasks["fire"] = await self._step(clients[FIRE_DESK], tasks["fire"], action, note)
            ticked = await self._tick_fire_step(clients[FIRE_DESK], incident.id)
            await self._post(clients[FIRE_DESK], incident.id, "消防任务完成，移交后续处置")
            tasks["health"] = await self._step(
                clients[MEDICAL_DESK], tasks["health"], TaskAction.SET_OUT
            )
            police_id = tasks["police"].id
            found = await watch.wait_for(
                lambda: _escalation_of(watch, police_id), self.alarm_timeout
            )
            tasks["police"] = found[1]
            await self._post(supervisor, incident.id, "公安任务超时未签收，已升级督办")
            latest = _latest_incident(watch, incident.id) or incident
        logger.info(
            "night shift: incident %s %s; tasks %s",
            latest.id,
            latest.state,
            ", ".join(f"{agency} {task.state}" for agency, task in tasks.items()),
        )
        return ShiftOutcome(
            incident=latest,
            tasks=tasks,
            escalation=found[0],
            messages=list(self._messages),
            recommendation=recommendation,
            support=support,
            ticked=ticked,
        )

    @contextlib.asynccontextmanager
    async def _consoles(self) -> AsyncIterator[dict[str, tuple[DutyDeskClient, _Desk]]]:
        desks: dict[str, tuple[DutyDeskClient, _Desk]] = {}
        runs: list[asyncio.Task[None]] = []
        try:
            for username, _, _ in SHIFT_USERS:
                desk = _Desk()
                client = DutyDeskClient(
                    self.url,
                    desk,
                    username=username,
                    password=self.passwords[username],
                    client_name="dutydesk-night-shift",
                )
                runs.append(asyncio.create_task(client.run(), name=f"night-shift-{username}"))
                desks[username] = (client, desk)
            for client, _ in desks.values():
                await client.wait_live(30)
            yield desks
        finally:
            for client, _ in desks.values():
                await client.close()
            await asyncio.gather(*runs, return_exceptions=True)

    async def _open(self, supervisor: DutyDeskClient, alarm: AlarmView) -> IncidentView:
        result = await supervisor.request(
            OpenIncident(req="", alarm_id=alarm.id, type_code=INCIDENT_TYPE)
        )
        if not isinstance(result, IncidentResult):
            raise Error(f"incident.open answered {type(result).__name__}")
        logger.info("night shift: incident %s raised from alarm %s", result.incident.id, alarm.id)
        return result.incident

    async def _send(self, supervisor: DutyDeskClient, incident_id: int, agency: str) -> TaskView:
        result = await supervisor.request(
            SendTask(
                req="",
                incident_id=incident_id,
                assignee_kind=AssigneeKind.AGENCY,
                assignee_ref=agency,
                instructions=_INSTRUCTIONS[agency],
            )
        )
        return _task_of(result)

    async def _step(
        self, desk: DutyDeskClient, task: TaskView, action: TaskAction, note: str = ""
    ) -> TaskView:
        result = await desk.request(
            ActOnTask(
                req="", task_id=task.id, action=action, expected_version=task.version, note=note
            )
        )
        return _task_of(result)

    async def _post(self, desk: DutyDeskClient, incident_id: int, text: str) -> None:
        result = await desk.request(PostMessage(req="", incident_id=incident_id, text=text))
        if not isinstance(result, MessageResult):
            raise Error(f"incident.post answered {type(result).__name__}")
        self._messages.append(result.message)
        logger.info(
            "night shift chat, incident %s, %s: %s", incident_id, result.message.author, text
        )

    async def _recommend(self, supervisor: DutyDeskClient, incident_id: int) -> Recommendation:
        result = await supervisor.request(Recommend(req="", incident_id=incident_id))
        if not isinstance(result, Recommendation):
            raise Error(f"recommend answered {type(result).__name__}")
        logger.info("night shift: recommendation for incident %s: %s", incident_id, _top(result))
        return result

    async def _support(self, supervisor: DutyDeskClient, incident_id: int) -> DecisionSupport:
        result = await supervisor.request(
            # An overturned tanker leaking: a large spill.
            SupportRequest(req="", incident_id=incident_id, chemicals=list(CARGO), large_spill=True)
        )
        if not isinstance(result, DecisionSupport):
            raise Error(f"decision.support answered {type(result).__name__}")
        logger.info(
            "night shift: decision support for incident %s: rings %s; %s exposed",
            incident_id,
            ", ".join(f"{ring.kind} {ring.radius_m:.0f} m" for ring in result.rings),
            len(result.exposed),
        )
        return result

    async def _tick_fire_step(self, desk: DutyDeskClient, incident_id: int) -> ChecklistView | None:
        """Tick the first open step for fire of the plans that apply (None: there is none)."""
        current = await desk.request(GetChecklist(req="", incident_id=incident_id))
        found = _fire_step(_checklists_of(current))
        if found is None:
            logger.warning("night shift: no plan step for fire in incident %s", incident_id)
            return None
        plan_code, step_id = found
        result = await desk.request(
            TickStep(
                req="",
                incident_id=incident_id,
                plan_code=plan_code,
                step_id=step_id,
                note="堵漏完成",
            )
        )
        ticked = next(c for c in _checklists_of(result) if c.plan_code == plan_code)
        logger.info(
            "night shift: fire desk ticked step %s of plan %s in incident %s",
            step_id,
            plan_code,
            incident_id,
        )
        return ticked

    async def _hurry(self, supervisor: DutyDeskClient, task: TaskView) -> TaskView:
        """Bring the task's accept deadline a few seconds ahead: the desk will miss it."""
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.overdue_in)
        result = await supervisor.request(
            SetTaskDeadlines(
                req="",
                task_id=task.id,
                expected_version=task.version,
                deadlines={Deadline.ACCEPT: due},
                note="限时签收",
            )
        )
        return _task_of(result)


_INSTRUCTIONS: Mapping[str, str] = {
    "fire": "液氨槽车泄漏：堵漏、稀释、洗消，设置警戒区",
    "police": "封闭沿江大道 K12 前后 2 公里，疏导交通，疏散群众",
    "health": "120 到场待命，救治中毒伤员",
}


def _task_of(result: object) -> TaskView:
    if not isinstance(result, TaskResult):
        raise Error(f"expected a task, got {type(result).__name__}")
    return result.task


def _checklists_of(result: object) -> list[ChecklistView]:
    if not isinstance(result, ChecklistResult):
        raise Error(f"expected the checklists, got {type(result).__name__}")
    return result.checklists


def _fire_step(checklists: list[ChecklistView]) -> tuple[str, str] | None:
    """The (plan code, step id) of the first open step for fire, most specific plan first."""
    for checklist in checklists:
        for step in checklist.steps:
            if step.role == FIRE_ROLE and not step.done:
                return checklist.plan_code, step.id
    return None


def _top(recommendation: Recommendation) -> str:
    """The best-ranked team and its ETA, as the log line says it."""
    teams = [item for item in recommendation.items if item.kind == "team"]
    if not teams:
        return "no team to send"
    best = min(teams, key=lambda item: item.rank)
    eta = f"ETA {best.eta_min:.0f} min" if best.eta_min is not None else "no ETA"
    return f"top team {best.name} ({best.code}), {eta}, plan {recommendation.plan_code or '—'}"


def _sos_alarm(desk: _Desk) -> AlarmView | None:
    for alarm in desk.alarms.values():
        if alarm.alarm_type in SOS_ALARM_TYPES:
            return alarm
    return None


def _escalation_of(desk: _Desk, task_id: int) -> tuple[Event, TaskView] | None:
    for event in desk.events:
        task = event.task
        escalated = event.kind == EventKind.TASK_ESCALATED
        if escalated and isinstance(task, TaskView) and task.id == task_id:
            return event, task
    return None


def _latest_incident(desk: _Desk, incident_id: int) -> IncidentView | None:
    latest: IncidentView | None = None
    for event in desk.events:
        if isinstance(event.incident, IncidentView) and event.incident.id == incident_id:
            latest = event.incident
    return latest
