"""Password hashing, bearer tokens, and encryption of sensitive personal data at rest."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_hasher = PasswordHasher()


DEFAULT_HASH_WORKERS = 2
"""Password checks running at once (each takes about 0.2 s of CPU)."""
DEFAULT_HASH_QUEUE = 8
"""Password checks allowed to wait for a worker; more are turned away at once, so no
login waits more than a second or so for its check."""
_HASH_WORKER_NICENESS = 10


class Error(Exception):
    """A security primitive could not do its job."""


class BusyError(Error):
    """Too many password checks are running or waiting; try again in a few seconds."""


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``. Slow on purpose (argon2)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class PasswordWork:
    """A small, bounded pool for argon2 work, so that logins cannot starve the event loop.

    argon2 releases the GIL, so the loop keeps running while a check computes; the pool
    bounds how many run at once (``workers``, on threads of lowered priority where the OS
    allows it) and how many may wait (``queue``). Anything beyond is refused at once with
    :class:`BusyError` instead of queueing without limit.
    """

    def __init__(
        self, workers: int = DEFAULT_HASH_WORKERS, queue: int = DEFAULT_HASH_QUEUE
    ) -> None:
        if workers < 1 or queue < 0:
            raise Error("password work needs at least one worker and a queue of zero or more")
        self._capacity = workers + queue
        self._pending = 0
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="dutydesk-password",
            initializer=_lower_thread_priority,
        )

    @property
    def pending(self) -> int:
        """Checks running or waiting now."""
        return self._pending

    async def verify(self, password_hash: str, password: str) -> bool:
        """Run :func:`verify_password` in the pool; :class:`BusyError` when it is full."""
        # Looked up at call time so that tests can count the checks.
        return await self._run(lambda: verify_password(password_hash, password))

    async def hash(self, password: str) -> str:
        """Run :func:`hash_password` in the pool; :class:`BusyError` when it is full."""
        return await self._run(lambda: hash_password(password))

    async def _run(self, work: Callable[[], _T]) -> _T:
        with self._lock:
            if self._pending >= self._capacity:
                raise BusyError("too many logins at once; try again in a few seconds")
            self._pending += 1
        try:
            future = self._executor.submit(work)
        except RuntimeError:
            self._release(None)
            raise
        # Released when the thread is done, not when the caller gives up, so a client
        # that disconnects cannot leave more work queued than the bound.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        """Stop the workers once the checks under way are done (without waiting)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _lower_thread_priority() -> None:
    """Make this worker (and argon2's lane threads it starts) yield the CPU to the loop."""
    if sys.platform != "linux":
        return
    try:
        # On Linux the niceness is per thread, and threads started later inherit it.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _HASH_WORKER_NICENESS)
    except OSError as exc:
        logger.debug("cannot lower the priority of a password worker: %s", exc)


def new_token() -> tuple[str, str]:
    """Return a fresh bearer token and the hash to store (the token itself is never stored)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Return the stored form of a bearer token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mask_phone(phone: str) -> str:
    """Mask a phone number for display: ``13812345678`` → ``138****5678``."""
    digits = phone.strip()
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) <= 7:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """Mask a person's name for display: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``."""
    name = name.strip()
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


ADDRESS_MASK = "****"
"""What stands for the hidden part of an address (fixed, so its length tells nothing)."""
# The street-level words an address is kept up to ("街道" before "街", "大道" before "道").
_STREET_RE = re.compile(r"街道|大道|胡同|路|街|巷|弄")
# Failing those, the last administrative level it names (a 小区 or 社区 is not a 区).
_AREA_RE = re.compile(r"省|市|(?<![小社园景校厂])区|县|旗|镇|乡")


def mask_address(address: str) -> str:
    """Mask an address down to its district or street.

    ``杭州市西湖区文三路90号3幢201室`` → ``杭州市西湖区文三路****``: the part a dispatcher
    may see to judge where help goes, not the door. An address naming no street keeps up
    to its last district/town word; one naming neither shows nothing but the mask.
    """
    address = address.strip()
    if not address:
        return ""
    street = _STREET_RE.search(address)
    if street is not None:
        kept = address[: street.end()]
    else:
        areas = list(_AREA_RE.finditer(address))
        kept = address[: areas[-1].end()] if areas else ""
    if kept == address:
        return address
    return kept + ADDRESS_MASK


