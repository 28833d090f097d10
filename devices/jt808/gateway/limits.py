"""What keeps one host from locking everyone else out of the JT/T 808 gateway.

:class:`ConnectionLimits` caps the connections per source address and in total;
:class:`Episodes` logs a kind of trouble from one address once when it starts and once
when it is over (with how many times it happened), however many sockets it involves;
:class:`GatewayCounters` counts what was refused, closed or ignored, for ``/health``.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T", int, float)

EPISODE_QUIET_SECONDS = 60.0
"""An episode is over once this long passed without another occurrence."""


def address_of(peer: object) -> str:
    """The source address of ``peername`` (without the port)."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)


class ConnectionLimits:
    """Connections open per source address, against a per-address and a total cap."""

    def __init__(self, *, per_address: int, total: int) -> None:
        self.per_address = per_address
        self.total = total
        self._open: Counter[str] = Counter()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def refusal(self, address: str) -> str | None:
        """Why one more connection from ``address`` is refused, or ``None`` if it fits."""
        if self._count >= self.total:
            return f"{self.total} connections open (the total cap)"
        if self._open[address] >= self.per_address:
            return f"{self.per_address} connections open from this address (the per-address cap)"
        return None

    def opened(self, address: str) -> None:
        """A connection from ``address`` was accepted."""
        self._open[address] += 1
        self._count += 1

    def closed(self, address: str) -> None:
        """A connection from ``address`` that :meth:`opened` ended."""
        left = self._open[address] - 1
        if left > 0:
            self._open[address] = left
        else:
            del self._open[address]
        self._count -= 1


@dataclass(slots=True)
class _Episode:
    started: float
    last: float
    count: int = 1


class Episodes:
    """Trouble logged once per episode: the first occurrence of ``(what, address)`` logs a
    warning, later ones are counted, and :meth:`sweep` logs the end of every episode
    quiet for ``quiet`` seconds, with its count."""

    def __init__(self, quiet: float = EPISODE_QUIET_SECONDS) -> None:
        self._quiet = quiet
        self._open: dict[tuple[str, str], _Episode] = {}

    def occurred(self, what: str, address: str, detail: str, now: float) -> None:
        """``what`` happened with a connection from ``address`` at ``now`` (``detail``
        says why; logged only when an episode starts)."""
        episode = self._open.get((what, address))
        if episode is not None:
            episode.count += 1
            episode.last = now
            return
        self._open[(what, address)] = _Episode(now, now)
        logger.warning(
            "JT/T 808 %s from %s: %s (further ones from this address are counted until "
            "%g s pass without one)",
            what,
            address,
            detail,
            self._quiet,
        )

    def sweep(self, now: float) -> None:
        """Log the end of every episode that has been quiet long enough."""
        for key, episode in list(self._open.items()):
            if now - episode.last >= self._quiet:
                del self._open[key]
                what, address = key
                logger.info(
                    "JT/T 808 %s from %s over: %s in %.0f s",
                    what,
                    address,
                    episode.count,
                    episode.last - episode.started,
                )


@dataclass(slots=True)
class GatewayCounters:
    """What the gateway refused, closed or ignored since it started (for ``/health``)."""

    refused: Counter[str] = field(default_factory=Counter)
    """Connections refused at accept, by reason (``per_address_cap``, ``total_cap``)."""
    closed: Counter[str] = field(default_factory=Counter)
    """Connections closed by the gateway, by reason (``login_timeout``, ``garbage``,
    ``byte_rate``)."""
    reserved_alarm_bits: Counter[int] = field(default_factory=Counter)
    """Rising edges of alarm bits the standard leaves reserved, by bit (no alarm)."""

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Plain JSON-able counts."""
        return {
            "refused": dict(self.refused),
            "closed": dict(self.closed),
            "reserved_alarm_bits": {
                str(bit): count for bit, count in sorted(self.reserved_alarm_bits.items())
            },
        }


DEFAULT_LOGIN_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 10_000
DEFAULT_MAX_PER_ADDRESS = 256


def add_limit_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Add the gateway's login deadline and connection caps to a command line
    (``--PREFIXlogin-timeout`` …; ``dutydesk serve`` uses the prefix ``jt808-``)."""
    parser.add_argument(
        f"--{prefix}login-timeout",
        type=_positive(float),
        default=DEFAULT_LOGIN_TIMEOUT,
        metavar="SECONDS",
        help="close a terminal connection that has not authenticated this long after "
        f"connecting (default: {DEFAULT_LOGIN_TIMEOUT:g})",
    )
    parser.add_argument(
        f"--{prefix}max-connections",
        type=_positive(int),
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"terminal connections open at most, in total (default: {DEFAULT_MAX_CONNECTIONS})",
    )
    parser.add_argument(
        f"--{prefix}max-per-address",
        type=_positive(int),
        default=DEFAULT_MAX_PER_ADDRESS,
        metavar="N",
        help="terminal connections open at most from one source address; raise it for a "
        f"fleet behind one NAT address (default: {DEFAULT_MAX_PER_ADDRESS})",
    )


@dataclass(frozen=True, slots=True)
class LimitOptions:
    """The login deadline and connection caps of a :class:`~devices.jt808.gateway.Jt808Gateway`
    (its keyword arguments of the same names)."""

    login_timeout: float = DEFAULT_LOGIN_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_connections_per_address: int = DEFAULT_MAX_PER_ADDRESS


def limit_options(args: argparse.Namespace, prefix: str = "") -> LimitOptions:
    """The options :func:`add_limit_options` added, as given on the command line."""
    name = prefix.replace("-", "_")
    return LimitOptions(
        login_timeout=getattr(args, f"{name}login_timeout"),
        max_connections=getattr(args, f"{name}max_connections"),
        max_connections_per_address=getattr(args, f"{name}max_per_address"),
    )


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse
