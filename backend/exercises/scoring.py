"""How well a response went (演练评分), from its event log alone: pure, no I/O.

:func:`score_events` reads the events of one log (an exercise's, or the original response
kept in a recording) and times every alarm raised in it: to acknowledge, to dispatch, to
arrive, to close; which were missed or acknowledged late; how many tasks were sent and how
many went overdue; and a 0–100 score. docs/exercises.md ("Scoring") states every rule;
the short version:

- an alarm is **acknowledged** at the first sign an officer took it on: it leaves ``new``
  (acknowledged, dispatched, marked false, merged — when the console stops sounding it),
  or it is taken into an incident (raised from it, or attached to one);
- **dispatched** at its first dispatch of units or the first task sent on its incident;
- **arrived** when its units start handling it (``handling``) or a task of its incident
  is on scene;
- **closed** when it is closed or marked a false alarm, or its incident is closed;
- **missed**: not acknowledged by the end; **late**: acknowledged after its limit
  (:class:`AckLimits`, per level; a level raised while unacknowledged brings its own
  deadline, counted from the moment it was raised).

Durations are seconds from the raise; offsets are seconds from ``origin`` (the exercise
clock's start, or the recording window's start). Everything comes from event times, never
from the order the events are given in, so the same log scores the same at any speed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from realtime.event_kinds import EventKind
from realtime.incident_states import EscalationCause, IncidentState, TaskAction, TaskState
from realtime.protocol import AlarmScore, AlarmView, Event, IncidentView, ScoreFigures, TaskView
from realtime.states import LEVEL_RANK, AlarmLevel, AlarmState

LEVEL_NUMBER: Final[Mapping[AlarmLevel, int]] = MappingProxyType(
    {AlarmLevel.RED: 1, AlarmLevel.ORANGE: 2, AlarmLevel.YELLOW: 3, AlarmLevel.BLUE: 4}
)
""":attr:`AlarmScore.level`: 1 (red, 一级) … 4 (blue, 四级), as the warning grades count."""


def per_level(red: float, orange: float, yellow: float, blue: float) -> Mapping[AlarmLevel, float]:
    """A read-only value per alarm level."""
    return MappingProxyType(
        {
            AlarmLevel.RED: red,
            AlarmLevel.ORANGE: orange,
            AlarmLevel.YELLOW: yellow,
            AlarmLevel.BLUE: blue,
        }
    )


@dataclasses.dataclass(frozen=True, slots=True)
class AckLimits:
    """The limits an alarm's handling is measured against, in seconds from its raise, per
    level: ``acknowledge`` decides which alarms are late; ``dispatch``, ``arrive`` and
    ``close`` give the score's time credits."""

    acknowledge: Mapping[AlarmLevel, float]
    dispatch: Mapping[AlarmLevel, float]
    arrive: Mapping[AlarmLevel, float]
    close: Mapping[AlarmLevel, float]


DEFAULT: Final = AckLimits(
    # The console sounds an unacknowledged red alarm every 10 s, orange every 30 s and
    # yellow every 2 minutes (desktop/attention/reminders.py) but names no limit, and
    # neither does the server: late is the sixth sound unanswered (blue is silent: 30 min).
    acknowledge=per_level(60.0, 180.0, 720.0, 1800.0),
    dispatch=per_level(180.0, 300.0, 900.0, 2700.0),
    arrive=per_level(900.0, 1200.0, 1800.0, 3600.0),
    close=per_level(7200.0, 7200.0, 7200.0, 7200.0),
)
"""The default limits."""

WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {"acknowledge": 40.0, "dispatch": 25.0, "arrive": 15.0, "close": 20.0}
)
"""The score's parts and their weights; a part with nothing to measure is left out and
the others share its weight."""
LATE_CREDIT: Final = 0.5
"""What an alarm acknowledged late earns in the acknowledge part (in time: 1; missed: 0)."""
MISSED_PENALTY: Final[Mapping[AlarmLevel, float]] = per_level(10.0, 5.0, 5.0, 5.0)
"""Points taken off the score for each missed alarm, by its level."""
OVERDUE_PENALTY: Final = 2.0
"""Points taken off the score for each task that went overdue."""
NEEDS_DISPATCH: Final = frozenset({AlarmLevel.RED, AlarmLevel.ORANGE})
"""Levels at which an alarm that is neither false nor merged needs a dispatch: one never
dispatched earns 0 in the dispatch part."""

