"""Attachments of incident chats: chunked uploads in progress, the content check, and the
content-addressed store under the data folder (``attachments/<sha256>``).

An upload is a sequence of chunks, each at the offset where the last one ended. Its bytes
go to a partial file (``attachments/partial/``), never into memory beyond one chunk; the
final chunk checks what the bytes are and moves the file to its content address. A
refused chunk (wrong offset, too big, a type the bytes belie) drops the whole upload and
its partial file: nothing is half-stored, and nothing of one upload touches another.
The file work runs in a worker thread (the event loop never waits on the disk).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from backend.errors import ValidationError
from realtime.protocol import ATTACHMENT_CONTENT_TYPES, DEFAULT_MAX_ATTACHMENT_BYTES
from realtime.protocol.chat import sanitise_filename

logger = logging.getLogger(__name__)

MAX_OPEN_UPLOADS: Final = 4
"""Uploads one user may have in progress at once."""
UPLOAD_IDLE_SECONDS: Final = 300.0
"""An upload that receives no chunk for this long is dropped (with its partial file)."""
SNIFF_BYTES: Final = 16
"""Bytes at the start of a file enough to tell the allowed types apart."""

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class Error(Exception):
    """An attachment file cannot be stored or read (the disk, not the request)."""


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file say it is (of the allowed ones), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclasses.dataclass(slots=True)
class Upload:
    """One upload in progress."""

    owner: str
    upload_id: str
    incident_id: int | None
    filename: str
    content_type: str
    partial: Path
    plan_code: str = ""
    """The plan whose document it is (then ``incident_id`` is None)."""
    danger_id: int | None = None
    """The hidden danger whose photo it is (then ``incident_id`` is None)."""
    received: int = 0
    head: bytes = b""
    digest: hashlib._Hash = dataclasses.field(default_factory=hashlib.sha256)
    last_chunk: tuple[int, str] | None = None
    """Offset and SHA-256 of the last chunk taken (to recognise a re-send)."""
    touched: float = 0.0
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    """Held while a chunk of this upload is taken (chunks of one upload never interleave)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """A complete upload, stored under its content address."""

    upload: Upload
    sha256: str
    size: int
    content_type: str
    new_file: bool
    """True when this upload created the stored file (so a failed row may remove it)."""


