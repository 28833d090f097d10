"""The registry panel (台账): choose a kind, filter by jurisdiction and text, read an item
with its history, and — for the roles that may — create, edit, retire, restore, place it
on the map and see its contacts in full.

A thin view of a :class:`~desktop.registry.state.RegistryState` kept by a
:class:`~desktop.registry.desk.RegistryDesk`: a ``registry.changed`` event redraws the
table, the detail and the history without a reload. Editing controls are a courtesy;
the server decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.incidents.dialogs import TextDialog
from desktop.plain_text import plain_label
from desktop.registry.desk import RegistryDesk
from desktop.registry.editor import RegistryEditDialog
from desktop.registry.forms import KIND_FIELDS, form_of, parse_form
from desktop.registry.labels import (
    action_label,
    change_lines,
    field_label,
    item_title,
    jurisdiction_label,
    kind_label,
)
from desktop.registry.pickers import RegistryChoices
from desktop.registry.plan_documents import PlanDocumentsBox
from desktop.registry.state import RegistryFilter, RegistryUpdate, may_edit, may_edit_item
from desktop.registry.table import RegistryTableModel, cell_text
from realtime.protocol import Contact, ItemKind, RegistryItemInput, RegistryItemView, UserInfo

PickCallback = Callable[[float, float], None]
"""Receives (lat, lon) of a point picked on the map."""

REDRAW_MS = 100
"""How long a burst of live changes is gathered before the panel redraws."""
DETAIL_MIN_WIDTH = 320
"""Pixels the item's detail keeps beside its history."""
KINDS_WITH_CONTACTS = frozenset(
    {ItemKind.ENTERPRISE, ItemKind.TEAM, ItemKind.SHELTER, ItemKind.EXPERT, ItemKind.TARGET}
)


