"""What the vehicle-command dialog calls the orders, their outcomes, the terminal's
results and the terminal parameters (translated; never the raw codes)."""

from __future__ import annotations

from typing import Final

import msgspec
from PySide6.QtCore import QCoreApplication

from realtime.protocol import Event, Role, UserInfo
from realtime.protocol.vehicle_commands import (
    CallBack,
    CommandOutcome,
    DoorControl,
    LoggedOrder,
    QueryParameters,
    QueryPosition,
    SetParameters,
    TemporaryTracking,
    TextToDriver,
    VehicleControl,
)

QUERY_ROLES: Final = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Who may query a vehicle (position, tracking, call-back, parameters)."""
CONTROL_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Who may control a vehicle, set parameters or listen in (two steps)."""

ORDER_TAGS: Final = (
    "query_position",
    "track",
    "call_back",
    "control",
    "set_parameters",
    "query_parameters",
)
"""The orders, in the order the dialog offers them."""
CONTROL_TAGS: Final = frozenset({"control", "set_parameters"})
"""Orders only supervisors send (a call-back with listening too)."""

STRING_PARAMETERS: Final = frozenset({0x0013, 0x0083})
"""Parameters whose value is text."""


def may_query(user: UserInfo | None) -> bool:
    """Whether the user may send orders at all (courtesy: the server decides)."""
    return user is not None and user.role in QUERY_ROLES


def may_control(user: UserInfo | None) -> bool:
    """Whether the user may send the orders that take two steps."""
    return user is not None and user.role in CONTROL_ROLES


def order_label(tag: str) -> str:
    """The name of an order."""
    labels = {
        "query_position": QCoreApplication.translate("VehicleCommands", "Query position"),
        "track": QCoreApplication.translate("VehicleCommands", "Temporary tracking"),
        "call_back": QCoreApplication.translate("VehicleCommands", "Call back / listen"),
        "control": QCoreApplication.translate("VehicleCommands", "Door control"),
        "set_parameters": QCoreApplication.translate("VehicleCommands", "Set parameters"),
        "query_parameters": QCoreApplication.translate("VehicleCommands", "Query parameters"),
    }
    return labels[tag]


def parameter_labels() -> dict[int, str]:
    """The terminal parameters the console offers, by id."""
    return {
        0x0001: QCoreApplication.translate("VehicleCommands", "Heartbeat interval (s)"),
        0x0013: QCoreApplication.translate("VehicleCommands", "Main server address"),
        0x0018: QCoreApplication.translate("VehicleCommands", "Server TCP port"),
        0x0027: QCoreApplication.translate("VehicleCommands", "Report interval while asleep (s)"),
        0x0029: QCoreApplication.translate("VehicleCommands", "Default report interval (s)"),
        0x0055: QCoreApplication.translate("VehicleCommands", "Maximum speed (km/h)"),
        0x0056: QCoreApplication.translate("VehicleCommands", "Overspeed duration (s)"),
        0x0080: QCoreApplication.translate("VehicleCommands", "Odometer (0.1 km)"),
        0x0083: QCoreApplication.translate("VehicleCommands", "Plate"),
        0x0084: QCoreApplication.translate("VehicleCommands", "Plate colour"),
    }


def parameter_label(identifier: int) -> str:
    """A parameter's name (an id the console does not know: its number)."""
    return parameter_labels().get(
        identifier,
        QCoreApplication.translate("VehicleCommands", "Parameter 0x{id}").format(
            id=f"{identifier:04X}"
        ),
    )


def outcome_label(outcome: CommandOutcome) -> str:
    """What became of an order."""
    labels = {
        CommandOutcome.CONFIRM_NEEDED: QCoreApplication.translate(
            "VehicleCommands", "Waiting for confirmation"
        ),
        CommandOutcome.ANSWERED: QCoreApplication.translate("VehicleCommands", "Answered"),
        CommandOutcome.FAILED: QCoreApplication.translate("VehicleCommands", "Failed"),
        CommandOutcome.TIMEOUT: QCoreApplication.translate(
            "VehicleCommands", "No answer in time (the order may have arrived)"
        ),
    }
    return labels[outcome]


def result_label(result: str) -> str:
    """The terminal's result code, in words."""
    labels = {
        "success": QCoreApplication.translate("VehicleCommands", "success"),
        "failure": QCoreApplication.translate("VehicleCommands", "failure"),
        "bad_message": QCoreApplication.translate("VehicleCommands", "message error"),
        "unsupported": QCoreApplication.translate(
            "VehicleCommands", "not supported by the terminal"
        ),
        "bad_answer": QCoreApplication.translate("VehicleCommands", "unreadable answer"),
        "connection_lost": QCoreApplication.translate(
            "VehicleCommands", "connection lost before the answer (it may have been carried out)"
        ),
    }
    return labels.get(result, result)


def describe(order: LoggedOrder) -> str:
    """One line saying what ``order`` does (the confirmation and the event log show it)."""
    if isinstance(order, TextToDriver):
        words = (
            QCoreApplication.translate("VehicleCommands", "Urgent text: {text}")
            if order.emergency
            else QCoreApplication.translate("VehicleCommands", "Text: {text}")
        )
        return words.format(text=order.text)
    if isinstance(order, QueryPosition):
        return order_label("query_position")
    if isinstance(order, TemporaryTracking):
        return QCoreApplication.translate(
            "VehicleCommands", "Track every {interval} s for {duration} s"
        ).format(interval=order.interval_s, duration=order.duration_s)
    if isinstance(order, CallBack):
        text = (
            QCoreApplication.translate("VehicleCommands", "Listen in from {phone}")
            if order.listen
            else QCoreApplication.translate("VehicleCommands", "Call back {phone}")
        )
        return text.format(phone=order.phone)
    if isinstance(order, VehicleControl):
        return (
            QCoreApplication.translate("VehicleCommands", "Lock the doors")
            if order.door is DoorControl.LOCK
            else QCoreApplication.translate("VehicleCommands", "Unlock the doors")
        )
    if isinstance(order, SetParameters):
        return QCoreApplication.translate("VehicleCommands", "Set {items}").format(
            items="; ".join(f"{parameter_label(p.id)} = {p.value}" for p in order.parameters)
        )
    if isinstance(order, QueryParameters) and order.ids:
        return QCoreApplication.translate("VehicleCommands", "Query {items}").format(
            items=", ".join(parameter_label(i) for i in order.ids)
        )
    return QCoreApplication.translate("VehicleCommands", "Query all parameters")


def vehicle_command_text(event: Event) -> str | None:
    """What a ``vehicle.command`` event says in the event log (None for other events):
    the vehicle (its plate, and the terminal's number), the order, the outcome."""
    view = event.vehicle_command
    if view is msgspec.UNSET:
        return None
    outcome = outcome_label(view.outcome)
    if view.result:
        outcome = f"{outcome}: {result_label(view.result)}"
    vehicle = f"{view.plate} ({view.device})" if view.plate else view.device
    return " · ".join((vehicle, describe(view.order), outcome))
