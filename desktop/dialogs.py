"""Dialogs an officer fills in: a note, a merge target, units to dispatch.

Every dialog is opened with ``open()`` (window-modal, non-blocking) so the asyncio loop
keeps running underneath; the caller reacts to ``accepted``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.incidents.recommend import best, summary
from desktop.plain_text import plain_label
from desktop.state import AlarmStore, StoreChange
from realtime.protocol import AlarmView, ContactField, RankedResource, Recommendation, UnitView
from realtime.states import AlarmAction, is_open

logger = logging.getLogger(__name__)

PRESELECT_UNITS = 2
"""Dispatch: how many of the best available units a ranking ticks (when none are ticked)."""


def _buttons(
    dialog: QDialog, ok_text: str, cancel_text: str
) -> tuple[QDialogButtonBox, QPushButton]:
    box = QDialogButtonBox(dialog)
    ok_button = box.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
    box.addButton(cancel_text, QDialogButtonBox.ButtonRole.RejectRole)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box, ok_button


class NoteDialog(QDialog):
    """Asks for the note an action needs (the feedback, or the reason)."""

    def __init__(
        self,
        alarm: AlarmView,
        action: AlarmAction,
        *,
        required: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("note_dialog")
        self.action = action
        self.setWindowTitle(
            self.tr("{action}: alarm {alarm_id}").format(
                action=texts.action_label(action).rstrip("…"), alarm_id=alarm.id
            )
        )
        layout = QVBoxLayout(self)
        prompt = self.tr("Note (required):") if required else self.tr("Note:")
        layout.addWidget(plain_label(f"{alarm.title}\n{prompt}", self))
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setObjectName("note_edit")
        layout.addWidget(self.note_edit)
        box, self.ok_button = _buttons(self, self.tr("OK"), self.tr("Cancel"))
        layout.addWidget(box)
        self._required = required
        self.note_edit.textChanged.connect(self._update_ok)
        self._update_ok()

    @property
    def note(self) -> str:
        """The note as typed, trimmed."""
        return self.note_edit.toPlainText().strip()

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(bool(self.note) or not self._required)


MAX_REVEAL_REASON = 200
"""The longest reason the server takes for a reveal."""


class RevealDialog(QDialog):
    """Asks why the officer needs an alarm's personal data in full, and which of it.

    The reason is required: it goes into the audit trail with the officer's name.
    """

    def __init__(self, alarm: AlarmView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reveal_dialog")
        self.alarm_id = alarm.id
        self.setWindowTitle(
            self.tr("Reveal personal data: alarm {alarm_id}").format(alarm_id=alarm.id)
        )
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                self.tr(
                    "The caller's details are shown in full for a short time. Your name, "
                    "the time and your reason are recorded."
                ),
                self,
            )
        )
        self.field_boxes: dict[ContactField, QCheckBox] = {}
        present = {
            ContactField.CALLER_NAME: alarm.caller_name,
            ContactField.CALLER_PHONE: alarm.caller_phone,
            ContactField.CALLER_ADDRESS: alarm.caller_address,
            ContactField.SENSITIVE_NOTE: alarm.sensitive_note,
        }
        for field, shown in present.items():
            if not shown:
                continue
            check = QCheckBox(texts.contact_field_label(field), self)
            check.setObjectName(f"reveal_{field.value}_box")
            check.setChecked(True)
            check.toggled.connect(self._update_ok)
            layout.addWidget(check)
            self.field_boxes[field] = check
        layout.addWidget(plain_label(self.tr("Reason (required):"), self))
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("reveal_reason_edit")
        self.reason_edit.setMaxLength(MAX_REVEAL_REASON)
        self.reason_edit.setPlaceholderText(
            self.tr("e.g. call the caller back to confirm the place")
        )
        layout.addWidget(self.reason_edit)
        box, self.ok_button = _buttons(self, self.tr("Reveal"), self.tr("Cancel"))
        layout.addWidget(box)
        self.reason_edit.textChanged.connect(self._update_ok)
        self._update_ok()

    @property
    def reason(self) -> str:
        """The reason as typed, trimmed."""
        return self.reason_edit.text().strip()

    @property
    def fields(self) -> list[ContactField]:
        """The fields ticked."""
        return [field for field, box in self.field_boxes.items() if box.isChecked()]

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(bool(self.reason) and bool(self.fields))


class MergeDialog(QDialog):
    """Asks which open alarm this one is a duplicate of."""

    def __init__(self, alarm: AlarmView, store: AlarmStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("merge_dialog")
        self._alarm = alarm
        self._store = store
        self.setWindowTitle(self.tr("Merge alarm {alarm_id}").format(alarm_id=alarm.id))
        layout = QFormLayout(self)
        self.target_edit = QLineEdit(self)
        self.target_edit.setObjectName("merge_target_edit")
        self.target_edit.setValidator(QIntValidator(1, 2_000_000_000, self))
        layout.addRow(self.tr("Merge into alarm No.:"), self.target_edit)
        self.target_label = plain_label(parent=self)
        self.target_label.setObjectName("merge_target_label")
        self.target_label.setWordWrap(True)
        layout.addRow(self.target_label)
        self.note_edit = QLineEdit(self)
        layout.addRow(self.tr("Note:"), self.note_edit)
        box, self.ok_button = _buttons(self, self.tr("Merge"), self.tr("Cancel"))
        layout.addRow(box)
        self.target_edit.textChanged.connect(self._check_target)
        self._check_target()

    @property
    def target_id(self) -> int | None:
        """The alarm to merge into, when the input names a valid one."""
        text = self.target_edit.text().strip()
        return int(text) if text.isdigit() else None

    @property
    def note(self) -> str:
        """The optional note, trimmed."""
        return self.note_edit.text().strip()

    def _check_target(self) -> None:
        target_id = self.target_id
        target = self._store.get(target_id) if target_id is not None else None
        problem = ""
        if target_id is None:
            problem = self.tr("Enter the number of the alarm this one duplicates.")
        elif target_id == self._alarm.id:
            problem = self.tr("An alarm cannot be merged into itself.")
        elif target is None:
            problem = self.tr("No alarm No. {alarm_id} is known.").format(alarm_id=target_id)
        elif not is_open(target.state):
            problem = self.tr("Alarm No. {alarm_id} is already finished.").format(
                alarm_id=target_id
            )
        if target is not None and not problem:
            self.target_label.setText(f"{texts.level_label(target.level)} · {target.title}")
            self.target_label.setStyleSheet("")
        else:
            self.target_label.setText(problem)
            self.target_label.setStyleSheet("color: #c62828;")
        self.ok_button.setEnabled(not problem)


class DispatchDialog(QDialog):
    """Lists the dispatchable units with checkboxes, plus a note."""

    def __init__(
        self,
        alarm: AlarmView,
        units: list[UnitView],
        parent: QWidget | None = None,
        *,
        username: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dispatch_dialog")
        self.alarm_id = alarm.id
        self.expected_version = alarm.version
        self._username = username
        self.setWindowTitle(self.tr("Dispatch units to alarm {alarm_id}").format(alarm_id=alarm.id))
        self.resize(420, 420)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(alarm.title, self))
        already = {dispatch.unit_id for dispatch in alarm.dispatches}
        self._already = already
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("dispatch_status_label")
        layout.addWidget(self.status_label)
        self.unit_list = QListWidget(self)
        self.unit_list.setObjectName("unit_list")
        layout.addWidget(self.unit_list)
        form = QFormLayout()
        self.note_edit = QLineEdit(self)
        self.note_edit.setObjectName("dispatch_note_edit")
        form.addRow(self.tr("Note:"), self.note_edit)
        layout.addLayout(form)
        box, self.ok_button = _buttons(self, self.tr("Dispatch"), self.tr("Cancel"))
        layout.addWidget(box)
        self.unit_list.itemChanged.connect(self._update_ok)
        self._units: list[UnitView] = []
        self._ranked: dict[str, RankedResource] = {}
        """Unit code → its place in the ranking (recommend), once it arrives."""
        self._preselect = False
        self.recommend_label = plain_label(parent=self)
        self.recommend_label.setObjectName("dispatch_recommend_label")
        self.recommend_label.setWordWrap(True)
        layout.insertWidget(2, self.recommend_label)
        self.set_units(units)

    def follow_own_change(self, change: StoreChange) -> None:
        """Take the alarm's new version when the change is this officer's own (F2 then F3
        at once: the acknowledgement comes back while the dialog is open). A change by
        anyone else keeps the old version, so the server refuses a dispatch decided on
        what is no longer so."""
        alarm = change.alarm
        if (
            alarm is not None
            and alarm.id == self.alarm_id
            and alarm.version > self.expected_version
            and self._username
            and alarm.updated_by == self._username
        ):
            self.expected_version = alarm.version

    def set_recommendation(self, recommendation: Recommendation) -> None:
        """Order the units by the ranking (ETA, distance, why) and, when none is ticked
        yet, tick the best :data:`PRESELECT_UNITS` available ones not yet dispatched."""
        ranked = [item for item in recommendation.items if item.kind == "unit"]
        self._ranked = {item.code: item for item in ranked}
        self.recommend_label.setText(self.tr("Ordered by the recommendation, best first."))
        # Ticked once units are listed (the ranking may come first), unless ticked already.
        self._preselect = not self.selected_unit_ids
        self.set_units(self._units)

    def _best_unit_ids(self) -> set[int]:
        ids = {unit.code: unit.id for unit in self._units}
        fresh = [
            item
            for item in self._ranked.values()
            if item.code in ids and ids[item.code] not in self._already
        ]
        return {ids[item.code] for item in best(fresh, PRESELECT_UNITS)}

    def set_recommendation_error(self, message: str) -> None:
        """Say why there is no ranking (units can be dispatched all the same)."""
        self.recommend_label.setText(self.tr("No ranking: {}").format(message))

    def set_units(self, units: list[UnitView], tick: set[int] | None = None) -> None:
        """Show ``units`` (keeping the ticks of units shown before, or ticking ``tick``),
        in ranking order once a ranking arrived."""
        ticked = set(self.selected_unit_ids) if tick is None else tick
        self._units = list(units)
        if self._preselect and units:
            self._preselect = False
            ticked = self._best_unit_ids()
        order = {code: index for index, code in enumerate(self._ranked)}
        units = sorted(units, key=lambda unit: order.get(unit.code, len(order)))
        self.unit_list.blockSignals(True)
        self.unit_list.clear()
        for unit in units:
            text = f"{unit.name} ({unit.agency})"
            ranked = self._ranked.get(unit.code)
            if ranked is not None:
                text = f"{text} · {summary(ranked)}"
            if unit.id in self._already:
                text += self.tr(" – already dispatched")
            item = QListWidgetItem(text, self.unit_list)
            item.setData(Qt.ItemDataRole.UserRole, unit.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if unit.id in ticked else Qt.CheckState.Unchecked
            )
        self.unit_list.blockSignals(False)
        self.status_label.setText(
            self.tr("Loading units…") if not units else self.tr("Tick the units to send:")
        )
        self._update_ok()

    @property
    def selected_unit_ids(self) -> list[int]:
        """Ids of the ticked units, in list order."""
        ids: list[int] = []
        for row in range(self.unit_list.count()):
            item = self.unit_list.item(row)
            if item.checkState() is Qt.CheckState.Checked:
                ids.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return ids

    @property
    def note(self) -> str:
        """The optional note, trimmed."""
        return self.note_edit.text().strip()

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(bool(self.selected_unit_ids))
