"""Who may register (0x0100) with which plate: the one rule every terminal registry follows.

Both the standalone gateway's
:class:`~devices.jt808.gateway.registry.StaticTerminalRegistry` and the backend's device
registry answer a registration with :func:`judge_registration`, so a terminal gets the
same 0x8100 result whichever one it reaches:

========================================================  ==================================
the registration                                           0x8100 result
========================================================  ==================================
unknown terminal, no auto-registration                     4 no such terminal
the plate is bound to another terminal                     1 vehicle already registered
known terminal bound to another plate                      2 no such vehicle
known terminal, its own plate (or none bound yet)          0 success, the code already issued
========================================================  ==================================

A registration never rotates the auth code: a terminal that registers again (many do at
every power-up) gets the code it already has, so a second registration — a retry whose
0x8100 was lost, or anyone who knows a terminal's phone and plate — cannot log the real
terminal out by invalidating its code. Sans-I/O: no sockets, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.jt808.messages import RegisterResult


@dataclass(frozen=True, slots=True)
class Registered:
    """What a registry knows of the terminal that registers: the plate bound to it
    (``""``: none yet, the first registration binds one)."""

    plate: str


def judge_registration(
    known: Registered | None,
    offered_plate: str,
    plate_owner: str | None,
    device: str,
    *,
    auto_register: bool,
) -> RegisterResult:
    """The 0x8100 result for ``device`` registering with ``offered_plate``.

    ``known`` is the registry's entry for ``device`` (``None``: unknown);
    ``plate_owner`` is the device id the offered plate is bound to, if any.
    """
    if known is None and not auto_register:
        return RegisterResult.NO_SUCH_TERMINAL
    if known is not None and known.plate and known.plate == offered_plate:
        return RegisterResult.SUCCESS  # its own plate (even if an operator bound it twice)
    if offered_plate and plate_owner is not None and plate_owner != device:
        return RegisterResult.VEHICLE_ALREADY_REGISTERED
    if known is not None and known.plate:
        return RegisterResult.NO_SUCH_VEHICLE
    return RegisterResult.SUCCESS
