"""A database that fails under the chat: the command is refused as ``internal`` ("not
applied, try again"), nothing of it is kept (no message, no attachment file), and the next
try works."""

from __future__ import annotations

import pytest

from realtime.client import CommandError
from realtime.protocol import ErrorCode, MessageView
from tests.backend.chat.conftest import World, jpeg_bytes
from tests.backend.chat.test_attachments import chunk, stored_files
from tests.backend.chat.test_messages import post
from tests.backend.storage_faults import fail_inserts


def assert_outage_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors, "the outage is logged"
    assert all("injected failure" in message for message in errors), errors


@pytest.mark.logs_errors
async def test_a_message_the_database_refused_is_not_half_posted(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    incident = await world.incident()
    centre = await world.console("centre")
    try:
        with (
            fail_inserts(world.server.engine, "events") as injected,
            pytest.raises(CommandError) as refused,
        ):
            await post(centre, incident.id, "第一次")
        assert injected.injected == 1
        assert_outage_logged(caplog)
        assert refused.value.code is ErrorCode.INTERNAL
        assert "try again" in refused.value.message
        await post(centre, incident.id, "再试一次")
        timeline = await world.incidents.timeline(world.users["centre"], incident.id)
        assert [e.message.text for e in timeline if isinstance(e.message, MessageView)] == [
            "再试一次"
        ]
    finally:
        await centre.close()


@pytest.mark.logs_errors
async def test_an_attachment_the_database_refused_leaves_no_file(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    incident = await world.incident()
    centre = await world.console("centre")
    photo = jpeg_bytes(5000)
    try:
        with (
            fail_inserts(world.server.engine, "attachments"),
            pytest.raises(CommandError) as refused,
        ):
            await chunk(centre, "a", incident.id, 0, photo, final=True)
        assert refused.value.code is ErrorCode.INTERNAL
        assert stored_files(world.server) == []
        assert_outage_logged(caplog)
        again = await chunk(centre, "a", incident.id, 0, photo, final=True)
        assert again.attachment is not None
        assert len(stored_files(world.server)) == 1
    finally:
        await centre.close()
