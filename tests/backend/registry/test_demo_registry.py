"""The demo city's sample registry (resources/registry/demo_registry.json): it decodes with
the wire schema, names only what the other shipped files hold, lies where it says, and
has a plan for every incident the demo raises."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest

from backend.cli import night_shift
from backend.cli.demo import load_scenario
from backend.incidents.catalogue import load_catalogue
from backend.jurisdictions.tree import JurisdictionTree
from backend.plans.matching import PlanCandidate, applicable_plans
from backend.registry.files import (
    DEMO_REGISTRY_JSON,
    Error,
    load_cameras_csv,
    load_registry_json,
    load_sensors_csv,
    load_units_csv,
)
from realtime.protocol import (
    EnterpriseDetails,
    EquipmentDetails,
    ExpertDetails,
    HazardSourceDetails,
    ItemKind,
    PlanDetails,
    RegistryItemInput,
    TargetCategory,
    TargetDetails,
    TeamDetails,
)

ITEMS = load_registry_json()

_T = TypeVar("_T")

PLAN_CAPABILITIES = frozenset(
    {
        "hazmat",
        "firefighting",
        "rescue",
        "medical",
        "mine_rescue",
        "decontamination",
        "evacuation",
        "traffic_control",
        "water_rescue",
    }
)
"""The capability words plans require and teams and equipment offer (recommendation
matches them as words: a typo would silently match nothing)."""
AGENCY_ROLE = re.compile(r"^[a-z][a-z0-9_-]*$")
"""A step's role that is an agency code (its desks tick it) rather than a plan role (总指挥)."""
FICTIONAL_PHONE = re.compile(r"^1380000\d{4}$")

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015): weights
    3^i mod 31 over the 31-character alphabet, check = 31 - sum mod 31."""
    total = sum(_CREDIT_CHARS.index(char) * pow(3, i, 31) for i, char in enumerate(first17))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def gb11714_check_char(first8: str) -> str:
    """The check character of the organisation code inside it (GB 11714-1997)."""
    total = sum(
        int(char, 36) * weight
        for char, weight in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def of_kind(details_type: type[_T]) -> list[tuple[RegistryItemInput, _T]]:
    return [(item, item.details) for item in ITEMS if isinstance(item.details, details_type)]


def kind_of(item: RegistryItemInput) -> ItemKind:
    return ItemKind(str(type(item.details).__struct_config__.tag))


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def test_the_check_characters_are_computed_right() -> None:
    # Worked examples, checked by hand against the standards' formulas.
    assert gb11714_check_char("60371285") == "9"
    assert gb32100_check_char("91320116603712859") == "Q"


def test_every_kind_is_there_in_the_quantities_a_demo_needs() -> None:
    counts = Counter(kind_of(item) for item in ITEMS)
    assert counts[ItemKind.ENTERPRISE] >= 8
    assert counts[ItemKind.HAZARD_SOURCE] >= 5
    assert counts[ItemKind.TEAM] >= 8
    assert counts[ItemKind.EQUIPMENT] >= 10
    assert counts[ItemKind.SHELTER] >= 5
    assert counts[ItemKind.EXPERT] >= 6
    assert counts[ItemKind.TARGET] >= 10
    assert counts[ItemKind.PLAN] >= 6
    keys = [(kind_of(item), item.code) for item in ITEMS]
    assert len(keys) == len(set(keys)), "a code is unique within its kind"


def test_credit_codes_pass_the_gb_32100_check() -> None:
    enterprises = of_kind(EnterpriseDetails)
    for item, details in enterprises:
        code = details.credit_code
        assert len(code) == 18, item.code
        assert code[-1] == gb32100_check_char(code[:17]), item.code
        assert code[16] == gb11714_check_char(code[8:16]), item.code
        assert code[2:8] == "320116", "registered in 六合区"
    assert len({details.credit_code for _item, details in enterprises}) == len(enterprises)


def test_every_contact_number_is_obviously_fictional() -> None:
    phones = [
        contact.phone
        for item in ITEMS
        for contact in getattr(item.details, "contacts", [])
        if contact.phone
    ]
    assert phones
    assert all(FICTIONAL_PHONE.match(phone) for phone in phones), phones
    assert len(set(phones)) == len(phones), "each number belongs to one contact"


def test_hazard_sources_name_shipped_enterprises_sensors_and_cameras() -> None:
    enterprises = {item.code: item for item, _details in of_kind(EnterpriseDetails)}
    sensors = {sensor.sensor_id: sensor for sensor in load_sensors_csv()}
    cameras = {camera.code: camera for camera in load_cameras_csv()}
    attached_sensors: set[str] = set()
    for item, details in of_kind(HazardSourceDetails):
        assert details.enterprise in enterprises, item.code
        enterprise_name = enterprises[details.enterprise].name
        for sensor_id in details.sensors:
            # The sensor file names hazard source and enterprise by name: the same ones.
            assert sensors[sensor_id].hazard_source == item.name, sensor_id
            assert sensors[sensor_id].enterprise == enterprise_name, sensor_id
        for code in details.cameras:
            assert cameras[code].hazard_source == item.name, code
            assert cameras[code].enterprise == enterprise_name, code
        assert len(set(details.sensors)) == len(details.sensors)
        attached_sensors.update(details.sensors)
        for chemical in details.chemicals:
            assert re.fullmatch(r"\d{4}", chemical.un_number), chemical
            assert chemical.quantity_t > 0, chemical
    assert attached_sensors == set(sensors), "every shipped sensor belongs to a hazard source"
    attached_cameras = {
        code for _item, details in of_kind(HazardSourceDetails) for code in details.cameras
    }
    assert attached_cameras == {code for code, camera in cameras.items() if camera.hazard_source}


def test_teams_and_equipment_name_shipped_units_and_offer_plan_capabilities() -> None:
    units = {unit.code: unit for unit in load_units_csv()}
    teams = {item.code: (item, details) for item, details in of_kind(TeamDetails)}
    enterprises = {item.code for item, _details in of_kind(EnterpriseDetails)}
    for item, details in teams.values():
        assert details.capabilities, item.code
        assert set(details.capabilities) <= PLAN_CAPABILITIES, item.code
        for code in details.units:
            assert code in units, code
            assert units[code].agency == item.agency, f"{item.code}: {code} is another agency's"
        assert details.vehicles == [], "the demo's trucks are tankers, not rescue vehicles"
    for item, equipment in of_kind(EquipmentDetails):
        assert equipment.capabilities, item.code
        assert set(equipment.capabilities) <= PLAN_CAPABILITIES, item.code
        assert equipment.quantity > 0, item.code
        assert equipment.measure, item.code
        if re.fullmatch(r"[A-Z]+-[A-Z0-9-]+", equipment.owner):
            # A code names a team or an enterprise; other owners are depots, by name.
            assert equipment.owner in teams or equipment.owner in enterprises, item.code


def test_plans_cover_every_incident_the_demo_raises_at_every_level() -> None:
    catalogue = load_catalogue()
    plans = [PlanCandidate(item.code, details) for item, details in of_kind(PlanDetails)]
    raised = {night_shift.INCIDENT_TYPE} | {
        found.code
        for incident in load_scenario().incidents
        if (found := catalogue.for_alarm_type(incident.alarm_type)) is not None
    }
    assert {"hazchem_leak", "coal_gas_overlimit", "hazchem_transport_accident"} <= raised
    for type_code in raised:
        for level in ("I", "II", "III", "IV"):
            assert applicable_plans(type_code, level, plans), (type_code, level)
    for plan in plans:
        assert all(code in catalogue for code in plan.details.type_codes), plan.code


def test_plans_are_complete_and_name_what_the_registry_offers() -> None:
    offered = {name for _item, team in of_kind(TeamDetails) for name in team.capabilities}
    offered |= {name for _item, kit in of_kind(EquipmentDetails) for name in kit.capabilities}
    specialties = {
        name for _item, details in of_kind(ExpertDetails) for name in details.specialties
    }
    for item, details in of_kind(PlanDetails):
        assert 6 <= len(details.steps) <= 10, item.code
        assert [step.id for step in details.steps] == [
            f"s{n}" for n in range(1, len(details.steps) + 1)
        ]
        assert all(step.role in details.roles for step in details.steps), item.code
        assert any(AGENCY_ROLE.match(step.role) for step in details.steps), (
            f"{item.code}: some steps are for an agency's desk to tick"
        )
        assert details.resources, item.code
        for need in details.resources:
            assert need.capability in offered, (item.code, need.capability)
        assert details.specialties, item.code
        assert set(details.specialties) <= specialties, item.code


@pytest.fixture(scope="module")
def tree() -> JurisdictionTree:
    return JurisdictionTree()


def test_every_point_lies_in_the_jurisdiction_it_names(tree: JurisdictionTree) -> None:
    # The server places objects where they stand: a wrong column would move them.
    for item in ITEMS:
        assert item.jurisdiction in {"320116", "320113"}, item.code
        if item.lat is not None and item.lon is not None:
            assert tree.place(item.lat, item.lon) == item.jurisdiction, item.code
    unplaced = {kind_of(item) for item in ITEMS if item.lat is None}
    assert unplaced <= {ItemKind.EXPERT, ItemKind.PLAN}


def test_protection_targets_lie_near_the_hazard_sources() -> None:
    sources = [
        (item.lat, item.lon)
        for item, _details in of_kind(HazardSourceDetails)
        if item.lat is not None and item.lon is not None
    ]
    targets = of_kind(TargetDetails)
    categories = {details.category for _item, details in targets}
    assert {
        TargetCategory.SCHOOL,
        TargetCategory.KINDERGARTEN,
        TargetCategory.HOSPITAL,
    } <= categories
    assert {TargetCategory.NURSING_HOME, TargetCategory.RESIDENTIAL} <= categories
    for item, details in targets:
        assert item.lat is not None
        assert item.lon is not None
        nearest = min(km_between((item.lat, item.lon), source) for source in sources)
        assert 0.5 <= nearest <= 3.0, (item.code, nearest)
        if details.category is not TargetCategory.WATER_SOURCE:
            assert details.population > 0, item.code


def test_a_broken_registry_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "registry.json"
    broken.write_text('[{"code": "E 1", "name": "x", "details": {"type": "enterprise"}}]')
    with pytest.raises(Error, match=r"registry\.json"):
        load_registry_json(broken)
    with pytest.raises(Error, match="cannot open"):
        load_registry_json(tmp_path / "missing.json")
    assert msgspec.json.decode(DEMO_REGISTRY_JSON.read_bytes())  # plain JSON, too
