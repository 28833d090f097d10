"""The event catalogue: the shipped defaults, and every way a site's file can be wrong."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.incidents.catalogue import (
    DEFAULT_PATH,
    PATH_ENV,
    Catalogue,
    CatalogueError,
    load_catalogue,
)
from realtime.incident_states import Deadline, HandlingLevel, IncidentLevel


def _item(code: str = "leak", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": {"zh": "泄漏", "en": "Leak"},
        "handling_level": "agency",
        "deadlines": {"accept": 5, "arrive": 30, "finish": 240},
        "agencies": ["fire"],
    } | fields


def _doc(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "areas": [
            {
                "code": "safety",
                "name": {"zh": "安全生产"},
                "categories": [
                    {"code": "hazchem", "name": {"zh": "危化品"}, "items": list(items or [_item()])}
                ],
            }
        ],
    }


WHERE = "areas[0] (safety).categories[0] (hazchem).items[0] (leak)"


def test_the_shipped_catalogue_loads_and_covers_the_seed() -> None:
    catalogue = load_catalogue(DEFAULT_PATH)
    assert len(catalogue.areas) == 5
    assert len(list(catalogue.categories())) == 29
    assert 140 <= len(catalogue) <= 160
    codes = {item.code for item in catalogue.items()}
    for needed in (
        "hazchem_leak",
        "building_fire",
        "coal_gas_overlimit",
        "confined_space_poisoning",
        "elevator_entrapment",
        "neighbour_dispute",
        "ebike_indoor_charging",
        "garbage_pileup",
        "illegal_building",
        "landslide",
    ):
        assert needed in codes
    leak = catalogue.item("hazchem_leak")
    assert leak.name.zh == "危险化学品泄漏"
    assert leak.reports_straight_to_district
    assert leak.default_level is IncidentLevel.II
    assert "fire" in leak.agencies
    assert catalogue.item("neighbour_dispute").handling_level is HandlingLevel.VILLAGE
    area, category = catalogue.place_of("coal_gas_overlimit")
    assert (area.code, category.code) == ("work_safety", "mining")


def test_alarm_types_suggest_items() -> None:
    catalogue = load_catalogue(DEFAULT_PATH)
    suggested = catalogue.for_alarm_type("hazmat_leak")
    assert suggested is not None
    assert suggested.code == "hazchem_leak"
    assert catalogue.for_alarm_type("no_such_type") is None
    for alarm_type in ("fire", "gas_overlimit", "vehicle_sos", "water_quality"):
        assert catalogue.for_alarm_type(alarm_type) is not None, alarm_type


def test_deadlines_become_due_times_from_sending() -> None:
    item = Catalogue.from_dict(_doc(_item(deadlines={"accept": 5, "finish": 60}))).item("leak")
    sent = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    assert item.deadlines.due_times(sent) == {
        Deadline.ACCEPT: sent + dt.timedelta(minutes=5),
        Deadline.ARRIVE: None,
        Deadline.FINISH: sent + dt.timedelta(minutes=60),
    }


def test_defaults_fill_what_an_item_leaves_out() -> None:
    minimal = {"code": "leak", "name": {"zh": "泄漏"}, "handling_level": "town"}
    item = Catalogue.from_dict(_doc(minimal)).item("leak")
    assert item.default_level is IncidentLevel.IV
    assert not item.reports_straight_to_district
    assert item.agencies == ()
    assert item.deadlines.minutes() == dict.fromkeys(Deadline)
    assert item.name.en == ""


def test_lookups_of_unknown_codes_say_so() -> None:
    catalogue = Catalogue.from_dict(_doc())
    assert "leak" in catalogue
    assert "nope" not in catalogue
    with pytest.raises(CatalogueError, match="no event type 'nope'"):
        catalogue.item("nope")


Mutation = Callable[[dict[str, Any]], None]


def _set_item(**fields: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["areas"][0]["categories"][0]["items"][0].update(fields)

    return mutate


def _edit(path: tuple[str | int, ...], value: object) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


def _drop(key: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        del doc["areas"][0]["categories"][0]["items"][0][key]

    return mutate


def _second_item(code: str, **fields: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["areas"][0]["categories"][0]["items"].append(_item(code, **fields))

    return mutate


def _second_area(area_code: str, category_code: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["areas"].append(
            {
                "code": area_code,
                "name": {"zh": "另一个"},
                "categories": [
                    {"code": category_code, "name": {"zh": "类"}, "items": [_item("other")]}
                ],
            }
        )

    return mutate


BAD: dict[str, tuple[Mutation, str]] = {
    "version": (_edit(("version",), 2), "version 2 is not supported"),
    "no areas": (_edit(("areas",), []), "needs at least one area"),
    "unknown top-level field": (_edit(("owner",), "x"), "unknown field `owner`"),
    "area code": (_edit(("areas", 0, "code"), "Safety"), r"areas\[0\] \(Safety\): area code"),
    "no categories": (_edit(("areas", 0, "categories"), []), "at least one category"),
    "category code": (
        _edit(("areas", 0, "categories", 0, "code"), "1x"),
        r"categories\[0\] \(1x\): category code '1x' must be",
    ),
    "no items": (_edit(("areas", 0, "categories", 0, "items"), []), "at least one item"),
    "item code": (_set_item(code="Leak!"), "item code 'Leak!' must be a lower-case code"),
    "missing name": (_drop("name"), "missing required field `name`"),
    "empty chinese name": (_set_item(name={"zh": " "}), r"\.name: a Chinese name"),
    "long english name": (_set_item(name={"zh": "泄漏", "en": "x" * 129}), "longer than 128"),
    "handling level": (_set_item(handling_level="province"), r"handling_level: Invalid enum"),
    "incident level": (_set_item(default_level="V"), r"default_level: Invalid enum"),
    "straight flag type": (
        _set_item(reports_straight_to_district="yes"),
        "reports_straight_to_district: Expected `bool`",
    ),
    "deadline type": (
        _set_item(deadlines={"accept": "5"}),
        r"deadlines\.accept: Expected `int \| null`",
    ),
    "deadline zero": (_set_item(deadlines={"accept": 0}), "accept must be 1 to"),
    "deadline too long": (_set_item(deadlines={"finish": 10**7}), "finish must be 1 to"),
    "deadlines out of order": (
        _set_item(deadlines={"accept": 60, "arrive": 30}),
        r"accept \(60 min\) comes after arrive \(30 min\)",
    ),
    "unknown deadline": (_set_item(deadlines={"respond": 5}), "unknown field `respond`"),
    "agency code": (_set_item(agencies=["Fire Dept"]), "agency 'Fire Dept' must be"),
    "agency twice": (_set_item(agencies=["fire", "fire"]), "an agency is listed twice"),
    "alarm type code": (_set_item(alarm_types=["Hazmat"]), "alarm type 'Hazmat' must be"),
    "unknown item field": (_set_item(owner="x"), "unknown field `owner`"),
    "duplicate item": (
        _second_item("leak"),
        r"items\[1\] \(leak\): item code 'leak' is already used by .*items\[0\] \(leak\)",
    ),
    "duplicate alarm type": (
        _second_item("spill", alarm_types=["hazmat_leak"]),
        r"items\[1\] \(spill\)\.alarm_types: alarm type 'hazmat_leak' already suggests",
    ),
    "duplicate area": (_second_area("safety", "other"), "area code 'safety' is already used"),
    "duplicate category": (
        _second_area("nature", "hazchem"),
        "category code 'hazchem' is already used",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_every_error_names_the_entry_and_the_reason(case: str) -> None:
    mutate, expected = BAD[case]
    doc = copy.deepcopy(_doc(_item(alarm_types=["hazmat_leak"])))
    mutate(doc)
    with pytest.raises(CatalogueError, match=expected):
        Catalogue.from_dict(doc)


def test_an_item_error_is_placed_by_index_and_code() -> None:
    doc = _doc(_item(deadlines={"accept": "soon"}))
    with pytest.raises(CatalogueError) as refused:
        Catalogue.from_dict(doc)
    assert str(refused.value).startswith(f"{WHERE}.deadlines.accept: ")


def test_json_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not valid JSON"):
        Catalogue.from_json("{")
    with pytest.raises(CatalogueError, match="must be a JSON object"):
        Catalogue.from_json("[]")
    missing = tmp_path / "missing.json"
    with pytest.raises(CatalogueError, match=f"cannot read the event catalogue {missing}"):
        load_catalogue(missing)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_doc(_item(code="X"))), encoding="utf-8")
    with pytest.raises(CatalogueError, match=f"^{bad}: .*item code 'X'"):
        load_catalogue(bad)


def test_a_site_replaces_the_catalogue_by_path_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site.json"
    site.write_text(json.dumps(_doc(_item("site_item"))), encoding="utf-8")
    assert [item.code for item in load_catalogue(site).items()] == ["site_item"]
    monkeypatch.setenv(PATH_ENV, str(site))
    assert [item.code for item in load_catalogue().items()] == ["site_item"]
    monkeypatch.setenv(PATH_ENV, "  ")
    assert len(load_catalogue()) == len(load_catalogue(DEFAULT_PATH))
