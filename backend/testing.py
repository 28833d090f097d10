"""Test support: a real DutyDesk server in a background thread (see :mod:`backend.embedded`)."""

from backend.embedded import DEFAULT_USERS, ServerThread

__all__ = ["DEFAULT_USERS", "ServerThread"]
