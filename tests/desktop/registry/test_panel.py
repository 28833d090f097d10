"""The registry panel against a scripted server: kinds, filters, the detail and its
history, live changes without reload, editing with validation and refusals in words,
version conflicts, retire/restore, revealing contacts, roles, and placing on the map."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QLineEdit, QMainWindow, QPlainTextEdit
from pytestqt.qtbot import QtBot

from desktop.event_log import event_line
from desktop.incidents.dialogs import TextDialog
from desktop.map.layers import LayerKey
from desktop.map.view import MapView
from desktop.registry.desk import RegistryDesk
from desktop.registry.editor import RegistryEditDialog
from desktop.registry.panel import RegistryPanel
from desktop.registry.pickers import AgencyPicker
from desktop.registry.window import WindowRegistry
from desktop.service import ConsoleService
from realtime.client import CommandError, ConnectionState
from realtime.protocol import (
    Command,
    Contact,
    ErrorCode,
    GetRegistryHistory,
    GetRegistryItem,
    ItemKind,
    Limits,
    ListRegistry,
    RegistryChangeAction,
    RegistryChangeView,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemResult,
    RegistryItemView,
    RegistryResult,
    ResultData,
    RetireRegistryItem,
    RevealRegistryContact,
    Role,
    SaveRegistryItem,
    TeamDetails,
    UserInfo,
    Welcome,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until
from tests.desktop.registry.factories import AT, changed, shelter, team

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]


class RegistryServer:
    """Answers the registry commands from :attr:`items`, checking versions; a command
    type in :attr:`refuse` is refused with (code, message)."""

    def __init__(self, service: ConsoleService) -> None:
        self.service = service
        self.commands: list[Command] = []
        self.items: dict[tuple[ItemKind, str], RegistryItemView] = {
            (ItemKind.TEAM, "T-01"): team("T-01"),
            (ItemKind.TEAM, "T-02"): team("T-02", name="西湖消防救援站", jurisdiction="330106"),
            (ItemKind.TEAM, "T-03"): team("T-03", name="旧队伍", retired=True),
            (ItemKind.SHELTER, "S-01"): shelter(),
        }
        self.refuse: dict[type, tuple[ErrorCode, str]] = {}
        self.closed = asyncio.Event()

    @property
    def queued_commands(self) -> int:
        return 0

    async def run(self) -> None:
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()

    def of(self, kind: type) -> list[Any]:
        return [command for command in self.commands if isinstance(command, kind)]

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        self.commands.append(command)
        refusal = self.refuse.pop(type(command), None)
        if refusal is not None:
            raise CommandError(*refusal)
        if isinstance(command, ListRegistry):
            items = sorted(
                (item for (kind, _), item in self.items.items() if kind is command.kind),
                key=lambda item: item.code,
            )
            after = [
                item
                for item in items
                if command.after_code is None or item.code > command.after_code
            ]
            page = after[:2]  # small pages: the desk must follow them
            more = page[-1].code if len(after) > len(page) else None
            return RegistryResult(items=page, next_after_code=more)
        if isinstance(command, GetRegistryItem):
            return RegistryItemResult(item=self.items[(command.kind, command.code)])
        if isinstance(command, GetRegistryHistory):
            return RegistryHistoryResult(
                kind=command.kind,
                code=command.code,
                changes=[
                    RegistryChangeView(
                        seq=7,
                        at=AT,
                        by="officer1",
                        action=RegistryChangeAction.CREATED,
                        after={"name": "滨江危化品救援队"},
                        changed=[],
                    )
                ],
            )
        if isinstance(command, SaveRegistryItem):
            kind = ItemKind(str(command.item.details.__struct_config__.tag))
            held = self.items.get((kind, command.item.code))
            version = held.version if held is not None else 0
            if (command.expected_version or 0) != version:
                raise CommandError(ErrorCode.STALE_VERSION, "version 1 is not the current 2")
            stored = RegistryItemView(
                kind=kind,
                version=version + 1,
                updated_at=AT,
                updated_by="officer1",
                **{
                    field: getattr(command.item, field)
                    for field in ("code", "name", "jurisdiction", "agency", "address", "lat", "lon")
                },
                details=command.item.details,
            )
            self.items[(kind, stored.code)] = stored
            return RegistryItemResult(item=stored)
        if isinstance(command, RetireRegistryItem):
            held = self.items[(command.kind, command.code)]
            stored = msgspec.structs.replace(
                held, retired=command.retired, version=held.version + 1
            )
            self.items[(command.kind, command.code)] = stored
            return RegistryItemResult(item=stored)
        if isinstance(command, RevealRegistryContact):
            return RegistryContactResult(
                kind=command.kind,
                code=command.code,
                contacts=[Contact(name="王队长", role="队长", phone="13800005678")],
            )
        raise CommandError(ErrorCode.BAD_MESSAGE, f"unexpected {type(command).__name__}")


@pytest.fixture
def scripted(qt_loop: qasync.QEventLoop) -> Iterator[tuple[ConsoleService, list[RegistryServer]]]:
    servers: list[RegistryServer] = []

    def factory(_url: str, listener: ConsoleService, *_args: object) -> RegistryServer:
        server = RegistryServer(listener)
        servers.append(server)
        return server

    service = ConsoleService(client_factory=factory, telemetry_topics=())
    yield service, servers
    qt_loop.run_until_complete(service.stop())


def officer(
    role: Role = Role.OFFICER, jurisdiction: str = "", agency: str | None = None
) -> UserInfo:
    return UserInfo(
        username=f"{role}1", display_name="", role=role, jurisdiction=jurisdiction, agency=agency
    )


async def log_in(service: ConsoleService, who: UserInfo) -> None:
    service.start("ws://scripted", who.username, "pw")
    service.on_welcome(
        Welcome(
            protocol=1,
            server_version="test",
            session_token="token",
            user=who,
            head_seq=0,
            limits=Limits(max_message_bytes=1 << 20, rate_per_second=20, rate_burst=60),
        )
    )
    service.on_state(ConnectionState.LIVE, "")
    await asyncio.sleep(0.02)


def open_panel(service: ConsoleService, qtbot: QtBot) -> RegistryPanel:
    panel = RegistryPanel(RegistryDesk(service))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def table_texts(panel: RegistryPanel) -> list[list[str]]:
    model = panel.model
    return [
        [str(model.index(row, column).data()) for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def headers(panel: RegistryPanel) -> list[str]:
    model = panel.model
    return [
        str(model.headerData(column, Qt.Orientation.Horizontal))
        for column in range(model.columnCount())
    ]


def test_teams_are_listed_with_their_columns_filtered_and_detailed(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() == ["T-01", "T-02"], what="teams listed")
        server = servers[0]
        # Three items in pages of two: every page read, retired ones too (hidden here).
        assert [c.after_code for c in server.of(ListRegistry)] == [None, "T-02"]
        assert headers(panel) == [
            "Code", "Name", "Team type", "Members", "Capabilities", "State", "Jurisdiction",
        ]  # fmt: skip
        first = table_texts(panel)[0]
        assert first[:3] == ["T-01", "滨江危化品救援队", "危化品救援"]
        assert first[3:6] == ["24", "Hazmat response；Decontamination", "Standing by"]
        assert first[6] == "滨江区（330108）"

        panel.retired_check.setChecked(True)
        assert panel.model.codes() == ["T-01", "T-02", "T-03"]
        panel.retired_check.setChecked(False)
        panel.jurisdiction_combo.setCurrentIndex(panel.jurisdiction_combo.findData("330106"))
        assert panel.model.codes() == ["T-02"]
        panel.jurisdiction_combo.setCurrentIndex(0)
        panel.search_edit.setText("滨江")
        assert panel.model.codes() == ["T-01"]
        assert panel.status_label.text() == "1 of 3 shown"

        assert panel.select("T-01")
        await wait_until(lambda: panel.history_rows() != [], what="history read")
        assert panel.history_rows()[0][1:3] == ["officer1", "Created"]
        detail = panel.detail_label.text()
        assert "Members：24" in detail
        assert "138****5678" in detail  # masked until revealed

        # Another kind: read when first shown, with its own columns.
        panel.show_kind(ItemKind.SHELTER)
        panel.search_edit.clear()
        await wait_until(lambda: panel.model.codes() == ["S-01"], what="shelters listed")
        assert headers(panel)[2:4] == ["Capacity (people)", "Occupancy (people)"]

    run(scenario())


def test_a_live_change_redraws_row_detail_and_history_without_a_reload(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() == ["T-01", "T-02"], what="listed")
        panel.select("T-01")
        await wait_until(lambda: len(panel.history_rows()) == 1, what="history read")
        reads = len(servers[0].commands)

        service.on_event(
            changed(team("T-01", version=2, members=30), 50, before={"details": {"members": 24}})
        )
        await wait_until(lambda: table_texts(panel)[0][3] == "30", what="row redrawn")
        assert "Members：30" in panel.detail_label.text()
        rows = panel.history_rows()
        assert [row[2] for row in rows] == ["Created", "Changed"]
        assert rows[1][3] == "Members: 24 → 30"
        # A new team arriving live joins the table.
        service.on_event(changed(team("T-05", name="新组建队伍", version=1), 51))
        panel.flush()
        assert panel.model.codes() == ["T-01", "T-02", "T-05"]
        assert panel.selected is not None
        assert panel.selected.code == "T-01"
        assert len(servers[0].commands) == reads  # nothing read again

    run(scenario())


def fill(dialog: RegistryEditDialog, **values: str) -> None:
    for name, value in values.items():
        widget = dialog.fields[name]
        if isinstance(widget, QLineEdit):
            widget.setText(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(value)


def test_a_new_team_is_checked_before_it_is_sent_and_the_server_s_refusal_is_shown(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer(jurisdiction="330108"))
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        dialog = panel.start_new()
        assert dialog.windowTitle() == "New: Emergency teams"
        assert dialog.values()["jurisdiction"] == "330108"  # the officer's own area
        state = dialog.fields["state"]
        assert isinstance(state, QComboBox)
        assert [state.itemText(i) for i in range(state.count())] == [
            "Standing by", "Deployed", "Resting / unavailable",
        ]  # fmt: skip

        fill(dialog, code="T 09", name="江干抢险队", members="很多", lat="30.3")
        await call(dialog.save_button.click)
        errors = dialog.error_label.text().splitlines()
        assert errors == [
            "Code: only letters, digits and _ . : - (no spaces)",
            "Team type: required",
            "Members: not a number",
            "Longitude: give both latitude and longitude, or neither",
        ]
        assert servers[0].of(SaveRegistryItem) == []  # nothing sent

        fill(dialog, code="T-09", team_type="抢险救援", members="12", lon="120.25")
        fill(dialog, capabilities="Rescue\nwater_rescue\n破拆")
        servers[0].refuse[SaveRegistryItem] = (
            ErrorCode.VALIDATION,
            "agency: no agency 'fyre' is registered",
        )
        await call(dialog.save_button.click)
        await wait_until(lambda: "fyre" in dialog.error_label.text(), what="refusal shown")
        assert dialog.error_label.text() == (
            "Agency: The server did not accept the item. (agency: no agency 'fyre' is registered)"
        )
        assert "c62828" in dialog.fields["agency"].styleSheet()
        assert dialog.isVisible()
        assert dialog.save_button.isEnabled()

        await call(dialog.save_button.click)
        await wait_until(lambda: panel.active_dialog is None, what="dialog closed")
        sent = servers[0].of(SaveRegistryItem)[-1]
        assert sent.expected_version is None
        assert isinstance(sent.item.details, TeamDetails)
        # Known capabilities typed by their label (or code) go as codes; others as typed.
        assert sent.item.details.capabilities == ["rescue", "water_rescue", "破拆"]
        assert (sent.item.lat, sent.item.lon) == (30.3, 120.25)
        assert "T-09" in panel.model.codes()
        assert panel.selected is not None
        assert panel.selected.code == "T-09"

    run(scenario())


def test_a_version_conflict_reloads_says_so_and_the_next_save_is_deliberate(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        panel.select("T-01")
        dialog = panel.start_edit()
        assert dialog is not None
        abilities = dialog.fields["capabilities"]
        assert isinstance(abilities, QPlainTextEdit)
        assert abilities.toPlainText() == "Hazmat response\nDecontamination"
        code = dialog.fields["code"]
        assert isinstance(code, QLineEdit)
        assert code.isReadOnly()
        # Someone else saves meanwhile (the console missed the event).
        server = servers[0]
        server.items[(ItemKind.TEAM, "T-01")] = team("T-01", version=2, members=26)
        fill(dialog, members="28")
        await call(dialog.save_button.click)
        await wait_until(lambda: "version 2" in dialog.error_label.text(), what="conflict")
        assert dialog.error_label.text().startswith("Reloaded: version 2 by officer1.")
        panel.flush()
        assert table_texts(panel)[0][3] == "26"  # what is there now
        assert server.of(GetRegistryItem) != []
        await call(dialog.save_button.click)
        await wait_until(lambda: panel.active_dialog is None, what="saved")
        assert server.of(SaveRegistryItem)[-1].expected_version == 2
        panel.flush()
        assert table_texts(panel)[0][3] == "28"

    run(scenario())


def test_retire_restore_and_reveal_ask_why(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        panel.select("T-01")
        assert panel.reveal_button.isEnabled()
        dialog = panel.start_reveal()
        assert isinstance(dialog, TextDialog)
        assert not dialog.ok_button.isEnabled()  # a reason is required
        dialog.text_edit.setPlainText("联系队长出动")
        await call(dialog.accept)
        await wait_until(lambda: "13800005678" in panel.detail_label.text(), what="revealed")
        assert servers[0].of(RevealRegistryContact)[0].note == "联系队长出动"
        # Shown in full only while the item is: another item, and back, is masked again.
        panel.select("T-02")
        panel.select("T-01")
        assert "13800005678" not in panel.detail_label.text()
        assert "138****5678" in panel.detail_label.text()

        retire = panel.start_retire()
        assert retire is not None
        retire.text_edit.setPlainText("队伍撤编")
        await call(retire.accept)
        await wait_until(lambda: panel.model.codes() == ["T-02"], what="retired hidden")
        sent = servers[0].of(RetireRegistryItem)[0]
        assert (sent.retired, sent.expected_version, sent.note) == (True, 1, "队伍撤编")
        panel.retired_check.setChecked(True)
        panel.select("T-01")
        assert panel.retire_button.text() == "Restore…"
        assert not panel.edit_button.isEnabled()
        restore = panel.start_retire()
        assert restore is not None
        await call(restore.accept)  # restoring needs no note
        await wait_until(lambda: len(servers[0].of(RetireRegistryItem)) == 2, what="restored")
        assert servers[0].of(RetireRegistryItem)[1].retired is False

    run(scenario())


@pytest.mark.parametrize(
    ("who", "editing", "may_edit_t01"),
    [
        (officer(Role.VIEWER), False, False),
        (officer(Role.AGENCY, "330108", "fire"), True, True),
        (officer(Role.AGENCY, "330108", "police"), True, False),
        (officer(Role.OFFICER, "330106"), True, False),
    ],
)
def test_editing_controls_follow_the_role(
    scripted: tuple[ConsoleService, list[RegistryServer]],
    qtbot: QtBot,
    run: Run,
    who: UserInfo,
    editing: bool,
    may_edit_t01: bool,
) -> None:
    service, _servers = scripted

    async def scenario() -> None:
        await log_in(service, who)
        panel = open_panel(service, qtbot)
        panel.set_user(who)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        panel.select("T-01")
        assert panel.new_button.isVisible() is editing
        assert panel.reveal_button.isVisible() is editing
        assert panel.edit_button.isEnabled() is may_edit_t01
        assert panel.retire_button.isEnabled() is may_edit_t01
        assert panel.locate_button.isEnabled()  # everyone may look on the map
        if who.agency is not None:
            dialog = panel.start_new()
            agency = dialog.fields["agency"]
            assert isinstance(agency, AgencyPicker)
            assert not agency.isEnabled()  # an agency's desk keeps its own items
            assert agency.value() == who.agency
            dialog.reject()

    run(scenario())


def test_items_are_drawn_per_kind_and_placed_by_a_click_on_the_map(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        window = QMainWindow()
        qtbot.addWidget(window)
        map_view = MapView(basemap=False)
        map_dock = QDockWidget("map", window)
        map_dock.setWidget(map_view)
        messages: list[tuple[str, bool]] = []
        registry = WindowRegistry(
            window,
            service,
            map_view=map_view,
            map_dock=map_dock,
            notify=lambda text, error: messages.append((text, error)),
        )
        window.show()
        registry.show_kind(ItemKind.TEAM)
        panel = registry.panel
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        registry.show_kind(ItemKind.SHELTER)
        await wait_until(lambda: panel.model.codes() == ["S-01"], what="shelters")
        # Placed, not retired: T-01, T-02 and S-01, each with its kind's symbol.
        await wait_until(lambda: map_view.registry.count() == 3, what="items drawn")
        assert map_view.registry.kinds == {
            "team/T-01": "team", "team/T-02": "team", "shelter/S-01": "shelter",
        }  # fmt: skip
        # A click on a team shows it in the panel.
        map_view.point_clicked.emit("registry", "team/T-02")
        assert panel.kind is ItemKind.TEAM
        assert panel.selected is not None
        assert panel.selected.code == "T-02"

        await call(panel.place_button.click)
        tool = registry.pick_tool
        assert tool is not None
        assert tool.picking
        tool.set_point(30.25, 120.3)
        await wait_until(lambda: servers[0].of(SaveRegistryItem) != [], what="placed")
        sent = servers[0].of(SaveRegistryItem)[0]
        assert (sent.item.code, sent.item.lat, sent.item.lon) == ("T-02", 30.25, 120.3)
        assert sent.expected_version == 1
        assert sent.note == "Placed on the map"
        await wait_until(lambda: ("Saved: 西湖消防救援站", False) in messages, what="saved")

        # A refused placing is said in the notification bar.
        servers[0].refuse[SaveRegistryItem] = (ErrorCode.FORBIDDEN, "not your agency's team")
        await call(panel.place_button.click)
        tool.set_point(30.3, 120.4)
        await wait_until(lambda: messages[-1][1], what="refusal said")
        assert messages[-1] == ("You may not change this item. (not your agency's team)", True)

        # Every kind on the map: each read once (teams and shelters are held already).
        registry.map_every_kind()
        await wait_until(lambda: len(registry.desk.state.loaded_kinds) == len(ItemKind), what="all")
        listed = {command.kind for command in servers[0].of(ListRegistry)}
        assert listed == set(ItemKind)
        assert map_view.layer_visible(LayerKey.REGISTRY)

        # The edit form's "Pick on map" fills latitude and longitude.
        dialog = panel.start_edit()
        assert dialog is not None
        await call(dialog.pick_button.click)
        tool.set_point(30.5, 120.5)
        assert (dialog.values()["lat"], dialog.values()["lon"]) == ("30.500000", "120.500000")
        dialog.reject()

    run(scenario())


def test_an_import_s_burst_of_events_is_applied_without_freezing_the_panel(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    """A file import brings one event per item: the panel redraws per burst, not per
    event (5,000 events in well under a second here)."""
    service, _servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        panel.select("T-01")
        events = [
            changed(
                team(f"T-IMP-{number:05d}", version=1),
                100 + number,
                action=RegistryChangeAction.IMPORTED,
            )
            for number in range(5000)
        ]
        started = time.perf_counter()
        for event in events:
            service.on_event(event)
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"5,000 events took {elapsed:.2f} s"
        await wait_until(lambda: panel.model.rowCount() == 5002, what="the burst shown")
        assert panel.status_label.text() == "5002 of 5003 shown"
        assert panel.selected is not None
        assert panel.selected.code == "T-01"

    run(scenario())


def test_a_reconnect_reads_the_lists_again_and_the_history_when_shown(
    scripted: tuple[ConsoleService, list[RegistryServer]], qtbot: QtBot, run: Run
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: panel.model.codes() != [], what="listed")
        panel.select("T-01")
        await wait_until(lambda: len(panel.history_rows()) == 1, what="history read")
        server = servers[0]
        # While the link was down, T-02 was retired and T-01 changed.
        server.items[(ItemKind.TEAM, "T-02")] = team("T-02", version=2, retired=True)
        server.items[(ItemKind.TEAM, "T-01")] = team("T-01", version=2, members=31)
        lists, histories = len(server.of(ListRegistry)), len(server.of(GetRegistryHistory))
        service.on_state(ConnectionState.DISCONNECTED, "link lost")
        service.on_state(ConnectionState.LIVE, "")
        await wait_until(lambda: panel.model.codes() == ["T-01"], what="lists read again")
        assert len(server.of(ListRegistry)) > lists
        await wait_until(lambda: len(server.of(GetRegistryHistory)) > histories, what="history")
        panel.flush()
        assert table_texts(panel)[0][3] == "31"

    run(scenario())


def test_a_server_whose_pages_never_end_does_not_keep_the_console_reading(
    scripted: tuple[ConsoleService, list[RegistryServer]],
    qtbot: QtBot,
    run: Run,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, servers = scripted

    async def scenario() -> None:
        await log_in(service, officer())
        server = servers[0]
        real = server.request

        async def stuck(command: Command, timeout: float | None = 30.0) -> ResultData:
            result = await real(command, timeout)
            if isinstance(result, RegistryResult):
                return RegistryResult(items=result.items, next_after_code="T-01")
            return result

        server.request = stuck  # type: ignore[method-assign]
        panel = open_panel(service, qtbot)
        panel.show_kind(ItemKind.TEAM)
        await wait_until(lambda: ItemKind.TEAM in panel.state.loaded_kinds, what="kept")
        assert len(server.of(ListRegistry)) == 2  # the first page, and one that did not move
        panel.flush()
        assert panel.model.codes() == ["T-01", "T-02"]
        assert "page cursor did not move" in caplog.text

    run(scenario())


def test_the_event_log_names_the_registry_item_and_what_changed(qapp: object) -> None:
    event = changed(team("T-01", version=2, members=30), 50, fields=["details.members", "name"])
    event = msgspec.structs.replace(event, note="人员补充")
    line = event_line(event)
    assert line.endswith(
        " · officer1 · Registry item changed · Emergency teams · 滨江危化品救援队（T-01）"
        " · Changed · Members、Name · 人员补充"
    )