SILENCE_ALARM_TYPES: Final = frozenset({"sensor_offline"})
"""Alarms a device's silence raises. Raised after the replay's end they say the recording
ended, not the device: not scored (see :func:`score_events`)."""

_DEADLINE_CAUSES: Final = frozenset(
    {EscalationCause.ACCEPT, EscalationCause.ARRIVE, EscalationCause.FINISH}
)
_DISPATCHED_STATES: Final = frozenset(
    {AlarmState.DISPATCHED, AlarmState.HANDLING, AlarmState.RESOLVED, AlarmState.CLOSED}
)
_ARRIVED_STATES: Final = frozenset({AlarmState.HANDLING, AlarmState.RESOLVED, AlarmState.CLOSED})
_CLOSED_STATES: Final = frozenset({AlarmState.CLOSED, AlarmState.FALSE_ALARM})


@dataclasses.dataclass(frozen=True, slots=True)
class Scored:
    """A response's figures and each of its alarms (in the order they were raised)."""

    figures: ScoreFigures
    alarms: list[AlarmScore]


def _earliest(current: dt.datetime | None, candidate: dt.datetime | None) -> dt.datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate < current else current


@dataclasses.dataclass(slots=True)
class _AlarmTrack:
    """What the log says about one alarm (every time: the earliest seen)."""

    raised: AlarmView | None = None
    raised_at: dt.datetime | None = None
    levels: list[tuple[dt.datetime, AlarmLevel]] = dataclasses.field(default_factory=list)
    acknowledged_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    false_alarm: bool = False
    merged: bool = False
    incident_id: int | None = None
    linked_at: dt.datetime | None = None
    """When it was first seen in an incident."""

    def apply(self, at: dt.datetime, view: AlarmView) -> None:
        if not self.levels or self.levels[-1][1] is not view.level:
            self.levels.append((at, view.level))
        if view.state is not AlarmState.NEW:
            self.acknowledged_at = _earliest(self.acknowledged_at, at)
        if view.state in _DISPATCHED_STATES or view.dispatches:
            self.dispatched_at = _earliest(self.dispatched_at, at)
        if view.state in _ARRIVED_STATES:
            self.arrived_at = _earliest(self.arrived_at, at)
        if view.state in _CLOSED_STATES:
            self.closed_at = _earliest(self.closed_at, at)
        self.false_alarm = self.false_alarm or view.state is AlarmState.FALSE_ALARM
        self.merged = self.merged or view.state is AlarmState.MERGED


@dataclasses.dataclass(slots=True)
class _IncidentTrack:
    first_task_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


@dataclasses.dataclass(slots=True)
class _Log:
    """Everything the events say, gathered in one pass."""

    alarms: dict[int, _AlarmTrack] = dataclasses.field(default_factory=dict)
    incidents: dict[int, _IncidentTrack] = dataclasses.field(default_factory=dict)
    tasks: set[int] = dataclasses.field(default_factory=set)
    overdue_tasks: set[int] = dataclasses.field(default_factory=set)

    def alarm(self, alarm_id: int) -> _AlarmTrack:
        return self.alarms.setdefault(alarm_id, _AlarmTrack())

    def incident(self, incident_id: int) -> _IncidentTrack:
        return self.incidents.setdefault(incident_id, _IncidentTrack())


def _gather(events: Iterable[Event], until: dt.datetime | None) -> _Log:
    log = _Log()
    # In time order (the log's seq breaks ties), so the first raise of an alarm id wins.
    for event in sorted(events, key=lambda event: (event.at, event.seq)):
        if until is not None and event.at > until:
            continue
        if event.alarm is not None:
            track = log.alarm(event.alarm.id)
            if event.kind == EventKind.ALARM_RAISED and track.raised is None:
                track.raised, track.raised_at = event.alarm, event.at
            track.apply(event.at, event.alarm)
        if isinstance(event.incident, IncidentView):
            _gather_incident(log, event.at, event.incident)
        if isinstance(event.task, TaskView):
            _gather_task(log, event, event.task, until)
    return log


