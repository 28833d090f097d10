"""Password hashing, bearer tokens, and encryption of sensitive personal data at rest."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable
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


class FieldCipher:
    """Encrypts sensitive personal fields (caller phones…) before they reach the database."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise Error(f"the data encryption key is not a valid Fernet key: {exc}") from exc

    @classmethod
    def generate(cls) -> FieldCipher:
        """Return a cipher with a fresh random key (tests, temporary demo databases)."""
        return cls(Fernet.generate_key())

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> FieldCipher:
        """Load the key from ``$DUTYDESK_SECRET_KEY`` or ``data_dir/secret.key``.

        A missing key file is created (mode 0600). Losing it makes encrypted fields
        unreadable, so operations docs tell admins to back it up with the database.
        """
        env_key = os.environ.get("DUTYDESK_SECRET_KEY")
        if env_key:
            return cls(env_key.encode("ascii"))
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
            logger.info("created a new data encryption key at %s; back it up", path)
        return cls(path.read_bytes().strip())

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext``; the empty string stays empty."""
        if not plaintext:
            return ""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt what :meth:`encrypt` produced."""
        if not ciphertext:
            return ""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise Error("cannot decrypt a protected field: wrong or rotated key") from exc
