"""The scope rule of hidden dangers and inspections (:attr:`Scope.DANGER`): an enterprise
user sees its own enterprise's only; staff see those of the enterprises inside their
area; device accounts nothing. Out of scope is refused like missing (:func:`hidden`)."""

from __future__ import annotations

from backend.authz.principal import Principal
from backend.authz.scope import ENTERPRISE_USERS, hidden, in_jurisdiction, outside_staff
from backend.errors import ForbiddenError

__all__ = ["can_see_danger", "check_danger_enterprise", "check_see_danger"]


def can_see_danger(principal: Principal, enterprise: str, jurisdiction: str) -> bool:
    """Return whether the principal may see a hidden danger (or inspection) of
    ``enterprise`` lying in ``jurisdiction``."""
    if principal.role in ENTERPRISE_USERS:
        return principal.enterprise is not None and principal.enterprise == enterprise
    if outside_staff(principal):
        return False
    return in_jurisdiction(principal, jurisdiction)


def check_see_danger(principal: Principal, enterprise: str, jurisdiction: str) -> None:
    """Refuse a danger outside the scope exactly like a missing one."""
    if not can_see_danger(principal, enterprise, jurisdiction):
        raise hidden("hidden danger")


def check_danger_enterprise(principal: Principal, enterprise: str, jurisdiction: str) -> None:
    """Refuse reporting for (or inspecting) an enterprise outside the scope, like a
    missing enterprise."""
    if not can_see_danger(principal, enterprise, jurisdiction):
        raise hidden("enterprise")


def forbidden_action(role: str, action: str) -> ForbiddenError:
    """The refusal of a life-cycle action the role may not take."""
    return ForbiddenError(f"role {role} may not {action} a hidden danger")