SENSITIVE_PLACEHOLDER = "〔敏感内容，需授权查看〕"
"""What views carry instead of a sensitive free text (a note about a person under
special care, a health status): that there is one, never what it says."""


KEY_FILE_ENVIRONMENT_VARIABLE = "DUTYDESK_KEY_FILE"
"""Path of the data key file; default ``secret.key`` in the data folder."""
SECRET_KEY_ENVIRONMENT_VARIABLE = "DUTYDESK_SECRET_KEY"  # noqa: S105  (a variable's name)
"""The data key(s) themselves, in the key file's format (or one bare key), instead of a
file: for containers whose secrets arrive as environment variables."""
KEY_FILE_NAME = "secret.key"
LEGACY_KEY_ID = "k0"
"""The id of a key written before keys had ids (a key file holding one bare key), and of
ciphertext written without an id prefix."""
_KEY_ID_RE = re.compile(r"^k[0-9]{1,6}$")
_KEY_FILE_HEADER = (
    '# DutyDesk data keys: one "id key" per line. The last line encrypts new data; the\n'
    "# others still decrypt data written before a rotation. Keep this file out of the\n"
    "# database backups and back it up separately (docs/operations.md, Personal data).\n"
)


def key_file_path(data_dir: Path) -> Path:
    """Where the data keys live: ``$DUTYDESK_KEY_FILE``, else ``data_dir/secret.key``."""
    configured = os.environ.get(KEY_FILE_ENVIRONMENT_VARIABLE)
    return Path(configured) if configured else data_dir / KEY_FILE_NAME


def parse_keys(text: str, *, origin: str) -> list[tuple[str, bytes]]:
    """Read ``id key`` lines (comments and blank lines skipped); a file holding one bare
    key (written before keys had ids) is that key as :data:`LEGACY_KEY_ID`."""
    keys: list[tuple[str, bytes]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 1:
            keys.append((LEGACY_KEY_ID, parts[0].encode("ascii")))
        elif len(parts) == 2 and _KEY_ID_RE.match(parts[0]):
            keys.append((parts[0], parts[1].encode("ascii")))
        else:
            raise Error(f'{origin}, line {number}: expected "id key" (id like k1)')
    if not keys:
        raise Error(f"{origin} holds no key")
    ids = [key_id for key_id, _ in keys]
    if len(set(ids)) != len(ids):
        raise Error(f"{origin}: a key id appears twice")
    return keys


def write_key_file(path: Path, keys: Sequence[tuple[str, bytes]]) -> None:
    """Write the key ring to ``path`` (mode 0600) so that a crash leaves either the old
    file or the new one, never half of one: a temporary file, fsync, then rename."""
    text = _KEY_FILE_HEADER + "".join(f"{key_id} {key.decode('ascii')}\n" for key_id, key in keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def next_key_id(key_ids: Iterable[str]) -> str:
    """The id after the highest of ``key_ids`` (``k1``, ``k2``, …)."""
    return f"k{max((int(key_id[1:]) for key_id in key_ids), default=0) + 1}"


class FieldCipher:
    """Encrypts sensitive personal fields (callers' names, numbers and addresses, notes
    about persons under special care, camera credentials) before they reach the database.

    It holds a ring of versioned keys kept outside the database (a key file, or
    ``$DUTYDESK_SECRET_KEY``): new data is encrypted with the newest (the *primary*) and
    the ciphertext names its key (``k2:gAAAA…``), so that after a rotation the older keys
    still read what was written before, until ``dutydesk keys rotate`` has re-encrypted it.
    Ciphertext without an id was written before keys had ids: :data:`LEGACY_KEY_ID`.
    """

    def __init__(
        self,
        key: bytes | None = None,
        *,
        keys: Sequence[tuple[str, bytes]] | None = None,
        path: Path | None = None,
    ) -> None:
        if (key is None) == (keys is None):
            raise Error("give one key or a ring of keys")
        ring = [(LEGACY_KEY_ID, key)] if key is not None else list(keys or ())
        self._path = path
        self._load(ring)

    def _load(self, ring: Sequence[tuple[str, bytes]]) -> None:
        fernets: dict[str, Fernet] = {}
        for key_id, key in ring:
            try:
                fernets[key_id] = Fernet(key)
            except ValueError as exc:
                raise Error(f"data key {key_id} is not a valid Fernet key: {exc}") from exc
        if not fernets:
            raise Error("no data key")
        self._fernets = fernets
        self._primary = ring[-1][0]

    @classmethod
    def generate(cls) -> FieldCipher:
        """Return a cipher with a fresh random key (tests, temporary demo databases)."""
        return cls(keys=[("k1", Fernet.generate_key())])

    @staticmethod
    def new_key() -> bytes:
        """A fresh random key for the ring."""
        return Fernet.generate_key()

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, create: bool = True) -> FieldCipher:
        """Load the keys from ``$DUTYDESK_SECRET_KEY``, else from the key file
        (``$DUTYDESK_KEY_FILE``, else ``data_dir/secret.key``).

        A missing key file is created (mode 0600) with one new key, unless ``create`` is
        false (then :class:`MissingKeyError`). Losing the file makes the encrypted fields
        unreadable: operations docs tell admins to back it up, apart from the database.
        """
        env_keys = os.environ.get(SECRET_KEY_ENVIRONMENT_VARIABLE)
        if env_keys:
            return cls(keys=parse_keys(env_keys, origin=f"${SECRET_KEY_ENVIRONMENT_VARIABLE}"))
        path = key_file_path(data_dir)
        if not path.exists():
            if not create:
                raise MissingKeyError(f"no data key file at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(_KEY_FILE_HEADER + f"k1 {Fernet.generate_key().decode('ascii')}\n")
            logger.info("created a new data encryption key at %s; back it up", path)
        return cls(keys=read_key_file(path), path=path)

    @property
    def primary_id(self) -> str:
        """The id of the key new data is encrypted with."""
        return self._primary

    @property
    def key_ids(self) -> list[str]:
        """Every key id of the ring, oldest first (the primary last)."""
        return list(self._fernets)

    @property
    def path(self) -> Path | None:
        """The key file the ring was read from (None: from the environment or code)."""
        return self._path

    @staticmethod
    def key_id_of(ciphertext: str) -> str:
        """The id of the key ``ciphertext`` was written with."""
        key_id, separator, _ = ciphertext.partition(":")
        return key_id if separator else LEGACY_KEY_ID

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext`` with the primary key; the empty string stays empty."""
        if not plaintext:
            return ""
        token = self._fernets[self._primary].encrypt(plaintext.encode("utf-8")).decode("ascii")
        return f"{self._primary}:{token}"

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt what :meth:`encrypt` produced, with whichever key of the ring wrote it.

        A key id this ring does not know sends it back to its key file once (another
        process rotated the keys since this one started).
        """
        if not ciphertext:
            return ""
        key_id, separator, token = ciphertext.partition(":")
        if not separator:
            key_id, token = LEGACY_KEY_ID, ciphertext
        fernet = self._fernets.get(key_id)
        if fernet is None and self._path is not None and self._reload():
            fernet = self._fernets.get(key_id)
        if fernet is None:
            raise Error(f"cannot decrypt a protected field: data key {key_id} is not in the ring")
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise Error("cannot decrypt a protected field: wrong or rotated key") from exc

    def reencrypt(self, ciphertext: str) -> str | None:
        """``ciphertext`` encrypted anew with the primary key, or None when it already is
        (or is empty)."""
        if not ciphertext or self.key_id_of(ciphertext) == self._primary:
            return None
        return self.encrypt(self.decrypt(ciphertext))

    def _reload(self) -> bool:
        if self._path is None:
            return False
        try:
            ring = read_key_file(self._path)
        except (Error, OSError) as exc:
            logger.warning("cannot re-read the data keys at %s: %s", self._path, exc)
            return False
        self._load(ring)
        logger.info("data keys re-read from %s (primary %s)", self._path, self._primary)
        return True


class MissingKeyError(Error):
    """There is no data key where one was expected."""


def read_key_file(path: Path) -> list[tuple[str, bytes]]:
    """The key ring stored at ``path``, oldest key first."""
    return parse_keys(path.read_text(encoding="ascii"), origin=str(path))
