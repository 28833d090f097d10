"""What both ends of the DutyDesk wire agree on besides the messages: size and rate
limits, endpoint paths and the WebSocket close codes DutyDesk adds to the standard ones."""

from __future__ import annotations

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
