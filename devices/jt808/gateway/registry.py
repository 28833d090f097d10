"""Who may connect to the JT/T 808 gateway: the terminal registry it asks.

The backend implements :class:`TerminalRegistry` against its device registry;
:class:`StaticTerminalRegistry` is the in-memory one for tests, the demo and standalone use.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Protocol

from devices.jt808.messages import Register, RegisterResult


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
    with (an empty plate accepts any). Unknown terminals are refused with result 4
    (no such terminal) unless ``auto_register``. Re-registration returns the same code.
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

    def auth_code(self, phone: str) -> str | None:
        """The code issued to ``phone``, if any."""
        return self._codes.get(device_id(phone))

    async def register(self, phone: str, register_msg: Register) -> tuple[RegisterResult, str]:
        """Issue (or repeat) an auth code for a known terminal."""
        device = device_id(phone)
        plate = self._known.get(device)
        if plate is None:
            if not self._auto_register:
                return RegisterResult.NO_SUCH_TERMINAL, ""
            self._known[device] = register_msg.plate
        elif plate and plate != register_msg.plate:
            return RegisterResult.NO_SUCH_VEHICLE, ""
        code = self._codes.get(device) or secrets.token_hex(8)
        self._codes[device] = code
        return RegisterResult.SUCCESS, code

    async def authenticate(self, phone: str, code: str) -> bool:
        """Compare ``code`` with the issued one in constant time."""
        expected = self._codes.get(device_id(phone))
        if expected is None:
            return False
        return secrets.compare_digest(expected.encode(), code.encode())
