"""How often one user may reveal protected personal data: a sliding window per user.

A duty officer calls back a handful of callers in an hour; a script walking the alarm
table to harvest numbers asks for hundreds. The limit (30 an hour by default) refuses the
second without getting in the way of the first, and the first refusal of each spell is
written to the audit trail and logged, so harvesting shows instead of failing quietly.

Sans-I/O: the caller passes the time (a monotonic clock). The state lives in one process;
with several server instances each counts its own (documented in docs/operations.md).
"""

from __future__ import annotations

import collections

DEFAULT_REVEALS_PER_HOUR = 30
WINDOW_SECONDS = 3600.0


class RevealLimit:
    """At most ``limit`` reveals per user in any ``window`` seconds."""

    def __init__(
        self, limit: int = DEFAULT_REVEALS_PER_HOUR, window: float = WINDOW_SECONDS
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a reveal limit needs at least one reveal in a positive window")
        self.limit = limit
        self.window = window
        self._stamps: dict[str, collections.deque[float]] = {}
        self._refusing: set[str] = set()
        """Users refused since their last allowed reveal (their spell is already recorded)."""

    def allow(self, user: str, now: float) -> bool:
        """Count one reveal by ``user`` at ``now`` if the window has room; else refuse."""
        stamps = self._stamps.setdefault(user, collections.deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return False
        stamps.append(now)
        self._refusing.discard(user)
        return True

    def first_refusal(self, user: str) -> bool:
        """Whether this refusal starts a new spell of refusals for ``user`` (record it)."""
        if user in self._refusing:
            return False
        self._refusing.add(user)
        return True

    def retry_after(self, user: str, now: float) -> float:
        """Seconds until ``user`` may reveal again (0 when they may now)."""
        stamps = self._stamps.get(user)
        if not stamps or len(stamps) < self.limit:
            return 0.0
        return max(0.0, stamps[0] + self.window - now)
