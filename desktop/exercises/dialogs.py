"""The trainer's forms: start a run of a recording, inject an event into a run.

Both are non-modal (``open()``): the console keeps running while the trainer fills them in;
the panel reads their values when they are accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.exercises.state import KnownTargets, duration_text
from desktop.plain_text import plain_label
from realtime.protocol import RecordingInfo
from realtime.protocol.exercises import MAX_PARTICIPANTS, MAX_SPEED, InjectKind


def inject_kind_label(kind: InjectKind) -> str:
    """What an injected event is called on screen."""
    labels = {
        InjectKind.SENSOR_FAILS: QCoreApplication.translate("Exercises", "A sensor fails"),
        InjectKind.TRUCK_SOS: QCoreApplication.translate("Exercises", "A truck presses SOS"),
        InjectKind.CAMERA_DROPS: QCoreApplication.translate("Exercises", "A camera goes offline"),
        InjectKind.TASK_DECLINED: QCoreApplication.translate("Exercises", "A task is declined"),
    }
    return labels[kind]


class StartExerciseDialog(QDialog):
    """Start a run of ``recording``: its speed, who takes part, its title."""

    def __init__(
        self, recording: RecordingInfo, users: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("start_exercise_dialog")
        self.setWindowTitle(self.tr("Start an exercise"))
        self.recording = recording
        layout = QVBoxLayout(self)
        about = plain_label(
            self.tr("{title} · {duration} · {devices} devices · {inputs} inputs").format(
                title=recording.title,
                duration=duration_text(recording.duration_s),
                devices=recording.devices,
                inputs=recording.inputs,
            ),
            parent=self,
        )
        about.setWordWrap(True)
        layout.addWidget(about)
        form = QFormLayout()
        self.title_edit = QLineEdit(recording.title, self)
        self.title_edit.setMaxLength(200)
        form.addRow(self.tr("Title (in every participant's banner)"), self.title_edit)
        self.speed_spin = QDoubleSpinBox(self)
        self.speed_spin.setRange(1.0, MAX_SPEED)
        self.speed_spin.setDecimals(1)
        self.speed_spin.setSuffix("×")
        self.speed_spin.setValue(1.0)
        form.addRow(self.tr("Speed"), self.speed_spin)
        self.user_list = QListWidget(self)
        self.user_list.setObjectName("participant_list")
        for user in sorted(set(users)):
            item = QListWidgetItem(user, self.user_list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        form.addRow(self.tr("Participants"), self.user_list)
        self.more_edit = QLineEdit(self)
        self.more_edit.setPlaceholderText(self.tr("more user names, separated by commas"))
        form.addRow("", self.more_edit)
        layout.addLayout(form)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Start"))
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def participants(self) -> list[str]:
        """The users ticked and typed, each once, in that order."""
        chosen: list[str] = []
        for row in range(self.user_list.count()):
            item = self.user_list.item(row)
            if item.checkState() is Qt.CheckState.Checked:
                chosen.append(item.text())
        typed = self.more_edit.text().replace("，", ",").split(",")
        chosen.extend(name.strip() for name in typed if name.strip())
        return list(dict.fromkeys(chosen))

    def set_participants(self, names: Sequence[str]) -> None:
        """Tick ``names`` among the known users and type the others."""
        wanted = set(names)
        known: set[str] = set()
        for row in range(self.user_list.count()):
            item = self.user_list.item(row)
            known.add(item.text())
            checked = item.text() in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.more_edit.setText(", ".join(name for name in names if name not in known))

    def speed(self) -> float:
        """The chosen speed."""
        return float(self.speed_spin.value())

    def title(self) -> str:
        """The title typed ("" keeps the recording's)."""
        return self.title_edit.text().strip()

    def _check_and_accept(self) -> None:
        if len(self.participants()) > MAX_PARTICIPANTS:
            self.error_label.setText(
                self.tr("At most {count} participants.").format(count=MAX_PARTICIPANTS)
            )
            self.error_label.show()
            return
        self.accept()


class InjectDialog(QDialog):
    """Inject an event into a run: what happens, to which target, and a note."""

    def __init__(
        self,
        run_title: str,
        targets: Callable[[], KnownTargets],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inject_dialog")
        self.setWindowTitle(self.tr("Inject an event – {title}").format(title=run_title))
        self._targets = targets
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.kind_combo = QComboBox(self)
        for kind in InjectKind:
            self.kind_combo.addItem(inject_kind_label(kind), kind)
        form.addRow(self.tr("Event"), self.kind_combo)
        self.target_combo = QComboBox(self)
        self.target_combo.setEditable(True)
        self.target_combo.setObjectName("inject_target")
        form.addRow(self.tr("Target"), self.target_combo)
        self.note_edit = QLineEdit(self)
        self.note_edit.setMaxLength(200)
        form.addRow(self.tr("Note"), self.note_edit)
        layout.addLayout(form)
        self.hint_label = plain_label(parent=self)
        self.hint_label.setWordWrap(True)
        layout.addWidget(self.hint_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Inject"))
        self.buttons.accepted.connect(self._check_and_accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.kind_combo.currentIndexChanged.connect(self._fill_targets)
        self._fill_targets()

    def kind(self) -> InjectKind:
        """The chosen event."""
        return InjectKind(self.kind_combo.currentData())

    def set_kind(self, kind: InjectKind) -> None:
        """Choose ``kind`` (its targets fill the list)."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def target(self) -> str:
        """The target picked (its code, number or id) or typed."""
        index = self.target_combo.currentIndex()
        text = self.target_combo.currentText().strip()
        if index >= 0 and self.target_combo.itemText(index) == text:
            return str(self.target_combo.itemData(index))
        return text

    def note(self) -> str:
        """The note typed."""
        return self.note_edit.text().strip()

    def _fill_targets(self, *_args: object) -> None:
        choices = self._targets().choices(self.kind())
        self.target_combo.clear()
        for choice in choices:
            self.target_combo.addItem(choice.label, choice.value)
        self.hint_label.setText(
            ""
            if choices
            else self.tr("The console knows no such target of this exercise: type its code.")
        )

    def _check_and_accept(self) -> None:
        if not self.target():
            self.hint_label.setText(self.tr("Name the target."))
            return
        self.accept()