def _gather_incident(log: _Log, at: dt.datetime, incident: IncidentView) -> None:
    for alarm_id in incident.alarm_ids:
        track = log.alarm(alarm_id)
        if track.incident_id is None:
            track.incident_id, track.linked_at = incident.id, at
    if incident.state is IncidentState.CLOSED:
        track_of = log.incident(incident.id)
        track_of.closed_at = _earliest(track_of.closed_at, at)


def _gather_task(log: _Log, event: Event, task: TaskView, until: dt.datetime | None) -> None:
    log.tasks.add(task.id)
    incident = log.incident(task.incident_id)
    if event.kind == EventKind.TASK_SENT:
        incident.first_task_at = _earliest(incident.first_task_at, event.at)
    if task.state is TaskState.ON_SCENE or task.last_action is TaskAction.ARRIVE:
        incident.arrived_at = _earliest(incident.arrived_at, event.at)
    # A passed deadline shows as an escalation in the task (any later event carries it).
    if any(
        escalation.cause in _DEADLINE_CAUSES and (until is None or escalation.at <= until)
        for escalation in task.escalations
    ):
        log.overdue_tasks.add(task.id)


def _seconds(start: dt.datetime, end: dt.datetime | None) -> float | None:
    """Seconds from ``start`` to ``end`` (never below 0: a response already under way when
    the alarm came counts as immediate)."""
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _most_severe(levels: Iterable[AlarmLevel]) -> AlarmLevel:
    return min(levels, key=LEVEL_RANK.__getitem__)


def _acknowledge_deadline(
    track: _AlarmTrack, acknowledged_at: dt.datetime | None, limits: AckLimits
) -> dt.datetime:
    """The earliest deadline of the levels the alarm had before it was acknowledged."""
    return min(
        at + dt.timedelta(seconds=limits.acknowledge[level])
        for at, level in track.levels
        if acknowledged_at is None or at <= acknowledged_at
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Timed:
    """One scored alarm with what the score needs beyond its :class:`AlarmScore`."""

    alarm_id: int
    score: AlarmScore
    level: AlarmLevel
    false_alarm: bool
    merged: bool


def _score_alarm(
    alarm_id: int,
    track: _AlarmTrack,
    raised: tuple[AlarmView, dt.datetime],
    log: _Log,
    *,
    origin: dt.datetime,
    limits: AckLimits,
) -> _Timed:
    raised_view, raised_at = raised
    incident = _IncidentTrack()
    if track.incident_id is not None:
        incident = log.incidents.get(track.incident_id, incident)
    acknowledged_at = _earliest(track.acknowledged_at, track.linked_at)
    dispatched_at = arrived_at = closed_at = None
    if not track.merged:
        # A merged alarm's response is its target's: it is timed only to its merge.
        dispatched_at = _earliest(track.dispatched_at, incident.first_task_at)
        arrived_at = _earliest(track.arrived_at, incident.arrived_at)
        closed_at = _earliest(track.closed_at, incident.closed_at)
    acknowledge_s = _seconds(raised_at, acknowledged_at)
    late = acknowledged_at is not None and acknowledged_at > _acknowledge_deadline(
        track, acknowledged_at, limits
    )
    level = _most_severe(level for _, level in track.levels)
    score = AlarmScore(
        title=raised_view.title,
        level=LEVEL_NUMBER[level],
        alarm_type=raised_view.alarm_type,
        device=raised_view.source_ref or raised_view.reported_by,
        raised_offset_s=(raised_at - origin).total_seconds(),
        acknowledge_s=acknowledge_s,
        dispatch_s=_seconds(raised_at, dispatched_at),
        arrive_s=_seconds(raised_at, arrived_at),
        close_s=_seconds(raised_at, closed_at),
        late=late,
        missed=acknowledge_s is None,
    )
    return _Timed(alarm_id, score, level, track.false_alarm, track.merged)


def _silence_after(raised: AlarmView, at: dt.datetime, replay_end: dt.datetime | None) -> bool:
    return replay_end is not None and at > replay_end and raised.alarm_type in SILENCE_ALARM_TYPES


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (the value at rank ⌈p·n/100⌉ of the sorted
    values, as docs/assessment.md counts), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100.0))
    return ordered[rank - 1]


