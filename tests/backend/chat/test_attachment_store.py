"""The attachment store without a server: the content check, file names, re-sent chunks,
uploads that run side by side, and stored files shared by identical content."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backend.chat.attachments import (
    AttachmentStore,
    Finished,
    Upload,
    sniff,
)
from backend.errors import ValidationError
from realtime.protocol.chat import sanitise_filename
from tests.backend.chat.conftest import JPEG_HEAD, PNG_HEAD, jpeg_bytes


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (JPEG_HEAD, "image/jpeg"),
        (PNG_HEAD, "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", None),
        (b"", None),
    ],
)
def test_the_bytes_say_what_a_file_is(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\王\\现场 1.jpg", "现场 1.jpg"),
        ("..hidden.jpg", "hidden.jpg"),
        ("a\x00b\nc\u202ed.jpg", "abcd.jpg"),
        ("  ", "attachment"),
        ("/", "attachment"),
        ("长" * 300 + ".jpeg", "长" * 115 + ".jpeg"),
    ],
)
def test_file_names_are_kept_without_folders_or_control_characters(given: str, kept: str) -> None:
    assert sanitise_filename(given) == kept


async def take(
    store: AttachmentStore,
    upload_id: str,
    offset: int,
    data: bytes,
    *,
    owner: str = "u",
    final: bool = False,
) -> tuple[Upload, Finished | None, bool]:
    return await store.take_chunk(
        owner=owner,
        upload_id=upload_id,
        incident_id=1,
        filename="a.jpg",
        content_type="image/jpeg",
        offset=offset,
        data=data,
        final=final,
    )


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


async def test_a_resent_chunk_is_answered_again_and_written_once(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    await store.open()
    data = jpeg_bytes(300)
    await take(store, "x", 0, data[:100])
    upload, _, resent = await take(store, "x", 100, data[100:200])
    assert (upload.received, resent) == (200, False)
    upload, _, resent = await take(store, "x", 100, data[100:200])
    assert (upload.received, resent) == (200, True)
    _, finished, _ = await take(store, "x", 200, data[200:], final=True)
    assert finished is not None
    assert store.path_of(finished.sha256).read_bytes() == data


async def test_uploads_side_by_side_do_not_mix_and_equal_content_is_one_file(
    tmp_path: Path,
) -> None:
    store = AttachmentStore(tmp_path)
    await store.open()
    photo = jpeg_bytes(5000, fill=3)

    async def send(owner: str) -> str:
        for offset in range(0, len(photo), 1000):
            piece = photo[offset : offset + 1000]
            _, finished, _ = await take(
                store, "same-id", offset, piece, owner=owner, final=offset + 1000 >= len(photo)
            )
            await asyncio.sleep(0)
        assert finished is not None
        return finished.sha256

    digests = await asyncio.gather(*(send(f"user{n}") for n in range(4)))
    assert len(set(digests)) == 1
    assert files_in(tmp_path) == [digests[0]]
    assert store.path_of(digests[0]).read_bytes() == photo
    assert files_in(store.partial_dir) == []


async def test_a_restart_clears_partial_files(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    await store.open()
    await take(store, "x", 0, jpeg_bytes(100))
    assert len(files_in(store.partial_dir)) == 1
    again = AttachmentStore(tmp_path)
    await again.open()
    assert files_in(again.partial_dir) == []
    with pytest.raises(ValidationError, match="no upload x in progress"):
        await take(again, "x", 100, b"more")
