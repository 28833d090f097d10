"""Who may connect to the JT/T 808 gateway: the terminal registry it asks.

The backend implements :class:`TerminalRegistry` against its device registry;
:class:`StaticTerminalRegistry` is the in-memory one for tests, the demo and standalone use.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Protocol

from devices.jt808.messages import Register, RegisterResult
from devices.jt808.registration import Registered, judge_registration


class TerminalRegistry(Protocol):
    """Who may connect. The backend implements this against its device registry.

    ``phone`` is the terminal's device id: the header phone without its BCD zero padding.
    """

    async def register(self, phone: str, register_msg: Register) -> tuple[RegisterResult, str]:
        """Handle a 0x0100 registration: the result and, on success, the auth code."""

    async def authenticate(self, phone: str, code: str) -> bool:
        """Whether ``code`` is the auth code issued to ``phone``."""


def device_id(phone: str) -> str:
    """A terminal's device id: its phone without the BCD zero padding."""
    return phone.lstrip("0") or "0"


class StaticTerminalRegistry:
    """In-memory :class:`TerminalRegistry` for tests, the demo and standalone use.

    ``known`` maps device id (phone without leading zeros) to the plate it must register
    with (an empty plate is bound by the terminal's first registration). Registrations
    are judged by :func:`~devices.jt808.registration.judge_registration`, as the
    backend's registry judges them: unknown terminals are refused with result 4 (no such
    terminal) unless ``auto_register``, another terminal's plate with 1 (vehicle already
    registered), a plate other than the terminal's own with 2 (no such vehicle); a
    terminal registering again gets the code it already has.
    """

    def __init__(
        self,
        known: Mapping[str, str] | None = None,
        *,
        auto_register: bool = False,
        auth_codes: Mapping[str, str] | None = None,
    ) -> None:
        self._known = {device_id(phone): plate for phone, plate in (known or {}).items()}
        self._codes = {device_id(phone): code for phone, code in (auth_codes or {}).items()}
        self._auto_register = auto_register
        self._owners = {plate: device for device, plate in self._known.items() if plate}
        """Plate -> the device id it is bound to."""

    def auth_code(self, phone: str) -> str | None:
        """The code issued to ``phone``, if any."""
        return self._codes.get(device_id(phone))

    async def register(self, phone: str, register_msg: Register) -> tuple[RegisterResult, str]:
        """Issue (or repeat) an auth code for a known terminal."""
        device = device_id(phone)
        plate = self._known.get(device)
        offered = register_msg.plate
        result = judge_registration(
            None if plate is None else Registered(plate),
            offered,
            self._owners.get(offered) if offered else None,
            device,
            auto_register=self._auto_register,
        )
        if result != RegisterResult.SUCCESS:
            return result, ""
        if not plate:
            self._known[device] = offered
            if offered:
                self._owners[offered] = device
        code = self._codes.get(device) or secrets.token_hex(8)
        self._codes[device] = code
        return RegisterResult.SUCCESS, code

    async def authenticate(self, phone: str, code: str) -> bool:
        """Compare ``code`` with the issued one in constant time (as bytes: any text
        may arrive in an authentication frame)."""
        expected = self._codes.get(device_id(phone))
        if expected is None:
            return False
        return secrets.compare_digest(expected.encode(), code.encode())
