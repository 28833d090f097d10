"""What both ends of the DutyDesk wire agree on besides the messages: size and rate
limits, endpoint paths and the WebSocket close codes DutyDesk adds to the standard ones."""

from __future__ import annotations

import enum
from typing import Final

MAX_CONSOLE_MESSAGE_BYTES: Final = 64 * 1024
"""Largest message a console may send; larger ones close the connection with 1009."""
MAX_DEVICE_MESSAGE_BYTES: Final = 16 * 1024
"""Largest message a device feed may send."""
MAX_SERVER_MESSAGE_BYTES: Final = 16 * 1024 * 1024
"""Largest message the server sends (a snapshot); clients set their max_size to this."""
CONSOLE_RATE_PER_SECOND: Final = 20.0
CONSOLE_RATE_BURST: Final = 60
DEVICE_RATE_PER_SECOND: Final = 200.0
DEVICE_RATE_BURST: Final = 400
HELLO_TIMEOUT_SECONDS: Final = 10.0
MAX_REPLAY_EVENTS: Final = 10_000
"""A resume further back than this gets a snapshot instead of a replay."""

CONSOLE_PATH: Final = "/console"
DEVICE_PATH: Final = "/device"
HEALTH_PATH: Final = "/health"

# WebSocket close codes DutyDesk uses besides the standard ones.
CLOSE_HELLO_EXPECTED: Final = 4002
CLOSE_UNSUPPORTED_PROTOCOL: Final = 4003
CLOSE_RATE_ABUSE: Final = 4008
CLOSE_TOO_SLOW: Final = 4013
CLOSE_SESSION_ENDED: Final = 4001
"""The server ended the session; the close reason is a :class:`SessionEndReason` value.
The client must not reconnect with its token (it was revoked): log in again."""
CLOSE_SESSION_EXPIRED: Final = 4011
CLOSE_EXERCISE_ENDED: Final = 4020
"""The exercise this connection took part in was stopped; the reason says how. Do not
reconnect (its path answers 410 Gone from then on)."""
"""The session outlived its lifetime (12 h by default); the reason is ``expired``."""

SECOND_FACTOR_HEADER: Final = "X-DutyDesk-TOTP"
"""Handshake header carrying the 6-digit TOTP code of a user who needs a second factor."""
SECOND_FACTOR_CHALLENGE_HEADER: Final = "X-DutyDesk-Second-Factor"
"""Set to ``totp`` on a 401 refusal when the code is missing or wrong (ask for it)."""


class SessionEndReason(enum.StrEnum):
    """Why the server ended a session: the close reason of :data:`CLOSE_SESSION_ENDED`
    (and :data:`CLOSE_SESSION_EXPIRED`), and the ``end_reason`` kept for the session."""

    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    ACCOUNT_CHANGED = "account_changed"
    """The role, agency or jurisdiction changed."""
    DISABLED = "disabled"
    LOGGED_OUT = "logged_out"
    """An administrator ended the user's sessions (``dutydesk user logout``)."""
    SECOND_FACTOR_CHANGED = "second_factor_changed"
    UNLOCK_FAILED = "unlock_failed"
    """Too many wrong passwords on the lock screen."""
    EXPIRED = "expired"
    CLOSED = "closed"
    """The connection closed normally (not sent as a close reason)."""
