"""The server's event loop choice (realtime.eventloop)."""

from __future__ import annotations

import asyncio
import inspect
import sys

import pytest
import uvloop

from realtime import eventloop


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_auto_runs_on_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV_VAR, raising=False)
    assert eventloop.run(_loop_type()) is uvloop.Loop


def test_the_environment_can_ask_for_the_standard_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV_VAR, " AsyncIO ")
    loop_type = eventloop.run(_loop_type())
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_an_explicit_choice_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV_VAR, "asyncio")
    assert eventloop.run(_loop_type(), choice="uvloop") is uvloop.Loop


def test_an_unknown_loop_is_refused_without_leaking_the_coroutine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(eventloop.ENV_VAR, "trio")
    coroutine = _loop_type()
    with pytest.raises(eventloop.Error, match="must be one of auto, uvloop, asyncio, got 'trio'"):
        eventloop.run(coroutine)
    # Closed, so no "never awaited" warning (which this suite turns into an error).
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED


def test_asking_for_a_missing_uvloop_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import now fails
    with pytest.raises(eventloop.Error, match="uvloop was asked for but cannot be imported"):
        eventloop.loop_factory("uvloop")
    name, factory = eventloop.loop_factory("auto")
    assert name == "asyncio"
    assert factory is asyncio.new_event_loop
