"""Plan documents over a real server (SQLite and PostgreSQL): the command centre attaches
a PDF to a plan with ``attachment.upload`` naming the plan instead of an incident, and
``attachment.get`` returns it to whoever sees the plan; anything but a PDF (declared or
sniffed), a plan out of reach, a role that may not edit the registry, an upload naming
both or neither owner, and a plan document slipped into an incident's chat are refused,
and nothing of a refused upload is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from backend.storage.models import AttachmentRecord, IncidentRecord
from realtime.client import CommandError
from realtime.incident_states import IncidentLevel
from realtime.protocol import (
    AttachmentData,
    AttachmentView,
    Command,
    ErrorCode,
    GetAttachment,
    PostMessage,
    UploadAttachment,
    UploadResult,
)
from tests.backend.conftest import Console
from tests.backend.plans.conftest import World

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + "危化品泄漏Ⅱ级响应预案".encode() * 200 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + b"\x07" * 500


def upload_command(
    data: bytes,
    *,
    plan_code: str = "HZ-LEAK-II",
    incident_id: int | None = None,
    content_type: str = "application/pdf",
    upload_id: str = "plan-doc-1",
) -> UploadAttachment:
    return UploadAttachment(
        req="",
        upload_id=upload_id,
        plan_code=plan_code,
        incident_id=incident_id,
        filename="危化品泄漏预案.pdf",
        content_type=content_type,
        offset=0,
        data=data,
        final=True,
    )


async def upload(console: Console, upload_id: str = "plan-doc-1") -> AttachmentView:
    result = await console.client.request(upload_command(PDF, upload_id=upload_id))
    assert isinstance(result, UploadResult)
    assert result.attachment is not None
    return result.attachment


async def refused(console: Console, command: Command) -> CommandError:
    with pytest.raises(CommandError) as caught:
        await console.client.request(command)
    return caught.value


async def stored(world: World) -> int:
    async with world.server.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AttachmentRecord)) or 0)


async def test_a_plan_pdf_is_uploaded_and_fetched_by_those_who_see_the_plan(
    world: World,
) -> None:
    centre, wall, fire, neighbour = [
        await world.console(name) for name in ("centre", "wall", "fire_desk", "neighbour")
    ]
    try:
        view = await upload(centre)
        assert view.plan_code == "HZ-LEAK-II"
        assert view.incident_id is None
        assert (view.content_type, view.size) == ("application/pdf", len(PDF))
        for reader in (centre, wall, fire):
            data = await reader.client.request(GetAttachment(req="", attachment_id=view.id))
            assert isinstance(data, AttachmentData)
            assert data.data == PDF
            assert data.attachment == view
        # The neighbouring district sees neither the plan nor an incident it applies to.
        hidden = await refused(neighbour, GetAttachment(req="", attachment_id=view.id))
        missing = await refused(neighbour, GetAttachment(req="", attachment_id=view.id + 100))
        assert (hidden.code, hidden.message) == (missing.code, missing.message)
    finally:
        for console in (centre, wall, fire, neighbour):
            await console.close()


async def test_only_a_pdf_is_taken_for_a_plan_and_nothing_refused_is_stored(
    world: World,
) -> None:
    centre = await world.console("centre")
    try:
        declared = await refused(centre, upload_command(JPEG, content_type="image/jpeg"))
        assert declared.code is ErrorCode.VALIDATION
        assert "a plan's document is a PDF" in declared.message
        lying = await refused(centre, upload_command(JPEG, upload_id="plan-doc-2"))
        assert lying.code is ErrorCode.VALIDATION
        assert "its bytes are a image/jpeg file" in lying.message
        assert await stored(world) == 0
        # The user's next upload is not the worse for it.
        assert (await upload(centre, upload_id="plan-doc-3")).size == len(PDF)
    finally:
        await centre.close()


async def test_plan_uploads_out_of_reach_are_refused(world: World) -> None:
    centre, wall, neighbour, police = [
        await world.console(name) for name in ("centre", "wall", "neighbour", "police_desk")
    ]
    try:
        incident = await world.open(centre, tasks=())
        # A viewer may not edit the registry.
        assert (await refused(wall, upload_command(PDF))).code is ErrorCode.FORBIDDEN
        # Another district's plan is as missing as one that does not exist.
        other = await refused(neighbour, upload_command(PDF))
        none = await refused(neighbour, upload_command(PDF, plan_code="NO-SUCH"))
        assert (other.code, other.message) == (none.code, none.message)
        # A plan the police desk sees but does not own (it belongs to no agency).
        owned = await refused(police, upload_command(PDF))
        assert owned.code is ErrorCode.FORBIDDEN
        assert "not yours to change" in owned.message
        # Both owners, or neither.
        both = await refused(centre, upload_command(PDF, incident_id=incident.id))
        neither = await refused(centre, upload_command(PDF, plan_code=""))
        for error in (both, neither):
            assert error.code is ErrorCode.VALIDATION
            assert "exactly one of incident_id, plan_code and danger_id" in error.message
        assert await stored(world) == 0
    finally:
        for console in (centre, wall, neighbour, police):
            await console.close()


async def test_a_plan_document_cannot_be_posted_into_an_incidents_chat(world: World) -> None:
    centre = await world.console("centre")
    try:
        incident = await world.open(centre, tasks=())
        view = await upload(centre)
        error = await refused(
            centre,
            PostMessage(req="", incident_id=incident.id, text="见预案", attachment_ids=[view.id]),
        )
        assert error.code is ErrorCode.FORBIDDEN
    finally:
        await centre.close()


async def test_who_sees_an_incident_the_plan_applies_to_reads_its_document(world: World) -> None:
    """The neighbouring district does not see the plan, but it reported the incident (the
    reporter follows it): while the plan applies to it, the document is readable."""
    centre, neighbour = [await world.console(name) for name in ("centre", "neighbour")]
    try:
        view = await upload(centre)
        incident = await world.open(centre, tasks=())
        async with world.server.sessions.begin() as session:
            await session.execute(
                update(IncidentRecord)
                .where(IncidentRecord.id == incident.id)
                .values(reported_by="neighbour")
            )
        data = await neighbour.client.request(GetAttachment(req="", attachment_id=view.id))
        assert isinstance(data, AttachmentData)
        assert data.data == PDF
        # Level I: the level-II plan no longer applies, its document is out of reach.
        await world.change_level(centre, incident, IncidentLevel.I)
        error = await refused(neighbour, GetAttachment(req="", attachment_id=view.id))
        assert error.code is ErrorCode.FORBIDDEN
    finally:
        await centre.close()
        await neighbour.close()
