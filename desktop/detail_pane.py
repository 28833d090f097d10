"""The alarm detail pane: every field of the selected alarm, its units, and its actions.

Action buttons are enabled only for :func:`realtime.states.allowed_actions` of the
alarm's state. Actions that need more input open a dialog first; the command then goes
through the :class:`~desktop.service.ConsoleService`, never straight to the network.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
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
from desktop.dialogs import DispatchDialog, MergeDialog, NoteDialog, RevealDialog
from desktop.incidents.recommend import request_for
from desktop.plain_text import escape, plain_label, rich_label
from desktop.service import ConsoleService
from desktop.state import StoreChange
from realtime.protocol import (
    AlarmView,
    ContactField,
    ContactResult,
    ItemKind,
    Recommendation,
    ResultData,
    RevealContact,
)
from realtime.states import NOTE_REQUIRED, AlarmAction, allowed_actions

logger = logging.getLogger(__name__)

BUTTON_COLUMNS = 3
REVEAL_SECONDS = 60
"""How long revealed personal data stays on screen before the masked copy returns."""


class ButtonGrid(QGridLayout):
    """Buttons in rows of a fixed number of columns, in the order they are added."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        self._columns = columns
        self._added = 0

    def add_button(self, button: QWidget) -> None:
        """Put ``button`` in the next free cell."""
        self.addWidget(button, self._added // self._columns, self._added % self._columns)
        self._added += 1


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
        # Says why an alarm is shown when the officer selected none (see desktop.urgent).
        self.caption_label = self._caption(layout)
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
            ("caller_address", self.tr("Caller address:")),
            ("sensitive_note", self.tr("Sensitive note:")),
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

        self._add_reveal(fields)

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
        self.extra_buttons = ButtonGrid(BUTTON_COLUMNS)
        """Where the window adds buttons of other areas (立案, 并案, 静音): in rows of
        :data:`BUTTON_COLUMNS`, like the actions, so the pane stays narrow."""
        layout.addLayout(self.extra_buttons)
        layout.addStretch(1)

        service.alarm_changed.connect(self._on_alarm_changed)
        service.snapshot_replaced.connect(self.refresh)
        self.refresh()

    def _caption(self, layout: QVBoxLayout) -> QLabel:
        label = plain_label(parent=self)
        label.setObjectName("detail_caption_label")
        label.setStyleSheet("color: #c62828; font-weight: bold;")
        label.hide()
        layout.addWidget(label)
        return label

    def _add_reveal(self, fields: QFormLayout) -> None:
        """The 查看 button and what it shows while revealing."""
        self.reveal_button = QPushButton(self.tr("Reveal…"), self)
        self.reveal_button.setObjectName("reveal_button")
        self.reveal_button.setToolTip(
            self.tr("Show the caller's details in full for a minute (asks why; recorded)")
        )
        self.reveal_button.clicked.connect(self.start_reveal)
        fields.addRow(self.reveal_button)
        self.reveal_status_label = plain_label(parent=self)
        self.reveal_status_label.setObjectName("reveal_status_label")
        self.reveal_status_label.setWordWrap(True)
        self.reveal_status_label.hide()
        fields.addRow(self.reveal_status_label)
        self._revealed: ContactResult | None = None
        """Personal data shown in full now (only in memory, only for REVEAL_SECONDS)."""
        self.reveal_timer = QTimer(self)
        self.reveal_timer.setObjectName("reveal_timer")
        self.reveal_timer.setSingleShot(True)
        self.reveal_timer.setInterval(REVEAL_SECONDS * 1000)
        self.reveal_timer.timeout.connect(self.hide_revealed)

    # ------------------------------------------------------------------ showing

    @property
    def alarm_id(self) -> int | None:
        """The id of the alarm shown, or None."""
        return self._alarm_id

    @property
    def alarm(self) -> AlarmView | None:
        """The alarm shown, as the store holds it now."""
        return None if self._alarm_id is None else self._service.store.get(self._alarm_id)

    def set_caption(self, text: str) -> None:
        """Show ``text`` above the alarm (why it is shown); '' hides the caption."""
        self.caption_label.setText(text)
        self.caption_label.setVisible(bool(text))

    def show_alarm(self, alarm_id: int | None) -> None:
        """Show the alarm with ``alarm_id`` (None clears the pane)."""
        if alarm_id != self._alarm_id:
            self._forget_revealed()
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
        self.reveal_button.setEnabled(
            alarm is not None
            and not self.read_only
            and any(
                (alarm.caller_name, alarm.caller_phone, alarm.caller_address, alarm.sensitive_note)
            )
        )
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
        shown = self._revealed if self._revealed and self._revealed.alarm_id == alarm.id else None
        name, phone, address, note = (
            alarm.caller_name,
            alarm.caller_phone,
            alarm.caller_address,
            alarm.sensitive_note,
        )
        if shown is not None:
            # Only what was revealed replaces its masked copy.
            revealed = {field.value for field in shown.fields}
            name = shown.caller_name if "caller_name" in revealed else name
            phone = shown.caller_phone if "caller_phone" in revealed else phone
            address = shown.caller_address if "caller_address" in revealed else address
            note = shown.sensitive_note if "sensitive_note" in revealed else note
        caller = " ".join(part for part in (name, phone) if part)
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
            "caller_address": address,
            "sensitive_note": note,
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

    # ------------------------------------------------------------------ revealing

    @property
    def revealing(self) -> bool:
        """Whether personal data is shown in full now."""
        return self._revealed is not None

    def start_reveal(self) -> None:
        """Ask why and which fields, then ask the server to reveal them (audited)."""
        alarm = self.alarm
        if alarm is None:
            return
        dialog = RevealDialog(alarm, parent=self)
        dialog.accepted.connect(lambda: self._reveal(dialog.alarm_id, dialog.reason, dialog.fields))
        self._open_dialog(dialog)

    def _reveal(self, alarm_id: int, reason: str, fields: list[ContactField]) -> None:
        command = RevealContact(req="", alarm_id=alarm_id, reason=reason, fields=fields)
        self._service.query(command, self._on_revealed, self._on_reveal_refused)

    def _on_revealed(self, result: ResultData) -> None:
        if not isinstance(result, ContactResult) or result.alarm_id != self._alarm_id:
            return  # another alarm is shown by now: nothing to show it in
        self._revealed = result
        self.reveal_timer.start()
        self.reveal_status_label.setStyleSheet("")
        self.reveal_status_label.setText(
            self.tr("Shown in full for {seconds} s; this view is recorded.").format(
                seconds=REVEAL_SECONDS
            )
        )
        self.reveal_status_label.show()
        self.refresh()

    def _on_reveal_refused(self, code: str, message: str) -> None:
        self.reveal_status_label.setStyleSheet("color: #c62828;")
        self.reveal_status_label.setText(
            self.tr("Not revealed: {summary} ({message})").format(
                summary=texts.error_summary(code), message=message
            )
        )
        self.reveal_status_label.show()

    def hide_revealed(self) -> None:
        """Put the masked copies back (when the time is up, or the alarm shown changes)."""
        self._forget_revealed()
        self.refresh()

    def _forget_revealed(self) -> None:
        self._revealed = None
        self.reveal_timer.stop()
        self.reveal_status_label.hide()
        self.reveal_status_label.clear()

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
        user = self._service.user
        dialog = DispatchDialog(
            alarm, self._service.units, parent=self, username=user.username if user else ""
        )
        self._service.units_listed.connect(dialog.set_units)
        self._service.alarm_changed.connect(dialog.follow_own_change)
        self._service.list_units()
        if alarm.lat is not None and alarm.lon is not None:
            # Teams are asked for too: units they list share their capabilities and state.
            self._service.query(
                request_for(lat=alarm.lat, lon=alarm.lon, kinds=[ItemKind.TEAM], limit=200),
                lambda result: (
                    dialog.set_recommendation(result)
                    if isinstance(result, Recommendation)
                    else None
                ),
                lambda _code, message: dialog.set_recommendation_error(message),
            )
        dialog.accepted.connect(
            lambda: self._service.dispatch(
                dialog.alarm_id, dialog.expected_version, dialog.selected_unit_ids, dialog.note
            )
        )
        self._open_dialog(dialog)
