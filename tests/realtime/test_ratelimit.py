"""TokenBucket: bursts up to its size, then the steady rate."""

from __future__ import annotations

import types

import pytest

from realtime import ratelimit
from realtime.ratelimit import TokenBucket


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.allow(0.0) for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_at_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.allow(0.0)
    assert not bucket.allow(0.25)  # half a token
    assert bucket.allow(0.5)  # one token
    assert not bucket.allow(0.5)


def test_refill_stops_at_the_burst_size() -> None:
    bucket = TokenBucket(rate=10.0, burst=2, now=0.0)
    assert [bucket.allow(100.0) for _ in range(3)] == [True, True, False]


def test_without_now_it_reads_the_monotonic_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [50.0]
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    bucket = TokenBucket(rate=1.0, burst=1)
    assert bucket.allow()
    assert not bucket.allow()
    clock[0] += 1.0
    assert bucket.allow()
    assert bucket.rate == 1.0
    assert bucket.burst == 1.0
