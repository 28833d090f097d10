"""The TOTP second factor (RFC 6238, as authenticator apps speak it), without I/O.

A code is accepted for the current 30-second step and one step either side (clocks
drift); the step it matched is returned so that the caller can refuse the same code a
second time (a code seen over a shoulder or in a log is then worthless).
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

ISSUER = "DutyDesk"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
"""Steps accepted either side of now (±30 s of clock drift)."""


class Error(Exception):
    """A second-factor code was refused; ``str()`` is safe to show."""


def new_secret() -> str:
    """A fresh random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads (as a QR code or pasted)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def step_of(at: dt.datetime) -> int:
    """The TOTP time step that contains ``at``."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of ``step`` (tests, and what the user's app shows)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, at: dt.datetime, last_step: int | None) -> int:
    """Return the step ``code`` belongs to near ``at``; raise :class:`Error` if it is
    wrong, too old, or was used already (its step is not after ``last_step``)."""
    code = code.strip().replace(" ", "")
    if not code:
        raise Error("second factor code required")
    if len(code) != DIGITS or not code.isdigit():
        raise Error(f"a second factor code has {DIGITS} digits")
    now = step_of(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            if last_step is not None and step <= last_step:
                raise Error("this second factor code was used already; wait for the next one")
            return step
    raise Error("wrong or expired second factor code")
