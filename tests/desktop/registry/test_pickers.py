"""The registry form's pickers: agencies by their Chinese names, jurisdictions the console
knows (the user's own and those seen below it) or a code typed as digits, and a plan's
incident types by their catalogue names, chosen from the catalogue. The table and the
detail name the types too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QPlainTextEdit
from pytestqt.qtbot import QtBot

from desktop.incidents.catalogue_state import CatalogueState
from desktop.registry.editor import RegistryEditDialog
from desktop.registry.labels import set_type_names, value_text
from desktop.registry.pickers import (
    AgencyPicker,
    JurisdictionPicker,
    RegistryChoices,
    TypeCodesPicker,
)
from desktop.registry.table import cell_text
from realtime.protocol import ItemKind, PlanDetails, Role
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.incidents.factories import catalogue_result, user
from tests.desktop.registry.factories import item

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

WEST, EAST, CITY = "330106", "330102", "3301"
"""Hangzhou's Xihu and Shangcheng districts, and the city."""


@pytest.fixture
def choices() -> RegistryChoices:
    catalogue = CatalogueState()
    assert catalogue.apply(catalogue_result())
    return RegistryChoices(
        agencies={"fire": "消防救援", "police": "公安", "emergency": "应急管理"},
        jurisdictions={WEST, EAST, "330106001", "320116"},
        catalogue=catalogue,
    )


@pytest.fixture
def type_names(choices: RegistryChoices) -> Iterator[None]:
    set_type_names({entry.code: entry.name_zh for entry in choices.catalogue.items()})
    yield
    set_type_names({})


def a_plan(type_codes: list[str]) -> PlanDetails:
    return PlanDetails(type_codes=type_codes, documents=["3"])


def test_agencies_are_picked_by_their_chinese_names(choices: RegistryChoices, qtbot: QtBot) -> None:
    picker = AgencyPicker(choices)
    qtbot.addWidget(picker)
    shown = [picker.itemText(index) for index in range(picker.count())]
    assert shown == ["—", "应急管理（emergency）", "消防救援（fire）", "公安（police）"]
    picker.set_value("police")
    assert picker.value() == "police"
    picker.set_value("")
    assert picker.value() == ""
    # An agency the list lacks (retired since, say) is kept, not lost on save.
    picker.set_value("water_board")
    assert picker.value() == "water_board"


def test_jurisdictions_offered_are_the_users_own_and_those_seen_below_it(
    choices: RegistryChoices, qtbot: QtBot
) -> None:
    picker = JurisdictionPicker(choices, WEST)
    qtbot.addWidget(picker)
    assert [picker.itemData(index) for index in range(picker.count())] == [WEST, "330106001"]
    assert picker.itemText(0).startswith(WEST)
    city = JurisdictionPicker(choices, CITY)
    qtbot.addWidget(city)
    assert [city.itemData(index) for index in range(city.count())] == [
        CITY,
        EAST,
        WEST,
        "330106001",
    ]
    # Chosen from the list: its code, whatever name is shown beside it.
    city.setCurrentIndex(2)
    assert city.value() == WEST
    # Typed: digits only (the validator refuses letters as they are typed).
    line = city.lineEdit()
    assert line is not None
    line.clear()
    QTest.keyClicks(line, "33a01b09")
    assert city.value() == "330109"
    city.set_value("")
    assert city.value() == ""
    city.set_value("330110")  # not seen before: shown as it is
    assert city.value() == "330110"


def test_incident_types_are_shown_by_catalogue_name_and_added_from_it(
    choices: RegistryChoices, qtbot: QtBot
) -> None:
    picker = TypeCodesPicker(choices)
    qtbot.addWidget(picker)
    picker.set_value(["hazchem_leak", "retired_type"])
    assert picker.texts() == ["危险化学品泄漏（hazchem_leak）", "retired_type"]
    dialog = picker.open_chooser()
    assert picker.catalogue_picker is not None
    assert picker.catalogue_picker.select("hazchem_transport_accident")
    dialog.accept()
    assert picker.value() == ["hazchem_leak", "retired_type", "hazchem_transport_accident"]
    assert picker.texts()[-1] == "危化品运输车辆事故（hazchem_transport_accident）"
    # Once each; cancelling adds nothing.
    assert not picker.add_code("hazchem_leak")
    again = picker.open_chooser()
    assert picker.catalogue_picker is not None
    picker.catalogue_picker.select("building_fire")
    again.reject()
    assert len(picker.value()) == 3
    picker.list.setCurrentRow(1)
    picker.remove_current()
    assert picker.value() == ["hazchem_leak", "hazchem_transport_accident"]


