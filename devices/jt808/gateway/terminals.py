"""What the JT/T 808 gateway knows about its terminals, across their connections.

:class:`Terminals` keeps one :class:`TerminalState` per device (online or not, last heard
of, live alarm bits, its current connection) and is the connections' single way to the
terminal registry and the observation sink, whose failures it logs and turns into
:class:`~devices.jt808.gateway.errors.SinkRefusedError` or
:class:`~devices.jt808.gateway.errors.RegistryFailedError`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from devices.jt808.gateway.errors import RegistryFailedError, SinkRefusedError
from devices.jt808.gateway.registry import TerminalRegistry
from devices.jt808.messages import Register, RegisterResult
from devices.observations import DeviceStatusChanged, Observation, ObservationSink, SinkGuard

if TYPE_CHECKING:
    from devices.jt808.gateway.connection import TerminalConnection

logger = logging.getLogger(__name__)

T = TypeVar("T")


def now_utc() -> dt.datetime:
    """The current time, UTC (when the gateway itself observes something)."""
    return dt.datetime.now(dt.UTC)


@dataclass(eq=False)
class TerminalState:
    """What the gateway knows about one terminal across its connections."""

    device: str
    online: bool = False
    last_seen: float = 0.0
    alarm_flags: int = 0
    """Alarm bits of the last acknowledged live report (for rising-edge detection)."""
    reserved_logged: int = 0
    """Reserved alarm bits already logged for this terminal (a mask)."""
    connection: TerminalConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Terminals:
    """Every terminal's state, and the gateway's access to the registry and the sink."""

    def __init__(self, sink: ObservationSink, registry: TerminalRegistry) -> None:
        self._registry = registry
        self.guard = SinkGuard(sink, logger)
        """The sink, its failures logged once and its recovery once."""
        self.states: dict[str, TerminalState] = {}

    def state(self, device: str) -> TerminalState:
        """The state of ``device`` (created on first use)."""
        state = self.states.get(device)
        if state is None:
            state = self.states[device] = TerminalState(device)
        return state

    @property
    def online(self) -> frozenset[str]:
        """Device ids of terminals with a live authenticated connection."""
        return frozenset(
            device for device, state in self.states.items() if state.connection is not None
        )

    async def submit(self, observation: Observation) -> None:
        """Hand ``observation`` to the sink; :class:`SinkRefusedError` if it refused."""
        if not await self.guard.submit(observation):
            raise SinkRefusedError(f"observation sink refused {type(observation).__name__}")

    async def register(self, device: str, message: Register) -> tuple[RegisterResult, str]:
        """Ask the registry; :class:`RegistryFailedError` (logged) if it raised."""
        return await self._ask("register", device, self._registry.register(device, message))

    async def authenticate(self, device: str, code: str) -> bool:
        """Ask the registry; :class:`RegistryFailedError` (logged) if it raised."""
        return await self._ask("authenticate", device, self._registry.authenticate(device, code))

    async def _ask(self, what: str, device: str, request: Awaitable[T]) -> T:
        try:
            return await request
        except Exception as exc:
            logger.exception("terminal registry failed to %s %s", what, device)
            raise RegistryFailedError(str(exc)) from exc

    async def mark_offline(self, state: TerminalState, reason: str) -> None:
        """Report ``state``'s terminal offline (once); left online if the sink refused."""
        async with state.lock:
            if not state.online:
                return
            try:
                await self.submit(
                    DeviceStatusChanged(
                        device=state.device, online=False, at=now_utc(), reason=reason
                    )
                )
            except SinkRefusedError:
                return  # retried on the next watchdog tick
            state.online = False
        logger.info("terminal %s offline: %s", state.device, reason)
