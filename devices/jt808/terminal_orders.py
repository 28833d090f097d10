"""How a simulated terminal answers the platform's orders, without I/O (sans-I/O).

:class:`TerminalOrders` keeps what the orders change on a terminal (its parameters, the
door lock, temporary tracking, the calls it was asked to make) and builds the answer the
standard prescribes: 0x0201 with the position now for 0x8201, 0x0500 with the position
after the control for 0x8500 (status bit 12 shows the doors locked), 0x0104 for 0x8104 and
0x8106, and 0x0001 for the rest. The simulator (:mod:`devices.jt808.simulator`) writes the
answers and sends the tracking reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import msgspec

from devices.jt808.bits import STATUS_DOORS_LOCKED_BIT
from devices.jt808.framing import Header
from devices.jt808.messages import (
    CallBackOrder,
    GeneralResult,
    Location,
    Message,
    Parameter,
    ParametersAnswer,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    SetParameters,
    TemporaryTracking,
    TerminalGeneralReply,
    VehicleControlAnswer,
    VehicleControlOrder,
)

STATUS_DOORS_LOCKED: Final = STATUS_DOORS_LOCKED_BIT
"""Status bit 12: the doors are locked."""

DEFAULT_PARAMETERS: Final[dict[int, int | str]] = {
    0x0001: 60,
    0x0002: 10,
    0x0003: 3,
    0x0013: "127.0.0.1",
    0x0018: 7018,
    0x0020: 0,
    0x0027: 300,
    0x0028: 5,
    0x0029: 30,
    0x0055: 80,
    0x0056: 10,
    0x0080: 0,
    0x0081: 31,
    0x0082: 100,
    0x0083: "",
    0x0084: 2,
}
"""A new simulated terminal's parameters (plausible factory values)."""

ORDER_TYPES: Final = (
    PositionQuery,
    TemporaryTracking,
    CallBackOrder,
    VehicleControlOrder,
    SetParameters,
    QueryAllParameters,
    QueryParameters,
)
"""The orders a simulated terminal answers (``isinstance``)."""


@dataclass
class Tracking:
    """Temporary tracking in force: report every ``interval_s`` for ``validity_s``."""

    interval_s: int
    validity_s: int


@dataclass
class TerminalOrders:
    """What the platform's orders changed on one terminal, and the answers to them."""

    parameters: dict[int, int | str] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    doors_locked: bool = False
    tracking: Tracking | None = None
    """Set by 0x8202 (interval > 0); the simulator reports and clears it."""
    calls: list[CallBackOrder] = field(default_factory=list)
    """Call-backs asked for, in order (a real terminal would dial)."""
    orders: list[Message] = field(default_factory=list)
    """Every order received, in order."""

    def status_bits(self, status_flags: int) -> int:
        """``status_flags`` with the door bit as the doors are."""
        if self.doors_locked:
            return status_flags | STATUS_DOORS_LOCKED
        return status_flags & ~STATUS_DOORS_LOCKED

    def answer(self, header: Header, order: Message, location: Location) -> Message:
        """Carry out ``order`` (received with ``header``) and return the answer to send;
        ``location`` is the terminal's position now."""
        self.orders.append(order)
        serial = header.serial
        if isinstance(order, PositionQuery):
            return PositionAnswer(reply_serial=serial, location=self.located(location))
        if isinstance(order, VehicleControlOrder):
            self.doors_locked = order.lock
            return VehicleControlAnswer(reply_serial=serial, location=self.located(location))
        if isinstance(order, QueryAllParameters | QueryParameters):
            ids = order.ids if isinstance(order, QueryParameters) else tuple(self.parameters)
            found = tuple(
                Parameter(identifier, self.parameters[identifier])
                for identifier in ids
                if identifier in self.parameters
            )
            return ParametersAnswer(reply_serial=serial, parameters=found)
        result = GeneralResult.SUCCESS
        if isinstance(order, TemporaryTracking):
            stop = order.interval_s == 0 or order.validity_s == 0
            self.tracking = None if stop else Tracking(order.interval_s, order.validity_s)
        elif isinstance(order, CallBackOrder):
            self.calls.append(order)
        elif isinstance(order, SetParameters):
            for parameter in order.parameters:
                self.parameters[parameter.id] = parameter.value
        else:
            result = GeneralResult.UNSUPPORTED
        return TerminalGeneralReply(reply_serial=serial, reply_msg_id=header.msg_id, result=result)

    def located(self, location: Location) -> Location:
        """``location`` with the door bit as the doors are."""
        return msgspec.structs.replace(
            location, status_flags=self.status_bits(location.status_flags)
        )
