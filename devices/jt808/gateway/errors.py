"""The JT/T 808 gateway's own errors (the codec's are in :mod:`devices.jt808.errors`)."""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of the gateway's own errors."""


class TerminalOfflineError(GatewayError):
    """The terminal has no live, authenticated connection to this gateway."""


class AnswerLostError(TerminalOfflineError):
    """The connection closed after the message went out, before the terminal answered it:
    the terminal may have received it and carried it out."""


class ReplyTimeoutError(GatewayError, TimeoutError):
    """The terminal did not answer a platform message in time."""


class SinkRefusedError(GatewayError):
    """The observation sink raised; the frame is not acknowledged."""


class RegistryFailedError(GatewayError):
    """The terminal registry raised."""


class BadAnswerError(GatewayError):
    """The terminal answered an order with a message that could not be decoded."""
