"""A recurring failure is logged once when it starts and once when it ends."""

from __future__ import annotations

import logging

import pytest

from backend.runtime.episodes import EpisodeLog


@pytest.mark.logs_errors
def test_one_line_per_episode_and_one_recovery_line(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    episodes = EpisodeLog(logging.getLogger("backend.test"), "database", clock=lambda: now[0])
    caplog.set_level(logging.DEBUG, logger="backend.test")
    episodes.succeeded()
    assert not caplog.records, "no recovery without an outage"
    for number in range(1000):
        episodes.failed(f"connection refused ({number})", OSError("refused"))
    failing = [episodes.failing]
    assert episodes.last_problem == "connection refused (999)"
    now[0] += 42.0
    episodes.succeeded()
    episodes.succeeded()
    failing.append(episodes.failing)
    assert failing == [True, False]
    above_debug = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.levelno > logging.DEBUG
    ]
    assert above_debug == [
        ("ERROR", "database unavailable: connection refused (0) (logged once until it recovers)"),
        ("WARNING", "database available again after 42.0 s (1000 failures meanwhile)"),
    ]
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert tracebacks
    assert all(r.levelno == logging.DEBUG for r in tracebacks)
    episodes.failed("disk full")
    assert sum(r.levelno == logging.ERROR for r in caplog.records) == 2, "a new episode"