class RegistryPanel(QWidget):
    """Browse and keep the registry."""

    pick_requested = Signal(object)
    """Pick a point on the map and hand (lat, lon) to the callable given."""
    show_on_map = Signal(float, float)
    """(lon, lat) of the item to centre the map on."""

    def __init__(self, desk: RegistryDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registry_panel")
        self.desk = desk
        self.state = desk.state
        self.active_dialog: RegistryEditDialog | TextDialog | None = None
        self.choices = RegistryChoices()
        """What the form's pickers offer (agencies, the catalogue: the window fills them)."""
        self.seen_jurisdictions: Callable[[], Iterable[str]] = lambda: ()
        """More jurisdiction codes the console has seen (its alarms'), for the picker."""
        self._revealed: dict[tuple[ItemKind, str], list[Contact]] = {}
        self._pending_whole = False
        self._pending_selected = False
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.flush)

        filters = self._build_filters()
        self.model = RegistryTableModel(self.state, self)
        self.table = QTableView(self)
        self.table.setObjectName("registry_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("registry_status")

        lower = self._build_detail()
        buttons = self._build_buttons()
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

        self._selected_code: str | None = None
        self._restoring = False
        self._connect()
        self._fill_jurisdictions()
        self.apply_filter()
        self._show_detail()

    def _build_filters(self) -> QHBoxLayout:
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("registry_kind")
        for kind in ItemKind:
            self.kind_combo.addItem(kind_label(kind), kind.value)
        self.jurisdiction_combo = QComboBox(self)
        self.jurisdiction_combo.setObjectName("registry_jurisdiction")
        self.jurisdiction_combo.setMinimumContentsLength(12)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("registry_search")
        self.search_edit.setPlaceholderText(self.tr("Search code, name, address"))
        self.search_edit.setClearButtonEnabled(True)
        self.retired_check = QCheckBox(self.tr("Show retired"), self)
        self.reload_button = QPushButton(self.tr("Reload"), self)
        filters = QHBoxLayout()
        filters.addWidget(self.kind_combo)
        filters.addWidget(self.jurisdiction_combo)
        filters.addWidget(self.search_edit, 1)
        filters.addWidget(self.retired_check)
        filters.addWidget(self.reload_button)

        return filters

    def _build_detail(self) -> QSplitter:
        self.detail_label = plain_label(parent=self)
        self.detail_label.setObjectName("registry_detail")
        self.detail_label.setWordWrap(True)
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history_tree = QTreeWidget(self)
        self.history_tree.setObjectName("registry_history")
        self.history_tree.setHeaderLabels(
            [self.tr("When"), self.tr("Who"), self.tr("What"), self.tr("Changes")]
        )
        self.history_tree.setRootIsDecorated(False)
        self.history_tree.setWordWrap(True)
        self.history_tree.setColumnWidth(0, 150)
        self.history_tree.setColumnWidth(1, 110)
        self.history_tree.setColumnWidth(2, 60)

        detail_scroll = QScrollArea(self)
        detail_scroll.setWidgetResizable(True)
        detail_scroll.setWidget(self.detail_label)
        detail_scroll.setMinimumWidth(DETAIL_MIN_WIDTH)
        # A plan's documents (预案文档) under its detail.
        self.documents = PlanDocumentsBox(self.desk.service, self.state, self)
        detail_side = QSplitter(Qt.Orientation.Vertical, self)
        detail_side.addWidget(detail_scroll)
        detail_side.addWidget(self.documents)
        detail_side.setStretchFactor(0, 3)
        detail_side.setStretchFactor(1, 1)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(detail_side)
        lower.addWidget(self.history_tree)
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 3)
        return lower

    def _build_buttons(self) -> QHBoxLayout:
        self.new_button = QPushButton(self.tr("New…"), self)
        self.edit_button = QPushButton(self.tr("Edit…"), self)
        self.retire_button = QPushButton(self.tr("Retire…"), self)
        self.reveal_button = QPushButton(self.tr("Show contacts…"), self)
        self.place_button = QPushButton(self.tr("Place on map"), self)
        self.locate_button = QPushButton(self.tr("Show on map"), self)
        for button, name in (
            (self.new_button, "registry_new"),
            (self.edit_button, "registry_edit"),
            (self.retire_button, "registry_retire"),
            (self.reveal_button, "registry_reveal"),
            (self.place_button, "registry_place"),
            (self.locate_button, "registry_locate"),
        ):
            button.setObjectName(name)
        buttons = QHBoxLayout()
        for button in (
            self.new_button,
            self.edit_button,
            self.retire_button,
            self.reveal_button,
            self.place_button,
            self.locate_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)

        return buttons

    def _connect(self) -> None:
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.jurisdiction_combo.currentIndexChanged.connect(self.apply_filter)
        self.search_edit.textChanged.connect(self.apply_filter)
        self.retired_check.toggled.connect(self.apply_filter)
        self.reload_button.clicked.connect(lambda: self.desk.load(self.kind))
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.layoutChanged.connect(self._restore_selection)
        self.new_button.clicked.connect(self.start_new)
        self.edit_button.clicked.connect(self.start_edit)
        self.retire_button.clicked.connect(self.start_retire)
        self.reveal_button.clicked.connect(self.start_reveal)
        self.place_button.clicked.connect(self.start_place)
        self.locate_button.clicked.connect(self._locate)
        self._remove_listener = self.state.add_listener(self._on_update)
        self.destroyed.connect(self._remove_listener)
        self.desk.contacts_revealed.connect(self._on_revealed)
        self.desk.load_failed.connect(self._on_load_failed)
        self.desk.save_refused.connect(self._on_save_refused)
        self.desk.saved.connect(self._on_saved)

    # ------------------------------------------------------------------ reading

    @property
    def kind(self) -> ItemKind:
        """The kind shown."""
        return ItemKind(self.kind_combo.currentData())

    @property
    def user(self) -> UserInfo | None:
        """Who is logged in."""
        return self.state.user

    @property
    def selected(self) -> RegistryItemView | None:
        """The item selected in the table."""
        if self._selected_code is None:
            return None
        return self.state.item(self.kind, self._selected_code)

    def show_kind(self, kind: ItemKind) -> None:
        """Show the items of ``kind`` (read when first shown)."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind.value))
        self.desk.want(kind)

    def activate(self) -> None:
        """The panel became visible: make sure its kind is read."""
        self.desk.want(self.kind)

    def select(self, code: str) -> bool:
        """Select item ``code`` of the kind shown; False when the filter hides it."""
        row = self.model.row_of(code)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def apply_filter(self) -> None:
        """Show what the kind, jurisdiction, search and retired choices keep."""
        data = self.jurisdiction_combo.currentData()
        self.model.set_filter(
            RegistryFilter(
                self.kind,
                jurisdiction=data if isinstance(data, str) else "",
                text=self.search_edit.text(),
                include_retired=self.retired_check.isChecked(),
            )
        )
        self._restore_selection()
        self._show_status()

    def _on_kind_changed(self) -> None:
        self._selected_code = None
        self._fill_jurisdictions()
        self.apply_filter()
        self.desk.want(self.kind)
        self._show_detail()

    def _fill_jurisdictions(self) -> None:
        chosen = self.jurisdiction_combo.currentData()
        own = self.user.jurisdiction if self.user is not None else ""
        codes = sorted({own, *self.state.jurisdictions(self.kind)} - {""})
        self.jurisdiction_combo.blockSignals(True)
        self.jurisdiction_combo.clear()
        self.jurisdiction_combo.addItem(self.tr("All jurisdictions"), "")
        for code in codes:
            self.jurisdiction_combo.addItem(jurisdiction_label(code), code)
        index = self.jurisdiction_combo.findData(chosen) if isinstance(chosen, str) else 0
        self.jurisdiction_combo.setCurrentIndex(max(index, 0))
        self.jurisdiction_combo.blockSignals(False)

    def _on_update(self, update: RegistryUpdate) -> None:
        # A file import brings an event per item: redraw once per burst, not per event.
        if update.kind is not self.kind:
            return
        self._pending_whole = self._pending_whole or update.code is None
        self._pending_selected = self._pending_selected or update.code in (
            None,
            self._selected_code,
        )
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def flush(self) -> None:
        """Redraw now what changed since the last redraw (the timer does it otherwise)."""
        self._redraw_timer.stop()
        self.model.flush()
        whole, selected = self._pending_whole, self._pending_selected
        self._pending_whole = self._pending_selected = False
        if whole:
            self._fill_jurisdictions()
        self._show_status()
        if not (whole or selected):
            return
        current = self.selected
        dialog = self.active_dialog
        if (
            current is not None
            and isinstance(dialog, RegistryEditDialog)
            and dialog.rebase(current)
        ):
            dialog.show_error(
                self.tr("Reloaded: version {version} by {who}. Check and save again.").format(
                    version=current.version, who=current.updated_by
                )
            )
        self._show_detail()

    def _show_status(self) -> None:
        if self.kind not in self.state.loaded_kinds:
            self.status_label.setText(self.tr("Loading…"))
            return
        self.status_label.setText(
            self.tr("{shown} of {total} shown").format(
                shown=self.model.rowCount(), total=self.state.count(self.kind)
            )
        )

    def _on_load_failed(self, kind: ItemKind, text: str) -> None:
        if kind is self.kind:
            self.status_label.setText(self.tr("Not loaded: {reason}").format(reason=text))

    def _on_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes or self._restoring:
            return
        item = self.model.item_at(indexes[0].row())
        code = item.code if item is not None else None
        if code == self._selected_code:
            return
        self._selected_code = code
        self._revealed.clear()  # numbers shown in full only while their item is
        self._show_detail()

    def _restore_selection(self) -> None:
        row = self.model.row_of(self._selected_code) if self._selected_code else None
        if row is None:
            self.table.clearSelection()
        elif self.table.currentIndex().row() != row:
            # The view must still hear of it (to paint it); the panel knows already.
            self._restoring = True
            try:
                self.table.selectRow(row)
            finally:
                self._restoring = False

    def _show_detail(self) -> None:
        item = self.selected
        self._update_controls()
        self.history_tree.clear()
        self.documents.set_plan(item, editable=item is not None and may_edit_item(self.user, item))
        if item is None:
            self.detail_label.setText(self.tr("Choose an item."))
            return
        self.detail_label.setText(self.detail_text(item))
        key = (item.kind, item.code)
        if self.state.history(*key) is None and not self.state.awaiting_history(*key):
            # Read once; the live events keep it current from then on.
            self.desk.load_history(*key)
        for change in self.state.history(item.kind, item.code) or []:
            lines = change_lines(change.before, change.after, change.changed)
            if change.note:
                lines.append(self.tr("Note: {note}").format(note=change.note))
            row = QTreeWidgetItem(
                self.history_tree,
                [
                    texts.format_time(change.at),
                    change.by,
                    action_label(change.action),
                    "\n".join(lines),
                ],
            )
            row.setToolTip(3, "\n".join(lines))

    def detail_text(self, item: RegistryItemView) -> str:
        """The item's fields, one a line, labelled (contacts as revealed, if they were)."""
        lines = [item_title(item)]
        for field in ("jurisdiction", "agency", "address"):
            lines.append(f"{field_label(field)}：{cell_text(item, field)}")
        place = (
            f"{item.lat:.5f}, {item.lon:.5f}"
            if item.lat is not None and item.lon is not None
            else self.tr("not placed")
        )
        lines.append(self.tr("Place: {place}").format(place=place))
        for spec in KIND_FIELDS[item.kind]:
            lines.append(f"{field_label(spec.name)}：{cell_text(item, spec.name)}")
        revealed = self._revealed.get((item.kind, item.code))
        if revealed is not None:
            lines.append(self.tr("Contacts in full:"))
            lines.extend(f"  {c.role} {c.name} {c.phone}".rstrip() for c in revealed)
        lines.append(
            self.tr("Version {version}, {when} by {who}").format(
                version=item.version, when=texts.format_time(item.updated_at), who=item.updated_by
            )
        )
        return "\n".join(lines)

    def history_rows(self) -> list[list[str]]:
        """The history shown, row by row (when, who, what, changes)."""
        rows: list[list[str]] = []
        for index in range(self.history_tree.topLevelItemCount()):
            row = self.history_tree.topLevelItem(index)
            if row is not None:
                rows.append([row.text(column) for column in range(4)])
        return rows

    def _update_controls(self) -> None:
        user = self.user
        editing = may_edit(user)
        for button in (self.new_button, self.edit_button, self.retire_button):
            button.setVisible(editing)
        self.reveal_button.setVisible(editing)
        self.place_button.setVisible(editing)
        item = self.selected
        own = item is not None and may_edit_item(user, item)
        self.new_button.setEnabled(editing)
        self.edit_button.setEnabled(own and item is not None and not item.retired)
        self.place_button.setEnabled(own and item is not None and not item.retired)
        self.retire_button.setEnabled(own)
        self.retire_button.setText(
            self.tr("Restore…") if item is not None and item.retired else self.tr("Retire…")
        )
        self.reveal_button.setEnabled(item is not None and item.kind in KINDS_WITH_CONTACTS)
        self.locate_button.setEnabled(
            item is not None and item.lat is not None and item.lon is not None
        )

    def refresh_names(self) -> None:
        """Names changed (the event catalogue arrived): redraw the table and the detail."""
        rows, columns = self.model.rowCount(), self.model.columnCount()
        if rows and columns:
            self.model.dataChanged.emit(
                self.model.index(0, 0), self.model.index(rows - 1, columns - 1)
            )
        self._show_detail()

    def set_user(self, user: UserInfo) -> None:
        """The user logged in: their jurisdiction in the filter, their controls."""
        self._fill_jurisdictions()
        self._update_controls()

    # ------------------------------------------------------------------ acting

    def start_new(self) -> RegistryEditDialog:
        """Open the form for a new item of the kind shown."""
        return self._open_editor(None)

    def start_edit(self) -> RegistryEditDialog | None:
        """Open the form of the selected item."""
        item = self.selected
        return self._open_editor(item) if item is not None else None

    def _open_editor(self, item: RegistryItemView | None) -> RegistryEditDialog:
        seen = {code for kind in ItemKind for code in self.state.jurisdictions(kind)}
        self.choices.jurisdictions.update(seen, self.seen_jurisdictions())
        self.choices.jurisdictions.discard("")
        dialog = RegistryEditDialog(
            self.kind, item, user=self.user, choices=self.choices, parent=self
        )
        dialog.save_requested.connect(self.desk.save)
        dialog.pick_requested.connect(lambda: self.pick_requested.emit(dialog.set_place))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.active_dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
        dialog.deleteLater()

    def _on_saved(self, item: RegistryItemView) -> None:
        dialog = self.active_dialog
        if isinstance(dialog, RegistryEditDialog) and dialog.kind is item.kind:
            dialog.accept()
            if item.kind is self.kind:
                self.flush()  # the officer's own change: shown at once
                self._selected_code = item.code
                self._restore_selection()
                self._show_detail()

    def _on_save_refused(self, code: str, text: str, message: str) -> None:
        dialog = self.active_dialog
        if isinstance(dialog, RegistryEditDialog):
            dialog.refused(code, text, message)
        else:
            # Placed on the map without a form: the notification bar says it.
            self.desk.message.emit(text, True)

    def start_retire(self) -> TextDialog | None:
        """Retire the selected item, or restore it, with a note."""
        item = self.selected
        if item is None:
            return None
        title = self.tr("Restore {name}") if item.retired else self.tr("Retire {name}")
        dialog = TextDialog(
            title.format(name=item.name),
            self.tr("Why? (kept in the history)"),
            required=not item.retired,
            parent=self,
        )
        dialog.accepted.connect(
            lambda: self.desk.retire(item, retired=not item.retired, note=dialog.text)
        )
        return self._open_text(dialog)

    def start_reveal(self) -> TextDialog | None:
        """Ask why, then show the selected item's contacts in full (audited)."""
        item = self.selected
        if item is None:
            return None
        dialog = TextDialog(
            self.tr("Contacts of {name}").format(name=item.name),
            self.tr("Why do you need the numbers? (recorded)"),
            required=True,
            parent=self,
        )
        dialog.accepted.connect(lambda: self.desk.reveal(item.kind, item.code, dialog.text))
        return self._open_text(dialog)

    def _open_text(self, dialog: TextDialog) -> TextDialog:
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.active_dialog = dialog
        dialog.open()
        return dialog

    def _on_revealed(self, kind: ItemKind, code: str, contacts: list[Contact]) -> None:
        self._revealed[(kind, code)] = contacts
        if kind is self.kind and code == self._selected_code:
            self._show_detail()

    def start_place(self) -> None:
        """Pick the selected item's place on the map; it is saved at once."""
        item = self.selected
        if item is not None:
            self.pick_requested.emit(lambda lat, lon: self.place(item, lat, lon))

    def place(self, item: RegistryItemView, lat: float, lon: float) -> RegistryItemInput | None:
        """Save ``item`` at (lat, lon) (the version it was read at)."""
        form = form_of(item)
        form.update(lat=f"{lat:.6f}", lon=f"{lon:.6f}")
        placed, errors = parse_form(item.kind, form)
        if placed is None:
            self.status_label.setText("; ".join(error.field for error in errors))
            return None
        self.desk.save(placed, item.version, self.tr("Placed on the map"))
        return placed

    def _locate(self) -> None:
        item = self.selected
        if item is not None and item.lat is not None and item.lon is not None:
            self.show_on_map.emit(item.lon, item.lat)
