"""Attachments over a real server: chunked uploads, the content check, the scope, and the
hostile inputs (wrong offsets, overlap, oversize, a lying type, path-like names, another
user's upload, an incident out of scope), each refused with ``validation`` or as missing,
nothing half-stored, and no cost to the uploads of others."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backend.cli.app import build_parser
from backend.config import sqlite_url
from backend.incidents.catalogue import load_catalogue
from backend.incidents.service import IncidentService
from backend.server.app import DutyDeskServer
from backend.server.app import Error as ServerError
from backend.server.config import ServerConfig
from realtime.client import CommandError
from realtime.incident_states import IncidentAction
from realtime.protocol import (
    MAX_UPLOAD_CHUNK_BYTES,
    AttachmentData,
    AttachmentView,
    ErrorCode,
    GetAttachment,
    MessageResult,
    PostMessage,
    Role,
    UploadAttachment,
    UploadResult,
)
from tests.backend.chat.conftest import PNG_HEAD, World, jpeg_bytes
from tests.backend.chat.test_messages import messages_of
from tests.backend.conftest import Console, open_console

CHUNK = MAX_UPLOAD_CHUNK_BYTES


async def chunk(
    console: Console,
    upload_id: str,
    incident_id: int,
    offset: int,
    data: bytes,
    *,
    final: bool = False,
    filename: str = "现场.jpg",
    content_type: str = "image/jpeg",
) -> UploadResult:
    result = await console.client.request(
        UploadAttachment(
            req="",
            upload_id=upload_id,
            incident_id=incident_id,
            filename=filename,
            content_type=content_type,
            offset=offset,
            data=data,
            final=final,
        )
    )
    assert isinstance(result, UploadResult)
    return result


async def upload(
    console: Console, upload_id: str, incident_id: int, data: bytes, **options: str
) -> AttachmentView:
    """Upload ``data`` in chunks; return the stored attachment."""
    offset = 0
    while True:
        piece = data[offset : offset + CHUNK]
        final = offset + len(piece) >= len(data)
        result = await chunk(console, upload_id, incident_id, offset, piece, final=final, **options)
        offset += len(piece)
        assert result.received == offset
        if final:
            assert result.attachment is not None
            return result.attachment


async def fetch(console: Console, attachment_id: int, length: int = 100_000) -> bytes:
    data = b""
    while True:
        part = await console.client.request(
            GetAttachment(req="", attachment_id=attachment_id, offset=len(data), length=length)
        )
        assert isinstance(part, AttachmentData)
        data += part.data
        if len(data) >= part.attachment.size:
            return data


async def refused(awaitable: object, code: ErrorCode, words: str) -> None:
    with pytest.raises(CommandError) as caught:
        await awaitable  # type: ignore[misc]
    assert caught.value.code is code
    assert words in caught.value.message, caught.value.message


def stored_files(server: DutyDeskServer) -> list[Path]:
    root = server.config.data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_a_photo_goes_up_in_chunks_with_a_message_and_comes_back(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    fire = await world.console("fire_desk")
    centre = await world.console("centre")
    police = await world.console("police_desk")
    try:
        photo = jpeg_bytes(3 * CHUNK + 1234)
        attachment = await upload(fire, "u1", incident.id, photo, filename="../../etc/现场 1.jpg")
        assert attachment.size == len(photo)
        assert attachment.content_type == "image/jpeg"
        assert attachment.filename == "现场 1.jpg"
        assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
        stored = world.server.config.data_dir / "attachments" / attachment.sha256
        assert stored.read_bytes() == photo
        assert not list((world.server.config.data_dir / "attachments" / "partial").iterdir())
        result = await fire.client.request(
            PostMessage(
                req="", incident_id=incident.id, text="现场照片", attachment_ids=[attachment.id]
            )
        )
        assert isinstance(result, MessageResult)
        assert result.message.attachments == [attachment]
        await centre.recorder.wait_for(lambda: bool(messages_of(centre.recorder, incident.id)))
        assert messages_of(centre.recorder, incident.id)[0].attachments == [attachment]
        assert await fetch(centre, attachment.id, length=10_000) == photo
        assert await fetch(fire, attachment.id) == photo
        # Out of scope is the same as missing.
        await refused(fetch(police, attachment.id), ErrorCode.FORBIDDEN, "no such attachment")
        await refused(fetch(centre, 999_999), ErrorCode.FORBIDDEN, "no such attachment")
        await refused(
            centre.client.request(
                GetAttachment(req="", attachment_id=attachment.id, offset=len(photo) + 1)
            ),
            ErrorCode.VALIDATION,
            "past the end",
        )
    finally:
        for console in (fire, centre, police):
            await console.close()


async def test_hostile_uploads_are_refused_and_nothing_is_half_stored(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    other = await world.incident("别的事件", agencies=("police",))
    fire = await world.console("fire_desk")
    police = await world.console("police_desk")
    wall = await world.console("wall")
    try:
        # A good upload of the fire desk runs alongside every bad one below.
        good = jpeg_bytes(2 * CHUNK + 10, fill=1)
        await chunk(fire, "good", incident.id, 0, good[:CHUNK])

        await chunk(fire, "gap", incident.id, 0, jpeg_bytes(100))
        await refused(
            chunk(fire, "gap", incident.id, 500, b"x" * 10), ErrorCode.VALIDATION, "offset 500"
        )
        await refused(  # the refusal dropped it: it has to start again
            chunk(fire, "gap", incident.id, 100, b"x" * 10), ErrorCode.VALIDATION, "no upload gap"
        )
        await chunk(fire, "overlap", incident.id, 0, jpeg_bytes(100))
        await chunk(fire, "overlap", incident.id, 100, b"y" * 100)
        await refused(
            chunk(fire, "overlap", incident.id, 50, b"z" * 100), ErrorCode.VALIDATION, "offset 50"
        )
        # The server's limit is 5 MiB: the chunk that would pass it is refused.
        big = 0
        await chunk(fire, "big", incident.id, 0, jpeg_bytes(CHUNK))
        big = CHUNK
        while big + CHUNK <= 5 * 1024 * 1024:
            await chunk(fire, "big", incident.id, big, bytes(CHUNK))
            big += CHUNK
        await refused(
            chunk(fire, "big", incident.id, big, bytes(CHUNK)), ErrorCode.VALIDATION, "5 MiB"
        )
        await refused(
            chunk(fire, "liar", incident.id, 0, PNG_HEAD + bytes(100), final=True),
            ErrorCode.VALIDATION,
            "declared image/jpeg but its bytes are a image/png",
        )
        await refused(
            chunk(
                fire, "exe", incident.id, 0, b"MZ\x90\x00" + bytes(100), content_type="image/png"
            ),
            ErrorCode.VALIDATION,
            "none of JPEG, PNG, WebP or PDF",
        )
        await refused(
            chunk(fire, "svg", incident.id, 0, b"<svg/>", content_type="image/svg+xml"),
            ErrorCode.VALIDATION,
            "may be image/jpeg",
        )
        # Another user's upload id is not theirs to continue.
        await refused(
            chunk(police, "good", incident.id, CHUNK, good[CHUNK : 2 * CHUNK]),
            ErrorCode.FORBIDDEN,
            "no such incident",
        )
        await refused(
            chunk(police, "good", other.id, CHUNK, good[CHUNK : 2 * CHUNK]),
            ErrorCode.VALIDATION,
            "no upload good",
        )
        await refused(
            chunk(police, "p", incident.id, 0, jpeg_bytes(100)), ErrorCode.FORBIDDEN, "no such"
        )
        await refused(
            chunk(wall, "w", incident.id, 0, jpeg_bytes(100)), ErrorCode.FORBIDDEN, "may not"
        )
        # The good upload is untouched by all of it.
        await chunk(fire, "good", incident.id, CHUNK, good[CHUNK : 2 * CHUNK])
        done = await chunk(fire, "good", incident.id, 2 * CHUNK, good[2 * CHUNK :], final=True)
        assert done.attachment is not None
        assert await fetch(fire, done.attachment.id) == good
        # Only the good file is stored; every refused upload left nothing behind.
        names = [p.name for p in stored_files(world.server) if p.parent.name != "partial"]
        assert names == [hashlib.sha256(good).hexdigest()]
        # Another user's attachment cannot be posted.
        await refused(
            police.client.request(
                PostMessage(req="", incident_id=other.id, attachment_ids=[done.attachment.id])
            ),
            ErrorCode.FORBIDDEN,
            f"no such attachment {done.attachment.id}",
        )
    finally:
        for console in (fire, police, wall):
            await console.close()


async def test_a_final_chunk_sent_again_gets_the_same_answer(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    fire = await world.console("fire_desk")
    try:
        data = jpeg_bytes(CHUNK + 100)
        await chunk(fire, "again", incident.id, 0, data[:CHUNK])
        first = await chunk(fire, "again", incident.id, CHUNK, data[CHUNK:], final=True)
        again = await chunk(fire, "again", incident.id, CHUNK, data[CHUNK:], final=True)
        assert again == first
        assert first.attachment is not None
        # The same chunk after a re-send is still one attachment; other bytes are refused.
        await refused(
            chunk(fire, "again", incident.id, CHUNK, b"other", final=True),
            ErrorCode.VALIDATION,
            "no upload again",
        )
    finally:
        await fire.close()


async def test_at_most_four_uploads_at_once_per_user(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    fire = await world.console("fire_desk")
    centre = await world.console("centre")
    try:
        for n in range(4):
            await chunk(fire, f"open{n}", incident.id, 0, jpeg_bytes(100))
        await refused(
            chunk(fire, "open4", incident.id, 0, jpeg_bytes(100)), ErrorCode.VALIDATION, "at most 4"
        )
        # Another user is not affected; finishing one frees a place.
        await upload(centre, "c", incident.id, jpeg_bytes(100))
        await chunk(fire, "open0", incident.id, 100, b"", final=True)
        await chunk(fire, "open4", incident.id, 0, jpeg_bytes(100))
    finally:
        await fire.close()
        await centre.close()


async def test_an_idle_upload_is_dropped(world: World) -> None:
    incident = await world.incident(agencies=("fire",))
    fire = await world.console("fire_desk")
    store = world.server.chat.store
    now = [1000.0]
    store._clock = lambda: now[0]  # the test moves time
    try:
        await chunk(fire, "slow", incident.id, 0, jpeg_bytes(100))
        now[0] += 301
        assert await store.drop_idle() == 1
        assert not list(store.partial_dir.iterdir())
        await refused(
            chunk(fire, "slow", incident.id, 100, b"x", final=True),
            ErrorCode.VALIDATION,
            "idle uploads are dropped after 5 minutes",
        )
    finally:
        await fire.close()


async def test_no_upload_to_a_closed_incident(world: World) -> None:
    closed = await world.closed_incident()
    centre = await world.console("centre")
    try:
        await refused(
            chunk(centre, "late", closed.id, 0, jpeg_bytes(100), final=True),
            ErrorCode.VALIDATION,
            "closed",
        )
        assert stored_files(world.server) == []
    finally:
        await centre.close()


async def test_the_limit_is_the_servers_option(db_url: str, tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--max-attachment-mb", "0.5"])
    assert args.max_attachment_mb == 0.5
    assert build_parser().parse_args(["serve"]).max_attachment_mb == 5
    config = ServerConfig(db_url=db_url, data_dir=tmp_path, port=0, max_attachment_bytes=1024)
    server = DutyDeskServer(config)
    await server.start()
    try:
        world = World(server, IncidentService(server.sessions, server.writer, load_catalogue()), {})
        admin = await server.users.add_user("root", "pw-root-admin", Role.ADMIN)
        world.users["centre"] = admin
        incident = await world.incident()
        console = await open_console(server, "root", "pw-root-admin")
        try:
            await refused(
                chunk(console, "big", incident.id, 0, jpeg_bytes(1025), final=True),
                ErrorCode.VALIDATION,
                "larger than the limit of 1 KiB",
            )
            stored = await chunk(console, "fits", incident.id, 0, jpeg_bytes(1024), final=True)
            assert stored.attachment is not None
        finally:
            await console.close()
    finally:
        await server.close()


@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_a_bad_limit_is_refused_at_the_command_line(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--max-attachment-mb", value])
    assert "--max-attachment-mb" in capsys.readouterr().err


async def test_an_incident_closed_during_an_upload_keeps_nothing_of_it(world: World) -> None:
    incident = await world.incident("即将结案", agencies=())
    centre = await world.console("centre")
    try:
        await chunk(centre, "late", incident.id, 0, jpeg_bytes(CHUNK))
        await world.incidents.transition(
            world.users["centre"],
            incident.id,
            IncidentAction.CLOSE,
            incident.version,
            note="已处置",
        )
        await refused(
            chunk(centre, "late", incident.id, CHUNK, b"tail", final=True),
            ErrorCode.VALIDATION,
            "closed",
        )
        assert stored_files(world.server) == []
    finally:
        await centre.close()


async def test_a_server_whose_attachments_folder_is_unusable_does_not_start(
    tmp_path: Path,
) -> None:
    (tmp_path / "attachments").write_text("not a folder")
    server = DutyDeskServer(ServerConfig(db_url=sqlite_url(tmp_path), data_dir=tmp_path, port=0))
    try:
        with pytest.raises(ServerError, match="cannot use the attachments folder"):
            await server.start()
    finally:
        await server.close()


async def test_a_kept_name_ends_in_an_extension_of_what_the_bytes_are(world: World) -> None:
    # The desk that fetches an attachment saves it under its kept name and opens it with
    # the system's opener, which goes by the extension: a JPEG-signed polyglot called
    # .html (or .bat, .hta) must not reach that opener as such.
    incident = await world.incident(agencies=("fire",))
    fire = await world.console("fire_desk")
    try:
        polyglot = jpeg_bytes(200) + b"<script>alert(1)</script>"
        html = await upload(fire, "h", incident.id, polyglot, filename="现场照片.html")
        assert html.filename == "现场照片.html.jpg"
        odd = await upload(fire, "c", incident.id, jpeg_bytes(300), filename="a:b|c?.bat")
        assert odd.filename == "a_b_c_.bat.jpg"
        kept = await upload(fire, "k", incident.id, jpeg_bytes(400), filename="现场.JPEG")
        assert kept.filename == "现场.JPEG"
    finally:
        await fire.close()


async def test_an_upload_id_used_again_for_another_incident_stores_it_there(
    world: World,
) -> None:
    # An upload id need only be unique among one's open uploads: a client that numbers
    # them from 1 again sends the same id, offset and bytes for the same photo elsewhere.
    first = await world.incident("第一起", agencies=("fire",))
    second = await world.incident("第二起", agencies=("fire",))
    fire = await world.console("fire_desk")
    try:
        photo = jpeg_bytes(500)
        there = await chunk(fire, "1", first.id, 0, photo, final=True)
        here = await chunk(fire, "1", second.id, 0, photo, final=True)
        assert there.attachment is not None
        assert here.attachment is not None
        assert here.attachment.incident_id == second.id
        posted = await fire.client.request(
            PostMessage(req="", incident_id=second.id, attachment_ids=[here.attachment.id])
        )
        assert isinstance(posted, MessageResult)
    finally:
        await fire.close()
