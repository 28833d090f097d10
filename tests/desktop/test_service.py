"""The service: store updates, signals, command outcomes, the queued count, stopping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from desktop.service import (
    CommandFailure,
    CommandSuccess,
    ConsoleService,
    LocalErrorCode,
    Operation,
)
from desktop.state import ChangeKind, StoreChange
from realtime.client import ConnectionState, OutboxFullError
from realtime.protocol import Command, CreateAlarm, ErrorCode, ResultData, UnitView
from realtime.states import AlarmAction, AlarmLevel
from tests.desktop.conftest import FakeClient, awaited, wait_until
from tests.desktop.factories import evolve, make_alarm, make_event, make_snapshot

pytestmark = pytest.mark.gui

FakeService = tuple[ConsoleService, list[FakeClient]]
Run = Callable[..., Any]


def start(fake_service: FakeService, run: Run) -> tuple[ConsoleService, FakeClient]:
    service, clients = fake_service

    async def go() -> None:
        service.start("ws://fake/console", "officer1", "pw")
        await wait_until(lambda: service.state is ConnectionState.LIVE, what="live")

    run(go())
    return service, clients[0]


def test_listener_callbacks_update_the_store_and_emit(fake_service: FakeService) -> None:
    service, _clients = fake_service
    changes: list[StoreChange] = []
    resets: list[bool] = []
    service.alarm_changed.connect(changes.append)
    service.snapshot_replaced.connect(lambda: resets.append(True))
    alarm = make_alarm(1)
    service.on_snapshot(make_snapshot(3, alarm))
    service.on_event(make_event(4, evolve(alarm, title="更新")))
    service.on_event(make_event(4, evolve(alarm, title="重复")))  # a replayed duplicate
    assert resets == [True]
    assert [change.kind for change in changes] == [ChangeKind.UPDATED]
    held = service.store.get(1)
    assert held is not None
    assert held.title == "更新"
    assert service.store.last_seq == 4


def test_connection_state_is_re_emitted_with_its_detail(fake_service: FakeService) -> None:
    service, _clients = fake_service
    states: list[tuple[ConnectionState, str]] = []
    service.connection_changed.connect(lambda state, detail: states.append((state, detail)))
    service.on_state(ConnectionState.DISCONNECTED, "cannot reach server: refused")
    assert states == [(ConnectionState.DISCONNECTED, "cannot reach server: refused")]
    assert service.state_detail == "cannot reach server: refused"
    assert service.cut_off


def test_success_and_refusal_are_reported(fake_service: FakeService, run: Run) -> None:
    service, client = start(fake_service, run)
    successes: list[CommandSuccess] = []
    failures: list[CommandFailure] = []
    service.command_succeeded.connect(successes.append)
    service.command_failed.connect(failures.append)
    service.on_event(make_event(1, make_alarm(1)))
    client.refuse[1] = ErrorCode.STALE_VERSION

    async def act() -> None:
        await service.create_alarm(alarm_type="fire", level=AlarmLevel.RED, title="t", place="p")
        await service.transition(1, AlarmAction.ACKNOWLEDGE, 1)

    run(act())
    assert [success.operation for success in successes] == [Operation.CREATE_ALARM]
    assert successes[0].alarm is not None
    assert service.store.get(successes[0].alarm.id) is not None  # the result is applied
    assert len(failures) == 1
    failure = failures[0]
    assert (failure.operation, failure.code, failure.alarm_id) == (
        Operation.TRANSITION,
        ErrorCode.STALE_VERSION,
        1,
    )
    assert failure.message == "refused by the fake server"


def test_units_are_listed_and_cached(fake_service: FakeService, run: Run) -> None:
    service, _client = start(fake_service, run)
    listed: list[list[UnitView]] = []
    service.units_listed.connect(listed.append)
    run(awaited(service.list_units))
    assert [unit.name for unit in listed[0]] == ["西湖消防站", "文三派出所", "市急救中心"]
    assert service.units == listed[0]


def test_client_side_failures_have_their_own_codes(
    fake_service: FakeService, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, client = start(fake_service, run)
    failures: list[CommandFailure] = []
    service.command_failed.connect(failures.append)

    async def full(_command: Command, timeout: float | None = 30.0) -> ResultData:
        raise OutboxFullError("200 commands already wait")

    async def slow(_command: Command, timeout: float | None = 30.0) -> ResultData:
        raise TimeoutError

    monkeypatch.setattr(client, "request", full)
    run(awaited(service.list_units))
    monkeypatch.setattr(client, "request", slow)
    run(awaited(service.list_units))
    assert [failure.code for failure in failures] == [
        LocalErrorCode.OUTBOX_FULL,
        LocalErrorCode.TIMEOUT,
    ]


def test_refused_create_carries_the_command(
    fake_service: FakeService, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, client = start(fake_service, run)
    failures: list[CommandFailure] = []
    service.command_failed.connect(failures.append)

    async def refuse(_command: Command, timeout: float | None = 30.0) -> ResultData:
        from realtime.client import CommandError

        raise CommandError(ErrorCode.VALIDATION, "caller phone is not a phone number")

    monkeypatch.setattr(client, "request", refuse)
    run(
        awaited(
            lambda: service.create_alarm(
                alarm_type="fire", level=AlarmLevel.RED, title="t", place="p"
            )
        )
    )
    assert isinstance(failures[0].command, CreateAlarm)
    assert failures[0].command.place == "p"


def test_queued_count_and_stop_cancels_waiting_commands(
    fake_service: FakeService, run: Run
) -> None:
    service, client = start(fake_service, run)
    counts: list[int] = []
    service.queued_changed.connect(counts.append)
    client.connected.clear()  # the link is down: commands wait

    async def scenario() -> None:
        tasks = [service.list_units(), service.list_units()]
        assert service.queued_commands == 2
        await asyncio.sleep(0.05)
        await service.stop()
        assert all(task.done() for task in tasks)

    run(scenario())
    assert counts[:2] == [1, 2]
    assert service.queued_commands == 0
    assert not service.started
