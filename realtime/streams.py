"""Video stream addresses of cameras: what kinds are accepted, and how to show them safely.

Camera stream URLs often carry credentials (``rtsp://admin:secret@10.0.0.5/Streaming/…``
or ``http://host/video?user=admin&password=secret``). The URL itself must reach an
authorized console, which needs it to connect; everywhere it is shown or logged, the
backend and the console use :func:`mask_stream_url` instead.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Final

STREAM_SCHEMES: Final = frozenset({"rtsp", "rtsps", "http", "https", "file"})
"""URL schemes a camera's stream may use; anything else must be an absolute file path."""
MASK: Final = "***"
"""What stands in for a secret in a displayed address."""
SECRET_QUERY_KEYS: Final = frozenset(
    {
        "access_token",
        "auth",
        "authorization",
        "key",
        "pass",
        "passwd",
        "password",
        "pwd",
        "secret",
        "sig",
        "signature",
        "token",
    }
)
"""Query parameters whose values are credentials (lower case)."""

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


class Error(ValueError):
    """A stream address that cannot be used; the message says why."""


def is_url(address: str) -> bool:
    """Return whether ``address`` is a URL (has a known scheme) rather than a file path."""
    scheme = urllib.parse.urlsplit(address.strip()).scheme.lower()
    return scheme in STREAM_SCHEMES


def validate_stream_url(address: str) -> str:
    """Return ``address`` stripped if it is a usable stream address, else raise :class:`Error`.

    Accepted: ``rtsp://``, ``rtsps://``, ``http://``, ``https://`` and ``file://`` URLs,
    and absolute file paths of recorded clips (``/srv/clips/gate.mp4``).
    """
    value = address.strip()
    if not value:
        raise Error("a camera needs a stream address")
    if any(character.isspace() or ord(character) < 32 for character in value):
        raise Error("a stream address may not contain spaces or control characters")
    if len(value) > 1000:
        raise Error("a stream address may be at most 1000 characters long")
    parts = urllib.parse.urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme in STREAM_SCHEMES:
        if scheme != "file" and not parts.hostname:
            raise Error(f"{mask_stream_url(value)} names no host")
        return value
    if value.startswith("/"):
        return value
    schemes = ", ".join(f"{name}://" for name in sorted(STREAM_SCHEMES))
    raise Error(f"a stream address must start with {schemes} or be an absolute file path")


def mask_stream_url(address: str) -> str:
    """Return ``address`` with its credentials replaced by ``***``, for display and logs.

    ``rtsp://admin:secret@cam.example/ch1`` → ``rtsp://***@cam.example/ch1``;
    ``http://h/v?user=a&password=b`` → ``http://h/v?user=a&password=***``. File paths come
    back unchanged.
    """
    value = address.strip()
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() not in STREAM_SCHEMES and "://" not in value:
        return value
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        query = "&".join(_mask_query_item(item) for item in query.split("&"))
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_query_item(item: str) -> str:
    name, equals, _value = item.partition("=")
    if equals and urllib.parse.unquote(name).lower() in SECRET_QUERY_KEYS:
        return f"{name}={MASK}"
    return item


def mask_urls_in_text(text: str) -> str:
    """Mask every URL inside ``text`` (an error message from a player, say)."""
    return _URL_IN_TEXT.sub(lambda match: mask_stream_url(match.group(0)), text)
