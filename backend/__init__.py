"""The DutyDesk backend: WebSocket server, authentication, alarm services, storage and
the event log. Imports ``realtime`` and ``devices``; never Qt, never ``desktop``."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dutydesk")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
