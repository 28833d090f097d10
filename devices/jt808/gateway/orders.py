"""Orders sent down to one terminal that await its answer, matched by reply serial.

The platform numbers every order with its own serial; the terminal's answer (0x0001, or
0x0201 / 0x0104 / 0x0500 for the orders that have their own) echoes it. A terminal may
answer any order with 0x0001 instead (result "unsupported", say): that ends the wait too.
"""

from __future__ import annotations

import asyncio
from typing import Final

from devices.jt808.errors import JT808Error
from devices.jt808.gateway.errors import BadAnswerError, GatewayError
from devices.jt808.messages import (
    Message,
    ParametersAnswer,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    TerminalGeneralReply,
    VehicleControlAnswer,
    VehicleControlOrder,
)

Answer = TerminalGeneralReply | PositionAnswer | ParametersAnswer | VehicleControlAnswer
"""What a terminal answers an order with."""

ANSWER_TYPES: Final = (TerminalGeneralReply, PositionAnswer, ParametersAnswer, VehicleControlAnswer)
"""The answer classes, for ``isinstance``."""

_OWN_ANSWER: Final[dict[int, int]] = {
    PositionQuery.MSG_ID: PositionAnswer.MSG_ID,
    VehicleControlOrder.MSG_ID: VehicleControlAnswer.MSG_ID,
    QueryAllParameters.MSG_ID: ParametersAnswer.MSG_ID,
    QueryParameters.MSG_ID: ParametersAnswer.MSG_ID,
}
"""Order id -> the id of its own answer (the others are answered with 0x0001)."""

MAX_PENDING_ORDERS: Final = 16
"""Orders awaiting a terminal's answer per connection (a bounded buffer)."""


def answer_id(order: Message) -> int:
    """The message id ``order`` is answered with (besides a 0x0001 refusal)."""
    return _OWN_ANSWER.get(order.MSG_ID, TerminalGeneralReply.MSG_ID)


class PendingOrders:
    """The orders of one connection that await an answer (at most ``limit``)."""

    def __init__(self, limit: int = MAX_PENDING_ORDERS) -> None:
        self._limit = limit
        # serial -> (the order's id, its own answer's id, the future)
        self._waiting: dict[int, tuple[int, int, asyncio.Future[Answer]]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, serial: int, order: Message, name: str) -> asyncio.Future[Answer]:
        """Wait for the answer to ``order`` sent with ``serial`` (``name``: the terminal,
        for the error when too many are waiting)."""
        if len(self._waiting) >= self._limit:
            raise GatewayError(f"{name} has {self._limit} orders awaiting replies")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[serial] = (order.MSG_ID, answer_id(order), future)
        return future

    def discard(self, serial: int) -> None:
        """Stop waiting for ``serial`` (answered, timed out or failed)."""
        self._waiting.pop(serial, None)

    def resolve(self, answer: Answer) -> bool:
        """Hand ``answer`` to the order it echoes; False if it matches none waiting (late,
        for a message of another kind than the order's answer, or a 0x0001 that says it
        answers another message id)."""
        entry = self._waiting.get(answer.reply_serial)
        if entry is None:
            return False
        order_id, expected, future = entry
        if future.done() or answer.MSG_ID not in (expected, TerminalGeneralReply.MSG_ID):
            return False
        if isinstance(answer, TerminalGeneralReply) and answer.reply_msg_id != order_id:
            return False
        future.set_result(answer)
        return True

    def fail_undecodable(self, msg_id: int, error: JT808Error) -> bool:
        """An answer of kind ``msg_id`` could not be decoded: if exactly one order awaits
        that kind, it fails with :class:`BadAnswerError` (its serial is in the broken body,
        so with several the one it was for is unknown: they time out)."""
        candidates = [
            future
            for _, expected, future in self._waiting.values()
            if expected == msg_id and expected != TerminalGeneralReply.MSG_ID and not future.done()
        ]
        if len(candidates) != 1:
            return False
        candidates[0].set_exception(BadAnswerError(f"the terminal's answer is broken: {error}"))
        return True

    def fail_all(self, error: Exception) -> None:
        """The connection is gone: every order waiting fails with ``error``."""
        for _, _, future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()
