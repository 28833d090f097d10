"""The registry's scope rule (Scope.REGISTRY) on its own: seen inside the area, above it
or nowhere; changed inside the area only, by an agency only for its own items."""

from __future__ import annotations

import pytest

from backend.authz.principal import Principal
from backend.authz.registry import can_edit_item, can_see_item, check_edit_item
from backend.errors import ForbiddenError
from realtime.protocol import Role


def _user(role: Role, jurisdiction: str, agency: str | None = None) -> Principal:
    return Principal(1, "u", "u", role, agency, jurisdiction)


DISTRICT = _user(Role.OFFICER, "330106")
FIRE_DESK = _user(Role.AGENCY, "3301", "fire")


@pytest.mark.parametrize(
    ("item", "seen", "changed"),
    [
        ("330106", True, True),
        ("330106001", True, True),  # a town of the district
        ("3301", True, False),  # the city above it
        ("33", True, False),  # the province
        ("", True, False),  # nowhere: everyone sees, whole-area users change
        ("330102", False, False),  # the neighbouring district
        ("31", False, False),
    ],
)
def test_a_district_officer(item: str, seen: bool, changed: bool) -> None:
    assert can_see_item(DISTRICT, item) is seen
    assert can_edit_item(DISTRICT, item, "") is changed


def test_an_agency_desk_changes_only_its_agency_s_items() -> None:
    assert can_see_item(FIRE_DESK, "330106", "police")
    assert can_edit_item(FIRE_DESK, "330106", "fire")
    assert not can_edit_item(FIRE_DESK, "330106", "police")
    assert not can_edit_item(FIRE_DESK, "330106", "")
    with pytest.raises(ForbiddenError, match="changes only its agency's items"):
        check_edit_item(FIRE_DESK, "330106", "police")
    desk_without_agency = _user(Role.AGENCY, "3301")
    assert not can_edit_item(desk_without_agency, "330106", "")


def test_an_item_outside_sight_is_refused_like_a_missing_one() -> None:
    with pytest.raises(ForbiddenError, match=r"^no such registry item in your area$"):
        check_edit_item(DISTRICT, "330102", "")
    with pytest.raises(ForbiddenError, match="registry items of '3301' are outside your area"):
        check_edit_item(DISTRICT, "3301", "")
    with pytest.raises(ForbiddenError, match="of '330102' are outside your area"):
        check_edit_item(DISTRICT, "330102", "", existing=False)


def test_devices_see_nothing() -> None:
    assert not can_see_item(_user(Role.DEVICE, ""), "")