def test_the_plan_form_uses_the_pickers_and_saves_what_was_there(
    choices: RegistryChoices, qtbot: QtBot
) -> None:
    plan = item(
        ItemKind.PLAN,
        "P-01",
        a_plan(["hazchem_leak"]),
        name="危化品泄漏预案",
        jurisdiction=WEST,
        agency="emergency",
    )
    dialog = RegistryEditDialog(
        ItemKind.PLAN, plan, user=user(Role.OFFICER, jurisdiction=CITY), choices=choices
    )
    qtbot.addWidget(dialog)
    assert isinstance(dialog.fields["agency"], AgencyPicker)
    assert isinstance(dialog.fields["jurisdiction"], JurisdictionPicker)
    types = dialog.fields["type_codes"]
    assert isinstance(types, TypeCodesPicker)
    assert types.texts() == ["危险化学品泄漏（hazchem_leak）"]
    assert isinstance(dialog.fields["documents"], QPlainTextEdit)
    types.add_code("hazchem_fire_explosion")
    saved = dialog.check()
    assert saved is not None
    assert saved.jurisdiction == WEST
    assert saved.agency == "emergency"
    assert isinstance(saved.details, PlanDetails)
    assert saved.details.type_codes == ["hazchem_leak", "hazchem_fire_explosion"]
    assert saved.details.documents == ["3"]
    # A plan needs a type: removing the last one is refused with the field marked.
    types.set_value([])
    assert dialog.check() is None
    assert "border" in types.styleSheet()


def test_without_choices_the_form_types_them_as_before(qtbot: QtBot) -> None:
    dialog = RegistryEditDialog(ItemKind.PLAN, None, user=user(Role.OFFICER, jurisdiction=WEST))
    qtbot.addWidget(dialog)
    assert not isinstance(dialog.fields["agency"], AgencyPicker)
    assert not isinstance(dialog.fields["type_codes"], TypeCodesPicker)


def test_an_agency_desk_keeps_its_agency(choices: RegistryChoices, qtbot: QtBot) -> None:
    desk = user(Role.AGENCY, agency="fire", jurisdiction=WEST)
    dialog = RegistryEditDialog(ItemKind.TEAM, None, user=desk, choices=choices)
    qtbot.addWidget(dialog)
    agency = dialog.fields["agency"]
    assert isinstance(agency, AgencyPicker)
    assert agency.value() == "fire"
    assert not agency.isEnabled()
    jurisdiction = dialog.fields["jurisdiction"]
    assert isinstance(jurisdiction, JurisdictionPicker)
    assert jurisdiction.value() == WEST
    assert dialog.values()["agency"] == "fire"


@pytest.mark.usefixtures("type_names")
def test_the_table_and_detail_name_a_plans_types() -> None:
    plan = item(
        ItemKind.PLAN,
        "P-01",
        a_plan(["hazchem_leak", "unknown_type"]),
        name="预案",
    )
    assert cell_text(plan, "type_codes") == "危险化学品泄漏（hazchem_leak）；unknown_type"
    assert value_text("type_codes", ["hazchem_transport_accident"]) == (
        "危化品运输车辆事故（hazchem_transport_accident）"
    )


def test_a_chooser_left_open_is_forgotten_when_closed(
    choices: RegistryChoices, qtbot: QtBot
) -> None:
    picker = TypeCodesPicker(choices)
    qtbot.addWidget(picker)
    dialog = picker.open_chooser()
    assert isinstance(dialog, QDialog)
    dialog.reject()
    assert picker.chooser is None
