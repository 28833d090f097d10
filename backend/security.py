"""Password hashing, bearer tokens, and encryption of sensitive personal data at rest."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger(__name__)

_hasher = PasswordHasher()


class Error(Exception):
    """A security primitive could not do its job."""


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``. Slow on purpose (argon2)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


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
