"""The principal: who is behind a connection, as far as authorization is concerned."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from realtime.protocol import Role, UserInfo


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is behind a connection: the user, their role, agency and jurisdiction."""

    user_id: int
    username: str
    display_name: str
    role: Role
    agency: str | None
    jurisdiction: str
    enterprise: str | None = None
    """For the ``enterprise`` role: the registry code of the user's enterprise (the user
    sees and acts for it only)."""

    def info(self) -> UserInfo:
        """Return the wire view of this principal."""
        return UserInfo(
            username=self.username,
            display_name=self.display_name,
            role=self.role,
            agency=self.agency,
            jurisdiction=self.jurisdiction,
            enterprise=msgspec.UNSET if self.enterprise is None else self.enterprise,
        )
