"""Task deadlines and escalation, sans-I/O: which deadline is overdue now, and who is next.

:class:`DeadlineTracker` keeps every pending deadline of every open task in a heap of
``(due, task id, deadline)``: a check costs one peek when nothing is due and
``O(k log n)`` for ``k`` overdue deadlines, whatever the number of open tasks ``n``, so
10,000 open tasks are checked every second without a scan (``bench/deadlines.py``).
Changing or dropping a task's deadlines leaves its old heap entries behind; they are
recognised as stale (the current due time differs) and skipped when they surface, and
the heap is rebuilt when stale entries outnumber live ones.

The clock is the caller's: :meth:`DeadlineTracker.due` takes ``now``. The service commits
each escalation (``task.escalated``) and the database keeps it to once per task and
deadline; the tracker hands each deadline out once, and :meth:`DeadlineTracker.set`
puts one back when its escalation could not be written.

The ladders (:data:`AGENCY_LADDER`, :data:`GRID_LADDER`) are data: an overdue agency task
goes from its desk to the agency's supervisor, then to the command centre; a grid task
from the village to the town, then to the district.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from realtime.incident_states import AssigneeKind, Deadline, EscalationLevel

_E = EscalationLevel

AGENCY_LADDER: Final[tuple[EscalationLevel, ...]] = (
    _E.AGENCY_DESK,
    _E.AGENCY_SUPERVISOR,
    _E.COMMAND_CENTRE,
)
"""An agency's (or a unit's) task: its desk → the agency's supervisor → the command centre."""

GRID_LADDER: Final[tuple[EscalationLevel, ...]] = (_E.VILLAGE, _E.TOWN, _E.DISTRICT)
"""A grid level's task: village/community → town/street → district (the top)."""

LADDERS: Final[Mapping[AssigneeKind, tuple[EscalationLevel, ...]]] = {
    AssigneeKind.AGENCY: AGENCY_LADDER,
    AssigneeKind.UNIT: AGENCY_LADDER,
    AssigneeKind.GRID_LEVEL: GRID_LADDER,
}

# Canonical trimmed jurisdiction codes: district (county) 6 digits, town/street 9, village
# or community 12; shorter codes are a city or province, which sits above the district.
_GRID_LEVEL_BY_LENGTH: Final = {12: _E.VILLAGE, 9: _E.TOWN}


def grid_level_of(jurisdiction: str) -> EscalationLevel:
    """The grid rung a jurisdiction code stands for (village, town, or district and above).

    Read from the canonical code's length (12 digits a village, 9 a town); a local code
    below a village counts as the village. The fallback of :func:`grid_levels`, for codes
    the jurisdiction tree does not know.
    """
    if len(jurisdiction) > 12:
        return _E.VILLAGE
    return _GRID_LEVEL_BY_LENGTH.get(len(jurisdiction), _E.DISTRICT)


_GRID_LEVEL_BY_TREE_LEVEL: Final = {"village": _E.VILLAGE, "town": _E.TOWN}


def grid_levels(tree_level: Callable[[str], str | None]) -> Callable[[str], EscalationLevel]:
    """The grid rung of a code by the level the jurisdiction tree records for it
    (``tree_level`` returns ``"village"``, ``"town"``, ``"district"``, … or None for a code
    it does not know): a village or community, a town or street, else the district and
    above. Codes the tree does not know fall back to :func:`grid_level_of`."""

    def level_of(jurisdiction: str) -> EscalationLevel:
        recorded = tree_level(jurisdiction) if jurisdiction else None
        if recorded is None:
            return grid_level_of(jurisdiction)
        return _GRID_LEVEL_BY_TREE_LEVEL.get(recorded, _E.DISTRICT)

    return level_of


def parent_area(jurisdiction: str) -> str:
    """The code of the grid level above ``jurisdiction`` (village → town → district)."""
    if len(jurisdiction) >= 12:
        return jurisdiction[:9]
    if len(jurisdiction) >= 9:
        return jurisdiction[:6]
    return jurisdiction


