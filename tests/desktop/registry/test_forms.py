"""The registry's edit form: what an officer types becomes a valid item or clear errors."""

from __future__ import annotations

import pytest

from desktop.registry.forms import (
    FieldError,
    FormValue,
    Problem,
    credit_code_valid,
    empty_form,
    form_of,
    parse_form,
)
from realtime.protocol import (
    EnterpriseDetails,
    ItemKind,
    PlanDetails,
    RiskGrade,
    ShelterDetails,
    TeamDetails,
    TeamState,
)
from tests.desktop.registry.factories import team


def team_form(**changes: FormValue) -> dict[str, FormValue]:
    form: dict[str, FormValue] = {
        "code": "T-HZ-01",
        "name": "滨江危化品救援队",
        "jurisdiction": "330108",
        "agency": "fire",
        "lat": "30.2",
        "lon": "120.21",
        "team_type": "危化品救援",
        "members": "24",
        "capabilities": ["hazmat", "decontamination"],
        "state": "standby",
        "contacts": [{"name": "王队长", "role": "队长", "phone": "13800005678"}, {}],
    }
    form.update(changes)
    return form


def test_a_team_form_becomes_the_item_to_save() -> None:
    item, errors = parse_form(ItemKind.TEAM, team_form())
    assert errors == []
    assert item is not None
    assert item.code == "T-HZ-01"
    assert item.lat == 30.2
    assert item.lon == 120.21
    assert isinstance(item.details, TeamDetails)
    assert item.details.members == 24
    assert item.details.state is TeamState.STANDBY
    assert item.details.capabilities == ["hazmat", "decontamination"]
    # The empty row left in the contacts table is not a contact.
    assert [contact.phone for contact in item.details.contacts] == ["13800005678"]


def test_an_item_read_back_into_the_form_saves_unchanged() -> None:
    shown = team(members=24)
    item, errors = parse_form(ItemKind.TEAM, form_of(shown))
    assert errors == []
    assert item is not None
    assert item.details == shown.details  # masked numbers go back as they came
    assert (item.code, item.name, item.lat, item.lon) == (shown.code, shown.name, 30.2, 120.21)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"code": ""}, FieldError("code", Problem.REQUIRED)),
        ({"code": "队伍 1"}, FieldError("code", Problem.BAD_CODE, detail="队伍 1")),
        ({"team_type": " "}, FieldError("team_type", Problem.REQUIRED)),
        ({"members": "二十"}, FieldError("members", Problem.NOT_A_NUMBER)),
        ({"members": "2.5"}, FieldError("members", Problem.NOT_WHOLE)),
        ({"members": "-3"}, FieldError("members", Problem.OUT_OF_RANGE)),
        ({"members": "nan"}, FieldError("members", Problem.NOT_A_NUMBER)),
        ({"lat": "91"}, FieldError("lat", Problem.OUT_OF_RANGE)),
        ({"lon": ""}, FieldError("lon", Problem.BOTH_OR_NEITHER)),
        ({"state": "asleep"}, FieldError("state", Problem.BAD_CHOICE, detail="asleep")),
        (
            {"units": ["F-01", "消防 站"]},
            FieldError("units", Problem.BAD_CODE, 1, detail="消防 站"),
        ),
        (
            {"contacts": [{"name": "王", "phone": "call me"}]},
            FieldError("contacts", Problem.BAD_PHONE, 0, "phone"),
        ),
        ({"capabilities": ["x" * 65]}, FieldError("capabilities", Problem.TOO_LONG, 0)),
        (
            {"capabilities": [f"c{n}" for n in range(201)]},
            FieldError("capabilities", Problem.TOO_MANY),
        ),
    ],
)
def test_a_bad_field_is_named_with_what_is_wrong(
    changes: dict[str, FormValue], expected: FieldError
) -> None:
    item, errors = parse_form(ItemKind.TEAM, team_form(**changes))
    assert item is None
    assert errors == [expected]


def test_every_problem_is_reported_at_once() -> None:
    _item, errors = parse_form(ItemKind.TEAM, team_form(code="", members="x", team_type=""))
    assert {error.field for error in errors} == {"code", "members", "team_type"}


def test_kind_rules_shelter_plan_enterprise() -> None:
    shelter_form: dict[str, FormValue] = {"code": "S-1", "name": "广场", "capacity": "100"}
    item, errors = parse_form(ItemKind.SHELTER, {**shelter_form, "occupancy": "101"})
    assert errors == [FieldError("occupancy", Problem.OVER_CAPACITY)]
    _item, errors = parse_form(ItemKind.SHELTER, {"code": "S-1", "name": "广场"})
    assert errors == [FieldError("capacity", Problem.REQUIRED)]
    item, errors = parse_form(ItemKind.SHELTER, shelter_form)
    assert item is not None
    assert isinstance(item.details, ShelterDetails)

    plan: dict[str, FormValue] = {
        **empty_form(ItemKind.PLAN),
        "code": "P-1",
        "name": "危化品泄漏专项预案",
        "type_codes": ["hazchem_leak"],
        "levels": ["I", "V"],
        "steps": [{"id": "s1", "text": "通知消防", "within_min": "5"}, {"text": "无编号"}],
        "resources": [{"capability": "hazmat", "quantity": "2"}],
    }
    _item, errors = parse_form(ItemKind.PLAN, plan)
    assert errors == [
        FieldError("levels", Problem.BAD_CHOICE, 1, detail="V"),
        FieldError("steps", Problem.REQUIRED, 1, "id"),
    ]
    item, errors = parse_form(ItemKind.PLAN, {**plan, "levels": ["I"], "steps": plan["steps"][:1]})
    assert errors == []
    assert item is not None
    assert isinstance(item.details, PlanDetails)
    assert item.details.response_level == "IV"
    assert item.details.steps[0].within_min == 5.0

    enterprise: dict[str, FormValue] = {
        **empty_form(ItemKind.ENTERPRISE),
        "code": "E-1",
        "name": "某化工有限公司",
        "credit_code": "91330100MA27XL3X1Q",
    }
    _item, errors = parse_form(ItemKind.ENTERPRISE, enterprise)
    assert errors == [FieldError("credit_code", Problem.BAD_CREDIT_CODE)]
    item, errors = parse_form(
        ItemKind.ENTERPRISE, {**enterprise, "credit_code": "91350100m000100y43"}
    )
    assert errors == []
    assert item is not None
    assert isinstance(item.details, EnterpriseDetails)
    assert item.details.credit_code == "91350100M000100Y43"
    assert item.details.risk_grade is RiskGrade.BLUE


def test_credit_codes() -> None:
    assert credit_code_valid("91350100M000100Y43")
    assert not credit_code_valid("91350100M000100Y44")
    assert not credit_code_valid("91350100M000100Y4")
    assert not credit_code_valid("91350100M000100I43")
