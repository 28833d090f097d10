"""The event catalogue in the console: the plain state (what is held, the digest, the
search in Chinese, English or by code) and the picker over it (pytest-qt)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.incidents.catalogue_picker import CataloguePicker
from desktop.incidents.catalogue_state import CatalogueState
from realtime.protocol import CatalogueResult
from tests.desktop.incidents.factories import catalogue_result


@pytest.fixture
def catalogue() -> CatalogueState:
    state = CatalogueState()
    assert state.apply(catalogue_result())
    return state


def test_the_state_holds_the_server_catalogue_and_keeps_it_on_unchanged(
    catalogue: CatalogueState,
) -> None:
    result = catalogue_result()
    assert catalogue.loaded
    assert catalogue.digest == result.digest
    assert "hazchem_leak" in catalogue
    assert "no_such_item" not in catalogue
    leak = catalogue.item("hazchem_leak")
    assert leak is not None
    assert leak.name_zh == "危险化学品泄漏"
    path = catalogue.path_of("hazchem_leak")
    assert path is not None
    assert (path[0].code, path[1].code) == ("work_safety", "hazchem")
    # ``unchanged`` confirms the copy held: nothing is dropped.
    assert not catalogue.apply(CatalogueResult(digest=result.digest, unchanged=True))
    assert catalogue.item("hazchem_leak") == leak
    # A new catalogue replaces the old one entirely.
    smaller = CatalogueResult(digest="new", areas=result.areas[:1])
    assert catalogue.apply(smaller)
    assert catalogue.digest == "new"
    assert "garbage_pileup" not in catalogue


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("泄漏", "hazchem_leak"),  # Chinese name
        ("LEAK", "hazchem_leak"),  # English name, any case
        ("coal_water", "coal_water_inrush"),  # code
        ("矿山 透水", "coal_water_inrush"),  # category name and item name together
    ],
)
def test_the_search_matches_names_in_either_language_and_codes(
    catalogue: CatalogueState, query: str, expected: str
) -> None:
    assert expected in [item.code for item in catalogue.matches(query)]


def test_a_category_name_keeps_all_its_items_and_nonsense_finds_none(
    catalogue: CatalogueState,
) -> None:
    hazchem = [item.code for item in catalogue.matches("危险化学品")]
    path = catalogue.path_of("hazchem_leak")
    assert path is not None
    assert set(hazchem) >= {item.code for item in path[1].items}
    assert catalogue.matches("没有这种事项 xyzzy") == []
    assert len(catalogue.matches("")) == len(list(catalogue.items()))


def test_the_picker_filters_chooses_and_says_what_the_item_means(
    qtbot: QtBot, catalogue: CatalogueState
) -> None:
    picker = CataloguePicker(catalogue)
    qtbot.addWidget(picker)
    assert len(picker.visible_codes()) == len(list(catalogue.items()))
    picker.search_edit.setText("化粪池")
    assert picker.visible_codes() == ["septic_tank_work"]
    row = picker.row_of("septic_tank_work")
    assert row is not None
    with qtbot.waitSignal(picker.chosen) as chosen:
        picker.tree.setCurrentItem(row)
    assert chosen.args == ["septic_tank_work"]
    assert picker.type_code == "septic_tank_work"
    detail = picker.detail_label.text()
    assert "化粪池窨井违规作业" in detail
    assert "Village / community" in detail  # who handles it
    assert "30" in detail
    assert "120" in detail
    assert "2880" in detail
    # Clearing the search keeps the choice; an unknown code is not taken.
    picker.search_edit.clear()
    assert picker.type_code == "septic_tank_work"
    assert not picker.select("no_such_item")
    assert picker.type_code == "septic_tank_work"


def test_the_picker_says_when_the_catalogue_has_not_arrived(qtbot: QtBot) -> None:
    picker = CataloguePicker(CatalogueState())
    qtbot.addWidget(picker)
    assert picker.visible_codes() == []
    assert picker.type_code == ""
    assert picker.detail_label.text()