class AttachmentStore:
    """The uploads in progress and the stored files.

    ``max_bytes`` is the limit per attachment; ``clock`` (monotonic seconds) is injected so
    tests control idle time.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        max_open: int = MAX_OPEN_UPLOADS,
        idle_seconds: float = UPLOAD_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.partial_dir = root / "partial"
        self.max_bytes = max_bytes
        self._max_open = max_open
        self._idle = idle_seconds
        self._clock = clock
        self._uploads: dict[tuple[str, str], Upload] = {}

    async def open(self) -> None:
        """Create the folders and remove partial files a stopped server left behind."""
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.partial_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()

    def open_uploads(self, owner: str) -> int:
        """How many uploads ``owner`` has in progress."""
        return sum(1 for key in self._uploads if key[0] == owner)

    def path_of(self, sha256: str) -> Path:
        """Where the file with this content is stored."""
        if not _SHA256_RE.fullmatch(sha256):
            raise Error(f"not a SHA-256: {sha256!r}")
        return self.root / sha256

    async def _drop(self, upload: Upload) -> None:
        self._uploads.pop((upload.owner, upload.upload_id), None)
        await asyncio.to_thread(_unlink, upload.partial)

    async def drop_idle(self) -> int:
        """Drop uploads idle longer than the limit; return how many."""
        now = self._clock()
        idle = [
            u
            for u in self._uploads.values()
            if now - u.touched > self._idle and not u.lock.locked()
        ]
        for upload in idle:
            logger.info("upload %s of %s dropped: idle", upload.upload_id, upload.owner)
            await self._drop(upload)
        return len(idle)

    async def close(self) -> None:
        """Drop every upload in progress."""
        for upload in list(self._uploads.values()):
            await self._drop(upload)

    async def take_chunk(
        self,
        *,
        owner: str,
        upload_id: str,
        incident_id: int | None,
        filename: str,
        content_type: str,
        offset: int,
        data: bytes,
        final: bool,
        plan_code: str = "",
        danger_id: int | None = None,
    ) -> tuple[Upload, Finished | None, bool]:
        """Take one chunk; return the upload, the finished file when ``final``, and whether
        the chunk was a re-send of the last one (then nothing was written).

        Raises :class:`~backend.errors.ValidationError` (the upload is dropped) for a
        chunk that does not fit.
        """
        await self.drop_idle()
        key = (owner, upload_id)
        upload = self._uploads.get(key)
        if upload is None:
            upload = self._start(key, incident_id, filename, content_type, offset)
            upload.plan_code = plan_code
            upload.danger_id = danger_id
            self._uploads[key] = upload
        elif (upload.incident_id, upload.plan_code, upload.danger_id) != (
            incident_id,
            plan_code,
            danger_id,
        ):
            raise ValidationError(
                f"upload {upload_id} belongs to {_owner_of(upload.incident_id, upload.plan_code)}, "
                f"not {_owner_of(incident_id, plan_code)}: choose another upload id"
            )
        # One chunk of an upload at a time; other uploads (and users) do not wait for it.
        async with upload.lock:
            if self._uploads.get(key) is not upload:
                raise ValidationError(
                    f"upload {upload_id} was dropped meanwhile: start again at offset 0"
                )
            return await self._take(upload, offset, data, final=final)

    async def _take(
        self, upload: Upload, offset: int, data: bytes, *, final: bool
    ) -> tuple[Upload, Finished | None, bool]:
        upload_id = upload.upload_id
        chunk_hash = hashlib.sha256(data).hexdigest()
        if offset != upload.received:
            if upload.last_chunk == (offset, chunk_hash) and not final:
                upload.touched = self._clock()
                return upload, None, True
            await self._drop(upload)
            raise ValidationError(
                f"upload {upload_id}: a chunk at offset {offset}, but {upload.received} "
                "bytes were received (chunks must follow each other); the upload was "
                "dropped, start again"
            )
        if upload.received + len(data) > self.max_bytes:
            await self._drop(upload)
            raise ValidationError(
                f"upload {upload_id} is larger than the limit of "
                f"{_mib(self.max_bytes)}; the upload was dropped"
            )
        head = (upload.head + data)[:SNIFF_BYTES]
        if (len(head) >= SNIFF_BYTES or final) and (problem := _type_problem(upload, head)):
            await self._drop(upload)
            raise ValidationError(problem)
        try:
            await asyncio.to_thread(_append, upload.partial, data)
        except OSError as exc:
            await self._drop(upload)
            raise Error(f"cannot write the upload: {exc.strerror or exc}") from exc
        upload.head = head
        upload.digest.update(data)
        upload.received += len(data)
        upload.last_chunk = (offset, chunk_hash)
        upload.touched = self._clock()
        if not final:
            return upload, None, False
        if upload.received == 0:
            await self._drop(upload)
            raise ValidationError(f"upload {upload_id} is empty")
        return upload, await self._finish(upload), False

    def has_upload(self, owner: str, upload_id: str) -> bool:
        """Whether ``owner`` has an upload ``upload_id`` in progress."""
        return (owner, upload_id) in self._uploads

    def _start(
        self,
        key: tuple[str, str],
        incident_id: int | None,
        filename: str,
        content_type: str,
        offset: int,
    ) -> Upload:
        owner, upload_id = key
        if offset != 0:
            raise ValidationError(
                f"no upload {upload_id} in progress (idle uploads are dropped after "
                f"{self._idle / 60:g} minutes): start again at offset 0"
            )
        if content_type not in ATTACHMENT_CONTENT_TYPES:
            raise ValidationError(
                f"attachments may be {', '.join(ATTACHMENT_CONTENT_TYPES)}, not {content_type!r}"
            )
        if self.open_uploads(owner) >= self._max_open:
            raise ValidationError(
                f"at most {self._max_open} uploads at once: finish or abandon one first"
            )
        partial = self.partial_dir / f"{secrets.token_hex(16)}.part"
        return Upload(
            owner=owner,
            upload_id=upload_id,
            incident_id=incident_id,
            filename=sanitise_filename(filename, content_type),
            content_type=content_type,
            partial=partial,
            touched=self._clock(),
        )

    async def _finish(self, upload: Upload) -> Finished:
        self._uploads.pop((upload.owner, upload.upload_id), None)
        sha256 = upload.digest.hexdigest()
        try:
            new_file = await asyncio.to_thread(_place, upload.partial, self.path_of(sha256))
        except OSError as exc:
            await asyncio.to_thread(_unlink, upload.partial)
            raise Error(f"cannot store the attachment: {exc.strerror or exc}") from exc
        return Finished(upload, sha256, upload.received, upload.content_type, new_file)

    async def discard(self, finished: Finished) -> None:
        """Remove a stored file whose row could not be written (only if this upload made it)."""
        if finished.new_file:
            await asyncio.to_thread(_unlink, self.path_of(finished.sha256))

    async def read(self, sha256: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of a stored file from ``offset``."""
        try:
            return await asyncio.to_thread(_read, self.path_of(sha256), offset, length)
        except OSError as exc:
            raise Error(f"cannot read attachment {sha256[:12]}: {exc.strerror or exc}") from exc


def _type_problem(upload: Upload, head: bytes) -> str | None:
    """Why the bytes do not match the declared type (None when they do)."""
    sniffed = sniff(head)
    if sniffed == upload.content_type:
        return None
    what = f"a {sniffed} file" if sniffed else "none of JPEG, PNG, WebP or PDF"
    return (
        f"upload {upload.upload_id} was declared {upload.content_type} but its bytes are "
        f"{what}; the upload was dropped"
    )


def _owner_of(incident_id: int | None, plan_code: str) -> str:
    return f"plan {plan_code}" if plan_code else f"incident {incident_id}"


def _mib(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:g} KiB"
    return f"{size / (1024 * 1024):g} MiB"


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def _place(partial: Path, target: Path) -> bool:
    """Move a complete upload to its content address; False when that content was stored
    already (the partial file is removed)."""
    if target.exists():
        partial.unlink()
        return False
    with partial.open("rb") as file:
        os.fsync(file.fileno())
    os.replace(partial, target)
    return True


def _read(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(length)
