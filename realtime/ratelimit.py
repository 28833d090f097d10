"""A token bucket: a steady rate of events with bursts of a bounded size; and one bucket
per user, for requests that cost the server more than a message."""

from __future__ import annotations

import time
from collections.abc import Callable


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


class UserRateLimit:
    """``per_minute`` requests per user, in bursts of as many; one user's flood never
    slows another. Users are the authenticated accounts, so the buckets are bounded by
    the user table."""

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, username: str) -> bool:
        """Take one request of ``username``'s budget, if there is one."""
        now = self._clock()
        bucket = self._buckets.get(username)
        if bucket is None:
            bucket = self._buckets[username] = TokenBucket(
                self.per_minute / 60, self.per_minute, now=now
            )
        return bucket.allow(now)
