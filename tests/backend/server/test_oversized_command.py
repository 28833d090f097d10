"""A command larger than the server accepts is refused by the client before it is sent.

The server closes a connection that sends an oversized message (that is its defence); a
console that sent one by accident — a plan with many long steps — would lose its session
and every command waiting in it. The client knows the limit from the welcome and refuses
the command itself, in words, and the session goes on.
"""

from __future__ import annotations

import pytest

from backend.server.app import DutyDeskServer
from realtime.client import CommandTooLargeError, ConnectionState
from realtime.protocol import (
    ItemKind,
    Ping,
    PlanDetails,
    PlanStep,
    Pong,
    RegistryItemInput,
    RegistryItemResult,
    SaveRegistryItem,
)
from tests.backend.conftest import open_console


def _plan(steps: int) -> SaveRegistryItem:
    return SaveRegistryItem(
        req="",
        item=RegistryItemInput(
            code="P-BIG",
            name="危化品泄漏专项预案",
            details=PlanDetails(
                type_codes=["hazchem_leak"],
                steps=[
                    PlanStep(id=f"s{number}", text="核实泄漏物质、泄漏量和影响范围" * 16)
                    for number in range(steps)
                ],
            ),
        ),
    )


async def test_an_oversized_command_is_refused_before_sending_and_the_session_goes_on(
    server: DutyDeskServer,
) -> None:
    console = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        assert console.client.welcome is not None
        limit = console.client.welcome.limits.max_message_bytes
        with pytest.raises(CommandTooLargeError) as refused:
            await console.client.request(_plan(steps=200))
        assert refused.value.limit == limit
        assert refused.value.size > limit
        assert "limit" in refused.value.message
        assert console.client.queued_commands == 0, "nothing waits in the outbox"
        assert console.client.state is ConnectionState.LIVE
        assert isinstance(await console.client.request(_ping()), Pong)
        # A plan that fits is stored.
        stored = await console.client.request(_plan(steps=4))
        assert isinstance(stored, RegistryItemResult)
        assert stored.item.kind is ItemKind.PLAN
    finally:
        await console.close()


def _ping() -> Ping:
    return Ping(req="")
