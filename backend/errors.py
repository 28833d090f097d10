"""Refusals: the one exception family every backend package raises to say "no" to a
request, and the server maps to the protocol's error codes in one place
(:mod:`backend.server.commands`).

A refusal carries the machine-readable :class:`~realtime.protocol.ErrorCode` and a
message for the operator; both go back to the client as they are. Anything else a
handler raises is a bug or an outage: the server answers ``internal`` for that request,
logs it once with its traceback and carries on with the session.
"""

from __future__ import annotations

from realtime.protocol import ErrorCode


class Error(Exception):
    """A refused request; ``code`` and ``message`` go back to the client as they are."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ForbiddenError(Error):
    """The principal may not do this (role, jurisdiction or agency); ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message)


class ValidationError(Error):
    """The request is well-formed but cannot be carried out as asked; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.VALIDATION, message)
