"""Orders to vehicle terminals (JT/T 808) beyond the text message: what each order is on
the wire, which need a second step, the confirmation tokens, the per-user rate limit and
the view of the terminal's answer.

The server side (:mod:`backend.server.vehicle_command_handlers`) checks the role and the
vehicle's area, then asks :class:`VehicleCommands` to send; this module does no checks of
scope and knows no sockets (the gateway is behind :class:`OrderSender`).

Orders that change the vehicle or the terminal (door control, setting parameters, and a
call-back with listening) are sent only with :meth:`VehicleCommands.confirm`: the first
request gets a one-time token bound to the user, the terminal and the order, valid
:data:`~realtime.protocol.vehicle_commands.CONFIRM_TTL_S` seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

import msgspec

from backend.errors import Error, ValidationError
from backend.runtime.clock import utc_now
from backend.security import mask_phone
from devices.jt808.bits import STATUS_DOORS_LOCKED_BIT, alarm_names
from devices.jt808.errors import EncodeError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.gateway import (
    Answer,
    AnswerLostError,
    BadAnswerError,
    GatewayError,
    ReplyTimeoutError,
    TerminalOfflineError,
)
from devices.jt808.messages import (
    PARAMETER_TYPES,
    CallBackOrder,
    GeneralResult,
    Location,
    Message,
    Parameter,
    ParametersAnswer,
    ParameterType,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    SetParameters,
    TemporaryTracking,
    TerminalGeneralReply,
    TextFlag,
    VehicleControlAnswer,
    VehicleControlOrder,
)
from devices.jt808.messages import QueryParameters as QueryParametersMessage
from realtime.protocol import ErrorCode
from realtime.protocol.vehicle_commands import (
    CONFIRM_TTL_S,
    CallBack,
    CommandOutcome,
    DoorControl,
    LoggedOrder,
    ParameterValue,
    PositionReply,
    QueryParameters,
    QueryPosition,
    TextToDriver,
    VehicleCommandView,
    VehicleControl,
    VehicleOrder,
)
from realtime.protocol.vehicle_commands import (
    SetParameters as SetParametersOrder,
)
from realtime.protocol.vehicle_commands import (
    TemporaryTracking as TrackOrder,
)
from realtime.ratelimit import UserRateLimit

logger = logging.getLogger(__name__)

_A = TypeVar("_A")

ORDERS_PER_MINUTE: Final = 10
"""Orders (and confirmation requests) one user may send a minute, in bursts of as many."""
MAX_TOKENS_PER_USER: Final = 8
"""Confirmation tokens one user may hold at once (the oldest goes first)."""
TEXTS_PER_MINUTE: Final = 30
"""Texts (0x8300) one user may send a minute, to all terminals together (a dispatcher
warns several drivers in a row; a script flooding the drivers' screens is stopped)."""
REPLY_TIMEOUT_S: Final = 10.0
"""How long an order waits for the terminal's answer."""

PARAMETER_RANGES: Final[dict[int, tuple[int, int]]] = {
    0x0001: (1, 3600),
    0x0002: (1, 600),
    0x0003: (0, 10),
    0x0018: (1, 65_535),
    0x0020: (0, 2),
    0x0027: (1, 86_400),
    0x0028: (1, 3600),
    0x0029: (1, 86_400),
    0x0055: (1, 250),
    0x0056: (0, 3600),
    0x0080: (0, 0xFFFF_FFFF),
    0x0081: (0, 0xFFFF),
    0x0082: (0, 0xFFFF),
    0x0084: (0, 9),
}
"""Integer parameters: the values this platform will set (a heartbeat of 0 or a port of
0 would cut the terminal off; the rest are what a vehicle can sensibly use)."""

_HOST = re.compile(r"^[A-Za-z0-9.-]{1,63}(:[0-9]{1,5})?$")
_PLATE_BYTES = 12


class OrderSender(Protocol):
    """The gateway as the order service sees it."""

    async def send_order(
        self, phone: str, order: Message, *, timeout: float | None = None
    ) -> Answer:
        """Send ``order`` and return the terminal's answer."""
        ...

    def protocol_of(self, phone: str) -> ProtocolVersion | None:
        """The terminal's edition, None when it is not connected."""
        ...

    async def send_text(self, phone: str, text: str, flags: int = ...) -> GeneralResult:
        """Send a 0x8300 text and return the result of the terminal's 0x0001."""
        ...


def needs_confirmation(order: VehicleOrder) -> bool:
    """Whether ``order`` is sent only after a second step (and by supervisors only)."""
    if isinstance(order, CallBack):
        return order.listen
    return isinstance(order, VehicleControl | SetParametersOrder)


def validate(order: VehicleOrder) -> None:
    """Refuse an order that must not go out (:class:`ValidationError`, saying why)."""
    if isinstance(order, CallBack) and "*" in order.phone:
        raise ValidationError("the call-back number must be digits (a masked number was sent)")
    if isinstance(order, QueryParameters):
        unknown = [
            f"0x{identifier:04X}" for identifier in order.ids if identifier not in PARAMETER_TYPES
        ]
        if unknown:
            raise ValidationError(f"unknown parameter ids: {', '.join(unknown)}")
    if isinstance(order, SetParametersOrder):
        seen: set[int] = set()
        for parameter in order.parameters:
            if parameter.id in seen:
                raise ValidationError(f"parameter 0x{parameter.id:04X} is set twice")
            seen.add(parameter.id)
            _check_parameter(parameter)


def _check_parameter(parameter: ParameterValue) -> None:
    label = f"parameter 0x{parameter.id:04X}"
    kind = PARAMETER_TYPES.get(parameter.id)
    if kind is None:
        raise ValidationError(f"{label} is not one this platform sets")
    value = parameter.value
    if kind is ParameterType.STRING:
        if not isinstance(value, str):
            raise ValidationError(f"{label} is text, got {value!r}")
        if parameter.id == 0x0013 and not _HOST.match(value):
            raise ValidationError(
                f"{label} (main server) must be a host name or address, got {value!r}"
            )
        try:
            encoded = value.encode("gbk")
        except UnicodeEncodeError:
            # Refused here, not when a confirmed order is encoded (its token spent).
            raise ValidationError(
                f"{label}: terminals take GBK text, and {value!r} has characters outside it"
            ) from None
        if parameter.id == 0x0083 and not 0 < len(encoded) <= _PLATE_BYTES:
            raise ValidationError(f"{label} (plate) must be 1..{_PLATE_BYTES} bytes")
        return
    if not isinstance(value, int):
        raise ValidationError(f"{label} is a number, got {value!r}")
    low, high = PARAMETER_RANGES[parameter.id]
    if not low <= value <= high:
        raise ValidationError(f"{label} must be {low}..{high}, got {value}")


def to_message(order: VehicleOrder) -> Message:
    """The JT/T 808 message that carries ``order``."""
    if isinstance(order, QueryPosition):
        return PositionQuery()
    if isinstance(order, TrackOrder):
        return TemporaryTracking(interval_s=order.interval_s, validity_s=order.duration_s)
    if isinstance(order, CallBack):
        return CallBackOrder(phone=order.phone, listen=order.listen)
    if isinstance(order, VehicleControl):
        return VehicleControlOrder(lock=order.door is DoorControl.LOCK)
    if isinstance(order, SetParametersOrder):
        return SetParameters(
            tuple(Parameter(parameter.id, parameter.value) for parameter in order.parameters)
        )
    if order.ids:
        return QueryParametersMessage(ids=tuple(order.ids))
    return QueryAllParameters()


def masked(order: LoggedOrder) -> LoggedOrder:
    """``order`` as events and other users see it (the call-back number masked)."""
    if isinstance(order, CallBack):
        return msgspec.structs.replace(order, phone=mask_phone(order.phone))
    return order


_RESULTS: Final[dict[GeneralResult, str]] = {
    GeneralResult.SUCCESS: "success",
    GeneralResult.FAILURE: "failure",
    GeneralResult.MESSAGE_ERROR: "bad_message",
    GeneralResult.UNSUPPORTED: "unsupported",
    GeneralResult.ALARM_CONFIRMED: "failure",
}


def position_of(location: Location, version: ProtocolVersion) -> PositionReply:
    """A location of an answer, for the console."""
    return PositionReply(
        lat=location.lat,
        lon=location.lon,
        speed_kmh=location.speed_kmh,
        heading=location.heading_deg,
        at=location.time,
        alarms=sorted(alarm_names(location.alarm_flags, version)),
        door_locked=bool(location.status_flags & STATUS_DOORS_LOCKED_BIT),
    )


def answered(view: VehicleCommandView, answer: Answer, version: ProtocolVersion) -> None:
    """Fill ``view`` from the terminal's ``answer``."""
    if isinstance(answer, TerminalGeneralReply):
        view.result = _RESULTS[answer.result]
        success = answer.result is GeneralResult.SUCCESS
        view.outcome = CommandOutcome.ANSWERED if success else CommandOutcome.FAILED
        return
    view.outcome = CommandOutcome.ANSWERED
    view.result = "success"
    if isinstance(answer, PositionAnswer | VehicleControlAnswer):
        view.position = position_of(answer.location, version)
    elif isinstance(answer, ParametersAnswer):
        view.parameters = [
            ParameterValue(id=parameter.id, value=parameter.value)
            for parameter in answer.parameters
        ]


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order waiting for its second step."""

    token: str
    username: str
    device: str
    order: VehicleOrder
    expires: float
    """On the service's monotonic clock."""
    confirm_by: dt.datetime


class ConfirmationTokens:
    """One-time tokens for orders that take two steps, kept in memory (a restart forgets
    them: the user asks again). A token is bound to its user, terminal and order, valid
    ``ttl`` seconds and used at most once."""

    def __init__(
        self, ttl: float = CONFIRM_TTL_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._pending: dict[str, PendingOrder] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def issue(
        self, username: str, device: str, order: VehicleOrder, now: dt.datetime
    ) -> PendingOrder:
        """A new token for ``order`` to ``device`` by ``username``."""
        self._sweep()
        mine = sorted(
            (pending for pending in self._pending.values() if pending.username == username),
            key=lambda pending: pending.expires,
        )
        for oldest in mine[: max(0, len(mine) - MAX_TOKENS_PER_USER + 1)]:
            del self._pending[oldest.token]
        pending = PendingOrder(
            token=secrets.token_urlsafe(24),
            username=username,
            device=device,
            order=order,
            expires=self._clock() + self._ttl,
            confirm_by=now + dt.timedelta(seconds=self._ttl),
        )
        self._pending[pending.token] = pending
        return pending

    def take(self, token: str, username: str) -> PendingOrder:
        """The order of ``token``, which is used up. Unknown, used, expired and another
        user's tokens are refused alike (another user's stays valid for its owner)."""
        self._sweep()
        pending = self._pending.get(token)
        if pending is None or pending.username != username:
            raise Error(
                ErrorCode.NOT_FOUND,
                "no such confirmation: it was used, it expired or it is not yours; "
                "send the order again",
            )
        del self._pending[token]
        return pending

    def _sweep(self) -> None:
        now = self._clock()
        for token in [token for token, pending in self._pending.items() if pending.expires <= now]:
            del self._pending[token]


class VehicleCommands:
    """Sends orders to terminals for the server: tokens, rate limit, the answer's view.

    ``sender`` is the JT/T 808 gateway of this server (None: none runs; an exercise's
    server has the exercise's own gateway, so its orders never reach live terminals).
    """

    def __init__(
        self,
        *,
        ttl: float = CONFIRM_TTL_S,
        per_minute: float = ORDERS_PER_MINUTE,
        reply_timeout: float = REPLY_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.sender: OrderSender | None = None
        self.tokens = ConfirmationTokens(ttl, clock=clock)
        self.rate = UserRateLimit(per_minute, clock=clock)
        self.text_rate = UserRateLimit(TEXTS_PER_MINUTE, clock=clock)
        self.reply_timeout = reply_timeout
        self._now = now
        self._in_flight: set[asyncio.Task[VehicleCommandView]] = set()

    async def carry_out(
        self, work: Coroutine[object, object, VehicleCommandView]
    ) -> VehicleCommandView:
        """Run ``work`` (sending an order and logging it) to its end and return its view.

        Once an order is on its way it must be logged, even if the console that asked
        goes away meanwhile (its handler is cancelled): ``work`` runs in a task kept here
        that the caller's cancellation does not reach; :meth:`drain` waits for the rest.
        """
        task = asyncio.create_task(work, name="vehicle order")
        self._in_flight.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[VehicleCommandView]) -> None:
        self._in_flight.discard(task)
        if task.cancelled():
            return
        # Read even when nobody awaits it any more (its console went away).
        exc = task.exception()
        if exc is not None and not isinstance(exc, Error):
            logger.error("a vehicle order failed", exc_info=exc)

    async def drain(self) -> None:
        """Wait for the orders in flight (they end at the latest when the gateway closes
        or their reply timeout passes)."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    def admit(self, username: str) -> None:
        """Count one request of ``username``; refuse it (rate_limited) over the budget."""
        if not self.rate.allow(username):
            raise Error(
                ErrorCode.RATE_LIMITED,
                f"at most {ORDERS_PER_MINUTE} vehicle orders a minute per user; wait a moment",
            )

    async def send_text(
        self, username: str, order: TextToDriver, device: str, jurisdiction: str
    ) -> VehicleCommandView:
        """Send the text ``order`` (0x8300) to ``device`` and return what to log: answered
        with the terminal's result, or ``timeout`` (no answer in time, an undecodable one:
        ``bad_answer``, or the connection closed after it went out: ``connection_lost``).

        Raises :class:`~backend.errors.Error`: ``rate_limited`` over the user's texts a
        minute or when too many messages await the terminal's answers, ``device_offline``
        when no gateway runs or the terminal is not connected (nothing was sent),
        ``validation`` for a text terminals cannot show (outside GBK).
        """
        if not self.text_rate.allow(username):
            raise Error(
                ErrorCode.RATE_LIMITED,
                f"at most {TEXTS_PER_MINUTE} texts a minute per user; wait a moment",
            )
        sender, _, view = self._to_send(username, device, order, jurisdiction)
        flags = (
            (TextFlag.EMERGENCY if order.emergency else 0)
            | (TextFlag.TTS if order.tts else 0)
            | (TextFlag.TERMINAL_DISPLAY if order.display else 0)
        )
        result = await _delivered(view, sender.send_text(device, order.text, flags))
        if result is not None:
            view.result = _RESULTS[result]
            success = result is GeneralResult.SUCCESS
            view.outcome = CommandOutcome.ANSWERED if success else CommandOutcome.FAILED
        return view

    def confirm_needed(
        self, username: str, device: str, order: VehicleOrder, jurisdiction: str
    ) -> VehicleCommandView:
        """The first step of a two-step order: a token, nothing sent."""
        now = self._now()
        pending = self.tokens.issue(username, device, order, now)
        return VehicleCommandView(
            device=device,
            order=order,
            outcome=CommandOutcome.CONFIRM_NEEDED,
            requested_by=username,
            at=now,
            token=pending.token,
            confirm_by=pending.confirm_by,
            jurisdiction=jurisdiction,
        )

    async def send(
        self, username: str, device: str, order: VehicleOrder, jurisdiction: str
    ) -> VehicleCommandView:
        """Send ``order`` to ``device`` and wait for the answer (or the timeout).

        An order sent whose connection closed before the answer is ``timeout`` with the
        result ``connection_lost`` (it may have been carried out).

        Raises :class:`~backend.errors.Error`: ``device_offline`` when no gateway runs or
        the terminal is not connected (nothing was sent), ``validation`` for a body that
        cannot be encoded, ``rate_limited`` when too many orders await its answers.
        """
        sender, version, view = self._to_send(username, device, order, jurisdiction)
        message = to_message(order)
        answer = await _delivered(
            view, sender.send_order(device, message, timeout=self.reply_timeout)
        )
        if answer is not None:
            answered(view, answer, version)
        return view

    def _to_send(
        self, username: str, device: str, order: LoggedOrder, jurisdiction: str
    ) -> tuple[OrderSender, ProtocolVersion, VehicleCommandView]:
        """The gateway, the terminal's edition and the view of ``order`` before it goes
        out (``timeout`` until an answer says otherwise); ``device_offline`` when it
        cannot go out."""
        sender = self.sender
        if sender is None:
            raise Error(ErrorCode.DEVICE_OFFLINE, "no JT/T 808 gateway runs in this server")
        version = sender.protocol_of(device)
        if version is None:
            raise Error(ErrorCode.DEVICE_OFFLINE, f"terminal {device} is not connected")
        view = VehicleCommandView(
            device=device,
            order=order,
            outcome=CommandOutcome.TIMEOUT,
            requested_by=username,
            at=self._now(),
            protocol=str(version.value),
            jurisdiction=jurisdiction,
        )
        return sender, version, view


async def _delivered(view: VehicleCommandView, sending: Awaitable[_A]) -> _A | None:
    """Await ``sending`` (an order or a text on its way) and return the terminal's answer;
    None when ``view`` says why there is none (it stays ``timeout``, or ``failed`` for an
    answer that could not be decoded). Refusals before anything went out raise
    :class:`~backend.errors.Error`."""
    device = view.device
    try:
        return await sending
    except AnswerLostError:
        # Sent, then the connection closed (the terminal reconnected, say): it may have
        # carried the order out, so it is an order sent, unanswered, like a timeout.
        view.result = "connection_lost"
        logger.info("terminal %s closed its connection before answering %s", device, view.order)
    except TerminalOfflineError as exc:
        raise Error(ErrorCode.DEVICE_OFFLINE, f"terminal {device} is not connected") from exc
    except ReplyTimeoutError:
        logger.info("terminal %s did not answer %s in time", device, view.order)
    except BadAnswerError as exc:
        view.outcome = CommandOutcome.FAILED
        view.result = "bad_answer"
        logger.info("terminal %s: %s", device, exc)
    except EncodeError as exc:
        # Terminals show GBK: an emoji or a rare character cannot be sent at all.
        raise ValidationError(f"the order cannot be sent to a terminal: {exc}") from exc
    except GatewayError as exc:
        raise Error(ErrorCode.RATE_LIMITED, str(exc)) from exc
    return None
