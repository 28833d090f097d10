"""Who may see and change which registry item: the scope rule :attr:`Scope.REGISTRY
<backend.authz.policy.Scope.REGISTRY>` of the permission table.

- **Seeing** an item (and its history, its changes on the live stream, its contacts for
  a role that may reveal them): the item lies inside the user's jurisdiction, or in an
  area above it (a city's hazmat team or plan serves its towns: a town's officer sees
  it), or nowhere (``""``, e.g. a provincial expert pool): everyone.
- **Changing** one (create, change, retire, restore): inside the user's jurisdiction
  only (a town's officer does not rewrite the city's plan); a user of an agency only the
  items of its agency, and it creates items only for its agency.

An item outside the scope is refused exactly like a missing one
(:func:`~backend.authz.scope.hidden`).
"""

from __future__ import annotations

from backend.authz.principal import Principal
from backend.authz.scope import hidden, in_jurisdiction, outside_staff
from backend.errors import ForbiddenError
from realtime.protocol import Role

__all__ = [
    "ITEM",
    "ancestors_of",
    "can_edit_item",
    "can_see_item",
    "check_edit_item",
    "check_see_item",
]

ITEM = "registry item"
"""What the refusal names (``no such registry item in your area``)."""


def ancestors_of(jurisdiction: str) -> list[str]:
    """Every prefix of a jurisdiction code, ``""`` included: the areas above it (and
    prefixes no area has, which no item carries)."""
    return [jurisdiction[:length] for length in range(len(jurisdiction))]


def can_see_item(principal: Principal, jurisdiction: str, agency: str = "") -> bool:
    """Return whether the principal may see an item of this jurisdiction and agency: it
    lies inside the user's area, above it, or nowhere. The agency does not narrow what
    a desk sees (a fire desk reads the enterprises and the other agencies' teams)."""
    del agency  # part of the rule's signature: seeing is by place alone
    if outside_staff(principal):
        return False
    mine = principal.jurisdiction
    return jurisdiction.startswith(mine) or mine.startswith(jurisdiction)


def can_edit_item(principal: Principal, jurisdiction: str, agency: str) -> bool:
    """Return whether the principal may change (or create) an item of this jurisdiction
    and agency: inside their area, and their own agency's if they have one. An agency
    desk without an agency changes nothing."""
    if outside_staff(principal) or not in_jurisdiction(principal, jurisdiction):
        return False
    if principal.role is Role.AGENCY and principal.agency is None:
        return False
    return principal.agency is None or principal.agency == agency


def check_see_item(principal: Principal, jurisdiction: str, agency: str = "") -> None:
    """Refuse (as if missing) an item the principal may not see."""
    if not can_see_item(principal, jurisdiction, agency):
        raise hidden(ITEM)


def check_edit_item(
    principal: Principal, jurisdiction: str, agency: str, *, existing: bool = True
) -> None:
    """Refuse a change of an item the principal may not change.

    An item they cannot even see is refused as missing; one they see but may not change
    (the city's plan, seen from a town; another agency's team) is refused saying so. For
    the item as it would be after the change (``existing=False``), the refusal names the
    jurisdiction or agency asked for.
    """
    if can_edit_item(principal, jurisdiction, agency):
        return
    if existing and not can_see_item(principal, jurisdiction, agency):
        raise hidden(ITEM)
    if not in_jurisdiction(principal, jurisdiction):
        place = repr(jurisdiction) if jurisdiction else "no jurisdiction (the whole area)"
        raise ForbiddenError(f"registry items of {place} are outside your area")
    raise ForbiddenError(
        f"a user of agency {principal.agency or '(none)'} changes only its agency's items"
    )
