"""A token bucket: a steady rate of events with bursts of a bounded size."""

from __future__ import annotations

import time


class TokenBucket:
    """Allows ``rate`` events per second with bursts of up to ``burst``.

    The bucket starts full. Times are seconds on a monotonic clock: pass ``now`` (e.g. the
    event loop's ``time()``, read once for many events) or leave it out for
    :func:`time.monotonic`.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, *, now: float | None = None) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = self.burst
        self._stamp = time.monotonic() if now is None else now

    def allow(self, now: float | None = None) -> bool:
        """Take one token if there is one (after refilling for the time since the last call)."""
        if now is None:
            now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