def first_rung(
    kind: AssigneeKind,
    assignee_ref: str,
    level_of: Callable[[str], EscalationLevel] = grid_level_of,
) -> EscalationLevel:
    """The rung a new task starts on: the assignee's own (a grid level's by ``level_of``)."""
    if kind is AssigneeKind.GRID_LEVEL:
        return level_of(assignee_ref)
    return _E.AGENCY_DESK


def next_rung(kind: AssigneeKind, current: EscalationLevel) -> EscalationLevel:
    """The rung above ``current`` on the task's ladder; the top stays the top."""
    ladder = LADDERS[kind]
    index = ladder.index(current) if current in ladder else 0
    return ladder[min(index + 1, len(ladder) - 1)]


@dataclass(frozen=True, slots=True, order=True)
class Overdue:
    """A deadline that has passed: task ``task_id`` missed ``deadline``, due at ``due``."""

    due: dt.datetime
    task_id: int
    deadline: Deadline


class DeadlineTracker:
    """The pending deadlines of open tasks, earliest first.

    Not thread-safe and not async: one owner (the service's runner) calls it from the loop.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[dt.datetime, int, Deadline]] = []
        self._current: dict[tuple[int, Deadline], dt.datetime] = {}

    def __len__(self) -> int:
        """How many deadlines are pending."""
        return len(self._current)

    def pending(self, task_id: int) -> dict[Deadline, dt.datetime]:
        """The deadlines of ``task_id`` still pending (for tests and diagnostics)."""
        return {deadline: due for (task, deadline), due in self._current.items() if task == task_id}

    def set(self, task_id: int, deadline: Deadline, due: dt.datetime | None) -> None:
        """Track ``deadline`` of ``task_id`` at ``due`` (None: it no longer applies)."""
        key = (task_id, deadline)
        if due is None:
            self._current.pop(key, None)
            return
        if self._current.get(key) == due:
            return
        self._current[key] = due
        heapq.heappush(self._heap, (due, task_id, deadline))
        self._compact()

    def track(self, task_id: int, deadlines: Mapping[Deadline, dt.datetime | None]) -> None:
        """Make ``deadlines`` the task's pending deadlines; any other kind is dropped."""
        for deadline in Deadline:
            self.set(task_id, deadline, deadlines.get(deadline))

    def forget(self, task_id: int) -> None:
        """Drop every deadline of ``task_id`` (it reached a final state)."""
        for deadline in Deadline:
            self._current.pop((task_id, deadline), None)

    def replace_all(self, entries: Iterable[tuple[int, Deadline, dt.datetime]]) -> None:
        """Track exactly ``entries`` (``(task id, deadline, due)``), e.g. read at start."""
        self._current = {(task_id, deadline): due for task_id, deadline, due in entries}
        self._heap = [
            (due, task_id, deadline) for (task_id, deadline), due in self._current.items()
        ]
        heapq.heapify(self._heap)

    def next_due(self) -> dt.datetime | None:
        """When the earliest pending deadline falls, or None when nothing is pending."""
        self._drop_stale_head()
        return self._heap[0][0] if self._heap else None

    def due(self, now: dt.datetime, limit: int | None = None) -> list[Overdue]:
        """Hand out (and stop tracking) the deadlines due at or before ``now``, earliest
        first, at most ``limit`` of them (the rest stay for the next call)."""
        overdue: list[Overdue] = []
        heap = self._heap
        while heap and heap[0][0] <= now and (limit is None or len(overdue) < limit):
            due, task_id, deadline = heapq.heappop(heap)
            key = (task_id, deadline)
            if self._current.get(key) != due:
                continue  # stale: changed or dropped since it was pushed
            del self._current[key]
            overdue.append(Overdue(due, task_id, deadline))
        return overdue

    def _drop_stale_head(self) -> None:
        heap = self._heap
        while heap and self._current.get((heap[0][1], heap[0][2])) != heap[0][0]:
            heapq.heappop(heap)

    def _compact(self) -> None:
        # Each change pushes an entry and strands the old one; rebuilding once the heap is
        # twice the live count keeps it O(n) in size at O(1) amortized cost per change.
        if len(self._heap) > 2 * len(self._current) + 64:
            self.replace_all(
                (task_id, deadline, due) for (task_id, deadline), due in self._current.items()
            )
