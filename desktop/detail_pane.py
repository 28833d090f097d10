"""The alarm detail pane: every field of the selected alarm, its units, and its actions.

Action buttons are enabled only for :func:`realtime.states.allowed_actions` of the
alarm's state. Actions that need more input open a dialog first; the command then goes
through the :class:`~desktop.service.ConsoleService`, never straight to the network.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.dialogs import DispatchDialog, MergeDialog, NoteDialog
from desktop.plain_text import escape, plain_label, rich_label
from desktop.service import ConsoleService
from desktop.state import StoreChange
from realtime.protocol import AlarmView
from realtime.states import NOTE_REQUIRED, AlarmAction, allowed_actions

logger = logging.getLogger(__name__)

BUTTON_COLUMNS = 4


class AlarmDetailPane(QWidget):
    """Shows one alarm and offers the actions legal in its state."""

    def __init__(self, service: ConsoleService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarm_detail_pane")
        self._service = service
        self._alarm_id: int | None = None
        self.read_only = False
        """A viewer's or trainer's console: every action greyed out (the server refuses
        them anyway; this only spares the attempt)."""
        self.active_dialog: QDialog | None = None
        """The dialog an action opened and that is still showing (tests reach it here)."""

        layout = QVBoxLayout(self)
        # The console's bold around the alarm's (escaped) title.
        self.header_label = rich_label(self)
        self.header_label.setObjectName("detail_header_label")
        self.header_label.setWordWrap(True)
        layout.addWidget(self.header_label)
        self.stale_label = plain_label(
            self.tr("The connection is down: this may be out of date."), self
        )
        self.stale_label.setObjectName("detail_stale_label")
        self.stale_label.setStyleSheet("color: #c62828;")
        self.stale_label.hide()
        layout.addWidget(self.stale_label)

        fields = QFormLayout()
        layout.addLayout(fields)
        self._field_labels: dict[str, QLabel] = {}
        for key, caption in (
            ("id", self.tr("No.:")),
            ("level", self.tr("Level:")),
            ("type", self.tr("Type:")),
            ("state", self.tr("State:")),
            ("place", self.tr("Place:")),
            ("coordinates", self.tr("Coordinates:")),
            ("source", self.tr("Source:")),
            ("caller", self.tr("Caller:")),
            ("first_seen", self.tr("First reported:")),
            ("updated", self.tr("Last change:")),
            ("note", self.tr("Last note:")),
            ("shared", self.tr("Shared with:")),
            ("description", self.tr("Description:")),
        ):
            value = plain_label(parent=self)
            value.setObjectName(f"detail_{key}_label")
            value.setWordWrap(True)
            value.setTextInteractionFlags(value.textInteractionFlags())
            fields.addRow(caption, value)
            self._field_labels[key] = value

        units_box = QGroupBox(self.tr("Dispatched units"), self)
        units_layout = QVBoxLayout(units_box)
        self.units_list = QListWidget(units_box)
        self.units_list.setObjectName("dispatched_units_list")
        units_layout.addWidget(self.units_list)
        layout.addWidget(units_box)

        buttons = QGridLayout()
        layout.addLayout(buttons)
        self.action_buttons: dict[AlarmAction, QPushButton] = {}
        for position, action in enumerate(AlarmAction):
            button = QPushButton(texts.action_label(action), self)
            button.setObjectName(f"action_{action.value}_button")
            button.clicked.connect(lambda _checked=False, chosen=action: self.start_action(chosen))
            buttons.addWidget(button, position // BUTTON_COLUMNS, position % BUTTON_COLUMNS)
            self.action_buttons[action] = button
        layout.addStretch(1)

        service.alarm_changed.connect(self._on_alarm_changed)
        service.snapshot_replaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ showing

    @property
    def alarm_id(self) -> int | None:
        """The id of the alarm shown, or None."""
        return self._alarm_id

    @property
    def alarm(self) -> AlarmView | None:
        """The alarm shown, as the store holds it now."""
        return None if self._alarm_id is None else self._service.store.get(self._alarm_id)

    def show_alarm(self, alarm_id: int | None) -> None:
        """Show the alarm with ``alarm_id`` (None clears the pane)."""
        self._alarm_id = alarm_id
        self.refresh()

    def set_read_only(self, read_only: bool) -> None:
        """Grey out every action (or offer them again by the alarm's state)."""
        self.read_only = read_only
        self.refresh()

    def set_stale(self, stale: bool) -> None:
        """Say that the data shown may be out of date."""
        self.stale_label.setVisible(stale)

    def field_text(self, key: str) -> str:
        """Return the text of one field (``state``, ``place``…)."""
        return self._field_labels[key].text()

    def refresh(self) -> None:
        """Redraw from the store."""
        alarm = self.alarm
        allowed = set(allowed_actions(alarm.state)) if alarm is not None else set()
        for action, button in self.action_buttons.items():
            button.setEnabled(action in allowed and not self.read_only)
        self.units_list.clear()
        if alarm is None:
            self.header_label.setText(self.tr("Select an alarm in the queue."))
            for label in self._field_labels.values():
                label.clear()
            return
        self.header_label.setText(f"<b>{escape(alarm.title)}</b>")
        coordinates = (
            f"{alarm.lat:.6f}, {alarm.lon:.6f}"
            if alarm.lat is not None and alarm.lon is not None
            else ""
        )
        caller = " ".join(part for part in (alarm.caller_name, alarm.caller_phone) if part)
        updated = texts.format_time(alarm.updated_at)
        if alarm.updated_by:
            updated = f"{updated} ({alarm.updated_by})"
        values = {
            "id": str(alarm.id),
            "level": texts.level_label(alarm.level),
            "type": texts.alarm_type_label(alarm.alarm_type),
            "state": texts.state_label(alarm.state),
            "place": alarm.place,
            "coordinates": coordinates,
            "source": texts.source_label(alarm.source)
            + (f" {alarm.source_ref}" if alarm.source_ref else "")
            + (f" ×{alarm.count}" if alarm.count > 1 else ""),
            "caller": caller,
            "first_seen": texts.format_time(alarm.first_seen),
            "updated": updated,
            "note": alarm.last_note,
            "shared": "、".join(texts.agency_label(agency) for agency in alarm.shared_with),
            "description": alarm.description,
        }
        if alarm.merged_into is not None:
            values["state"] += self.tr(" (into No. {alarm_id})").format(alarm_id=alarm.merged_into)
        for key, value in values.items():
            self._field_labels[key].setText(value)
        for dispatch in alarm.dispatches:
            agency = texts.agency_label(dispatch.agency)
            line = f"{dispatch.unit_name} ({agency}) · {texts.format_time(dispatch.at)}"
            if dispatch.note:
                line += f" · {dispatch.note}"
            self.units_list.addItem(line)

    def _on_alarm_changed(self, change: StoreChange) -> None:
        if change.alarm is not None and change.alarm.id == self._alarm_id:
            self.refresh()

    # ------------------------------------------------------------------ acting

    def start_action(self, action: AlarmAction) -> None:
        """Carry out ``action`` on the shown alarm, asking for what it needs first."""
        alarm = self.alarm
        if alarm is None or action not in allowed_actions(alarm.state):
            return
        if action is AlarmAction.DISPATCH:
            self._open_dispatch(alarm)
        elif action is AlarmAction.MERGE:
            self._open_merge(alarm)
        elif action in NOTE_REQUIRED:
            self._open_note(alarm, action)
        else:
            self._service.transition(alarm.id, action, alarm.version)

    def _open_dialog(self, dialog: QDialog) -> None:
        if self.active_dialog is not None:
            self.active_dialog.reject()
        self.active_dialog = dialog
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
        dialog.deleteLater()

    def _open_note(self, alarm: AlarmView, action: AlarmAction) -> None:
        dialog = NoteDialog(alarm, action, required=True, parent=self)
        alarm_id, version = alarm.id, alarm.version
        dialog.accepted.connect(
            lambda: self._service.transition(alarm_id, action, version, dialog.note)
        )
        self._open_dialog(dialog)

    def _open_merge(self, alarm: AlarmView) -> None:
        dialog = MergeDialog(alarm, self._service.store, parent=self)
        alarm_id, version = alarm.id, alarm.version

        def merge() -> None:
            if dialog.target_id is not None:
                self._service.transition(
                    alarm_id, AlarmAction.MERGE, version, dialog.note, merge_into=dialog.target_id
                )

        dialog.accepted.connect(merge)
        self._open_dialog(dialog)

    def _open_dispatch(self, alarm: AlarmView) -> None:
        dialog = DispatchDialog(alarm, self._service.units, parent=self)
        self._service.units_listed.connect(dialog.set_units)
        self._service.list_units()
        dialog.accepted.connect(
            lambda: self._service.dispatch(
                dialog.alarm_id, dialog.expected_version, dialog.selected_unit_ids, dialog.note
            )
        )
        self._open_dialog(dialog)
