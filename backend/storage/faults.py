"""A testing aid: fail a fraction of commits on purpose (off unless configured).

``DUTYDESK_FAULT_COMMIT_FAIL_RATE`` (a fraction between 0 and 1, read once when the
process starts) makes that share of telemetry group commits and event-log transactions
(alarms, device status) fail before they commit, as a database that drops a commit would.
The fault harness (``bench/faults.py``) uses it to check that nothing acknowledged is
lost. Never set it on a production server: it loses nothing acknowledged, but it refuses
work on purpose.
"""

from __future__ import annotations

import logging
import os
import random

from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "DUTYDESK_FAULT_COMMIT_FAIL_RATE"


class InjectedCommitFailureError(SQLAlchemyError):
    """A commit failed on purpose (:data:`ENVIRONMENT_VARIABLE` is set)."""


def _rate_from_environment() -> float:
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return 0.0
    try:
        rate = float(text)
    except ValueError as exc:
        raise SystemExit(f"{ENVIRONMENT_VARIABLE}={text!r} is not a number") from exc
    if not 0.0 <= rate <= 1.0:
        raise SystemExit(f"{ENVIRONMENT_VARIABLE}={text!r} is not between 0 and 1")
    return rate


COMMIT_FAIL_RATE = _rate_from_environment()
"""The configured share of commits to fail (0.0 unless the environment sets it)."""
_announced = False
_chance = random.Random()  # noqa: S311 - a test aid's coin, not security


def before_commit(what: str) -> None:
    """Raise :class:`InjectedCommitFailureError` for the configured share of commits."""
    global _announced  # noqa: PLW0603 - one warning per process
    if not COMMIT_FAIL_RATE or _chance.random() >= COMMIT_FAIL_RATE:
        return
    if not _announced:
        _announced = True
        logger.warning(
            "%s=%s: failing that share of commits on purpose (a testing aid)",
            ENVIRONMENT_VARIABLE,
            COMMIT_FAIL_RATE,
        )
    raise InjectedCommitFailureError(f"injected commit failure ({what}; {ENVIRONMENT_VARIABLE})")
