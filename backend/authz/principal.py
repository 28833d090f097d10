"""The principal: who is behind a connection, as far as authorization is concerned."""

from __future__ import annotations

from dataclasses import dataclass

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

    def info(self) -> UserInfo:
        """Return the wire view of this principal."""
        return UserInfo(
            username=self.username,
            display_name=self.display_name,
            role=self.role,
            agency=self.agency,
            jurisdiction=self.jurisdiction,
        )