def _time_credit(seconds: float, limit: float) -> float:
    """1 within the limit, then limit ÷ time (twice the limit earns a half)."""
    return 1.0 if seconds <= limit else limit / seconds


def _parts(timed: Sequence[_Timed], limits: AckLimits) -> dict[str, float]:
    """Each part's share (0–1) of the alarms it measures; parts with none are left out."""
    parts: dict[str, float] = {}
    if timed:
        parts["acknowledge"] = sum(
            0.0 if t.score.missed else LATE_CREDIT if t.score.late else 1.0 for t in timed
        ) / len(timed)
    dispatch: list[float] = []
    arrive: list[float] = []
    close: list[float] = []
    for t in timed:
        s = t.score
        if not t.merged and not t.false_alarm:
            if s.dispatch_s is not None:
                dispatch.append(_time_credit(s.dispatch_s, limits.dispatch[t.level]))
            elif t.level in NEEDS_DISPATCH:
                dispatch.append(0.0)
        if s.arrive_s is not None:
            arrive.append(_time_credit(s.arrive_s, limits.arrive[t.level]))
        if s.close_s is not None:
            close.append(_time_credit(s.close_s, limits.close[t.level]))
    for name, credits in (("dispatch", dispatch), ("arrive", arrive), ("close", close)):
        if credits:
            parts[name] = sum(credits) / len(credits)
    return parts


def score_of(timed: Sequence[_Timed], overdue_tasks: int, limits: AckLimits) -> float:
    """The 0–100 score: the weighted parts, less the penalties, one decimal."""
    parts = _parts(timed, limits)
    weight = sum(WEIGHTS[name] for name in parts)
    base = (
        100.0 * sum(WEIGHTS[name] * share for name, share in parts.items()) / weight
        if weight
        else 100.0
    )
    penalty = sum(MISSED_PENALTY[t.level] for t in timed if t.score.missed)
    penalty += OVERDUE_PENALTY * overdue_tasks
    return round(max(0.0, base - penalty), 1)


def score_events(
    events: Sequence[Event],
    *,
    origin: dt.datetime,
    until: dt.datetime | None = None,
    limits: AckLimits = DEFAULT,
    replay_end: dt.datetime | None = None,
) -> Scored:
    """Score the response recorded in ``events`` (one log, in any order).

    Only alarms raised in the log (an ``alarm.raised`` event) are scored; events after
    ``until`` are ignored as if they had not happened yet (the end is ``until``, else the
    last event). For an exercise, ``replay_end`` is when its recording ran out: alarms of
    :data:`SILENCE_ALARM_TYPES` raised after it are not scored (the participants may go on
    working after the replay, while the replayed sensors fall silent).
    """
    log = _gather(events, until)
    timed = sorted(
        (
            _score_alarm(
                alarm_id, track, (track.raised, track.raised_at), log, origin=origin, limits=limits
            )
            for alarm_id, track in log.alarms.items()
            if track.raised is not None
            and track.raised_at is not None
            and not _silence_after(track.raised, track.raised_at, replay_end)
        ),
        key=lambda t: (t.score.raised_offset_s, t.alarm_id),
    )
    scores = [t.score for t in timed]
    acknowledge = [s.acknowledge_s for s in scores if s.acknowledge_s is not None]
    figures = ScoreFigures(
        alarms=len(scores),
        acknowledged=len(acknowledge),
        missed=sum(s.missed for s in scores),
        late=sum(s.late for s in scores),
        acknowledge_p50_s=percentile(acknowledge, 50),
        acknowledge_max_s=max(acknowledge, default=None),
        dispatch_p50_s=percentile([s.dispatch_s for s in scores if s.dispatch_s is not None], 50),
        arrive_p50_s=percentile([s.arrive_s for s in scores if s.arrive_s is not None], 50),
        close_p50_s=percentile([s.close_s for s in scores if s.close_s is not None], 50),
        tasks=len(log.tasks),
        tasks_overdue=len(log.overdue_tasks),
        score=score_of(timed, len(log.overdue_tasks), limits),
    )
    return Scored(figures=figures, alarms=scores)
