"""The 演练 (exercises) panel: the library, the runs and the trainer's controls.

Trainers, supervisors and administrators see the library (start a run), and steer the runs
(pause, resume, seek, speed, inject, stop); every console role sees the runs it takes part
in, joins them and reads their scores. The panel only shows and asks: commands go through
the :class:`~desktop.exercises.desk.ExerciseDesk`, the runs live in its
:class:`~desktop.exercises.state.ExerciseRuns`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.exercises.desk import ExerciseDesk
from desktop.exercises.dialogs import InjectDialog, StartExerciseDialog
from desktop.exercises.state import (
    CLOSED_STATES,
    KnownTargets,
    clock_text,
    duration_text,
    is_ended,
    may_steer,
    progress_permille,
    speed_text,
)
from desktop.service import ConsoleService
from realtime.protocol import RecordingInfo, Welcome
from realtime.protocol.exercises import MAX_SPEED, ExerciseRunView, ExerciseState, RecordingSource

TICK_MS = 1000
"""The exercise clocks and progress bars are redrawn this often."""
RUN_COLUMNS = 8
PROGRESS_COLUMN = 4
PROGRESS_MIN_WIDTH = 160
"""Pixels the progress bar gets at least (its text is position / duration)."""


def state_label(state: ExerciseState) -> str:
    """What a run's state is called on screen."""
    labels = {
        ExerciseState.PREPARING: QCoreApplication.translate("Exercises", "Preparing"),
        ExerciseState.RUNNING: QCoreApplication.translate("Exercises", "Running"),
        ExerciseState.PAUSED: QCoreApplication.translate("Exercises", "Paused"),
        ExerciseState.FINISHED: QCoreApplication.translate("Exercises", "Replay finished"),
        ExerciseState.STOPPED: QCoreApplication.translate("Exercises", "Ended"),
    }
    return labels[state]


def source_label(source: RecordingSource) -> str:
    """Where a recording came from, on screen."""
    labels = {
        RecordingSource.INCIDENT: QCoreApplication.translate("Exercises", "Real incident"),
        RecordingSource.WINDOW: QCoreApplication.translate("Exercises", "Recorded window"),
        RecordingSource.SCENARIO: QCoreApplication.translate("Exercises", "Scenario"),
    }
    return labels[source]


def _item(text: str, data: object = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


class ExercisePanel(QWidget):
    """The 演练 dock's content."""

    join_requested = Signal(object)
    """The user wants to take part in a run (an :class:`ExerciseRunView`)."""

    def __init__(
        self,
        desk: ExerciseDesk,
        service: ConsoleService,
        *,
        known_users: Callable[[], Sequence[str]],
        known_targets: Callable[[str], KnownTargets],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exercise_panel")
        self.desk = desk
        self._service = service
        self._known_users = known_users
        self._known_targets = known_targets
        self.start_dialog: StartExerciseDialog | None = None
        self.inject_dialog: InjectDialog | None = None
        self.stop_box: QMessageBox | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        self._build_library(layout)
        self._build_runs(layout)
        self._build_controls(layout)

        desk.recordings_changed.connect(self.show_recordings)
        desk.runs.add_listener(self._on_runs_changed)
        service.welcomed.connect(self.on_welcome)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.on_welcome()

    def _build_library(self, layout: QVBoxLayout) -> None:
        self.library_box = QGroupBox(self.tr("Recordings"), self)
        library_layout = QVBoxLayout(self.library_box)
        self.library_table = QTableWidget(0, 5, self.library_box)
        self.library_table.setObjectName("recordings_table")
        self.library_table.setHorizontalHeaderLabels(
            [
                self.tr("Title"),
                self.tr("Source"),
                self.tr("Duration"),
                self.tr("Devices"),
                self.tr("Inputs"),
            ]
        )
        self._table_defaults(self.library_table)
        library_layout.addWidget(self.library_table)
        library_buttons = QHBoxLayout()
        self.start_button = QPushButton(self.tr("Start exercise…"), self.library_box)
        self.start_button.clicked.connect(self.open_start_dialog)
        self.refresh_button = QPushButton(self.tr("Refresh"), self.library_box)
        self.refresh_button.clicked.connect(self.desk.refresh)
        library_buttons.addWidget(self.start_button)
        library_buttons.addStretch(1)
        library_buttons.addWidget(self.refresh_button)
        library_layout.addLayout(library_buttons)
        layout.addWidget(self.library_box, 2)

    def _build_runs(self, layout: QVBoxLayout) -> None:
        runs_box = QGroupBox(self.tr("Runs"), self)
        runs_layout = QVBoxLayout(runs_box)
        self.runs_table = QTableWidget(0, RUN_COLUMNS, runs_box)
        self.runs_table.setObjectName("runs_table")
        self.runs_table.setHorizontalHeaderLabels(
            [
                self.tr("Title"),
                self.tr("State"),
                self.tr("Speed"),
                self.tr("Exercise time"),
                self.tr("Progress"),
                self.tr("Alarms"),
                self.tr("Injected"),
                self.tr("Participants"),
            ]
        )
        self._table_defaults(self.runs_table)
        self.runs_table.itemSelectionChanged.connect(self._update_buttons)
        self.runs_table.itemDoubleClicked.connect(lambda _item: self.join_selected())
        runs_layout.addWidget(self.runs_table)
        layout.addWidget(runs_box, 3)

    def _build_controls(self, layout: QVBoxLayout) -> None:
        controls = QHBoxLayout()
        self.join_button = QPushButton(self.tr("Join"), self)
        self.join_button.setToolTip(self.tr("Open the exercise console of the run"))
        self.join_button.clicked.connect(self.join_selected)
        self.pause_button = QPushButton(self.tr("Pause"), self)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.seek_spin = QSpinBox(self)
        self.seek_spin.setSuffix(self.tr(" s"))
        self.seek_spin.setToolTip(self.tr("Recorded seconds to jump to (forward only)"))
        self.seek_button = QPushButton(self.tr("Jump"), self)
        self.seek_button.clicked.connect(self.seek_selected)
        self.speed_spin = QDoubleSpinBox(self)
        self.speed_spin.setRange(1.0, MAX_SPEED)
        self.speed_spin.setDecimals(1)
        self.speed_spin.setSuffix("×")
        self.speed_button = QPushButton(self.tr("Set speed"), self)
        self.speed_button.clicked.connect(self.apply_speed)
        self.inject_button = QPushButton(self.tr("Inject…"), self)
        self.inject_button.clicked.connect(self.open_inject_dialog)
        self.stop_button = QPushButton(self.tr("End…"), self)
        self.stop_button.clicked.connect(self.confirm_stop)
        self.score_button = QPushButton(self.tr("Score…"), self)
        self.score_button.clicked.connect(self.ask_score)
        self.steering = (
            self.pause_button, self.seek_spin, self.seek_button, self.speed_spin,
            self.speed_button, self.inject_button, self.stop_button,
        )  # fmt: skip
        for widget in (self.join_button, *self.steering, self.score_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout.addLayout(controls)

    @staticmethod
    def _table_defaults(table: QTableWidget) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)

    def shutdown(self) -> None:
        """Stop redrawing (the window is closing)."""
        self._timer.stop()
        self.desk.runs.remove_listener(self._on_runs_changed)

    # ------------------------------------------------------------------ role

    @property
    def steers(self) -> bool:
        """Whether this user is offered the trainer's controls."""
        return may_steer(self._service.user)

    def on_welcome(self, _welcome: Welcome | None = None) -> None:
        """Show the trainer's parts to those who may use them."""
        self.library_box.setVisible(self.steers)
        for widget in self.steering:
            widget.setVisible(self.steers)
        self._update_buttons()

    # ------------------------------------------------------------------ library

    def show_recordings(self, recordings: list[RecordingInfo]) -> None:
        """Fill the library table."""
        self.library_table.setRowCount(len(recordings))
        for row, recording in enumerate(recordings):
            title = _item(recording.title, recording.name)
            title.setToolTip(
                "\n".join([recording.name, recording.description, *recording.sources]).strip()
            )
            self.library_table.setItem(row, 0, title)
            self.library_table.setItem(row, 1, _item(source_label(recording.source)))
            self.library_table.setItem(row, 2, _item(duration_text(recording.duration_s)))
            self.library_table.setItem(row, 3, _item(str(recording.devices)))
            self.library_table.setItem(row, 4, _item(str(recording.inputs)))
        self.library_table.resizeColumnsToContents()
        if recordings and not self.library_table.selectedItems():
            self.library_table.selectRow(0)

    def selected_recording(self) -> RecordingInfo | None:
        """The recording chosen in the library."""
        row = self.library_table.currentRow()
        item = self.library_table.item(row, 0) if row >= 0 else None
        name = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((rec for rec in self.desk.recordings if rec.name == name), None)

    def select_recording(self, name: str) -> bool:
        """Choose the recording ``name`` in the library."""
        for row in range(self.library_table.rowCount()):
            item = self.library_table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == name:
                self.library_table.selectRow(row)
                return True
        return False

    def open_start_dialog(self) -> StartExerciseDialog | None:
        """Open the start form for the chosen recording; starting happens on accept."""
        recording = self.selected_recording()
        if recording is None:
            return None
        dialog = StartExerciseDialog(recording, self._known_users(), self)
        dialog.accepted.connect(lambda: self._start_from(dialog))
        self.start_dialog = dialog
        dialog.open()
        return dialog

    def _start_from(self, dialog: StartExerciseDialog) -> None:
        self.desk.start(
            dialog.recording.name,
            speed=dialog.speed(),
            participants=dialog.participants(),
            title=dialog.title(),
        )

    # ------------------------------------------------------------------ runs

    def selected_run(self) -> ExerciseRunView | None:
        """The run chosen in the runs table."""
        row = self.runs_table.currentRow()
        item = self.runs_table.item(row, 0) if row >= 0 else None
        run_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return self.desk.runs.get(run_id) if isinstance(run_id, str) else None

    def select_run(self, run_id: str) -> bool:
        """Choose the run ``run_id`` in the table."""
        for row in range(self.runs_table.rowCount()):
            item = self.runs_table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == run_id:
                self.runs_table.selectRow(row)
                return True
        return False

    def _on_runs_changed(self, run_id: str | None) -> None:
        chosen = self.selected_run()
        runs = self.desk.runs.runs()
        self.runs_table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            title = _item(run.title, run.run_id)
            title.setToolTip(f"{run.run_id} · {run.recording} · {run.trainer}")
            self.runs_table.setItem(row, 0, title)
            self.runs_table.setItem(row, 1, _item(state_label(run.state)))
            self.runs_table.setItem(row, 2, _item(speed_text(run.speed)))
            self.runs_table.setItem(row, 3, _item(""))
            if not isinstance(self.runs_table.cellWidget(row, PROGRESS_COLUMN), QProgressBar):
                bar = QProgressBar(self.runs_table)
                bar.setRange(0, 1000)
                self.runs_table.setCellWidget(row, PROGRESS_COLUMN, bar)
            self.runs_table.setItem(row, 5, _item(str(run.alarms)))
            self.runs_table.setItem(row, 6, _item(str(run.injected)))
            self.runs_table.setItem(row, 7, _item(", ".join(run.participants)))
        self.tick()
        if run_id is None or len(runs) == 1:  # a new list or the first run: fit them
            self.runs_table.resizeColumnsToContents()
            width = max(self.runs_table.columnWidth(PROGRESS_COLUMN), PROGRESS_MIN_WIDTH)
            self.runs_table.setColumnWidth(PROGRESS_COLUMN, width)
        if chosen is not None:
            self.select_run(chosen.run_id)
        elif runs and self.runs_table.currentRow() < 0:
            self.runs_table.selectRow(0)
        self._update_buttons()

    def tick(self) -> None:
        """Carry the exercise clocks and the progress bars forward."""
        now = self.desk.runs.now()
        for row in range(self.runs_table.rowCount()):
            item = self.runs_table.item(row, 0)
            held = self.desk.runs.held(str(item.data(Qt.ItemDataRole.UserRole))) if item else None
            if held is None:
                continue
            clock = self.runs_table.item(row, 3)
            if clock is not None:
                clock.setText(clock_text(held.exercise_time(now)))
            bar = self.runs_table.cellWidget(row, PROGRESS_COLUMN)
            if isinstance(bar, QProgressBar):
                position = held.position_s(now)
                bar.setValue(progress_permille(held.view, position))
                bar.setFormat(f"{duration_text(position)} / {duration_text(held.view.duration_s)}")

    def _update_buttons(self) -> None:
        run = self.selected_run()
        live = run is not None and not is_ended(run)
        self.join_button.setEnabled(run is not None and run.state is not ExerciseState.STOPPED)
        self.score_button.setEnabled(run is not None)
        for widget in self.steering:
            widget.setEnabled(live)
        # A replay that finished stays open for the participants until the trainer ends it.
        self.stop_button.setEnabled(run is not None and run.state not in CLOSED_STATES)
        if run is not None:
            paused = run.state is ExerciseState.PAUSED
            self.pause_button.setText(self.tr("Resume") if paused else self.tr("Pause"))
            self.seek_spin.setRange(0, max(0, int(run.duration_s)))
            self.speed_spin.setValue(run.speed)
        self.start_button.setEnabled(self.library_table.rowCount() > 0)

    # ------------------------------------------------------------------ controls

    def join_selected(self) -> None:
        """Take part in the chosen run (its drill console opens)."""
        run = self.selected_run()
        if run is not None and run.state is not ExerciseState.STOPPED:
            self.join_requested.emit(run)

    def toggle_pause(self) -> None:
        """Pause the chosen run, or resume it when paused."""
        run = self.selected_run()
        if run is None:
            return
        if run.state is ExerciseState.PAUSED:
            self.desk.resume(run.run_id)
        else:
            self.desk.pause(run.run_id)

    def seek_selected(self) -> None:
        """Jump the chosen run to the position in the box."""
        run = self.selected_run()
        if run is not None:
            self.desk.seek(run.run_id, float(self.seek_spin.value()))

    def apply_speed(self) -> None:
        """Replay the chosen run at the speed in the box."""
        run = self.selected_run()
        if run is not None:
            self.desk.set_speed(run.run_id, float(self.speed_spin.value()))

    def open_inject_dialog(self) -> InjectDialog | None:
        """Open the inject form for the chosen run."""
        run = self.selected_run()
        if run is None:
            return None
        run_id = run.run_id
        dialog = InjectDialog(run.title, lambda: self._known_targets(run_id), self)
        dialog.accepted.connect(
            lambda: self.desk.inject(run_id, dialog.kind(), dialog.target(), dialog.note())
        )
        self.inject_dialog = dialog
        dialog.open()
        return dialog

    def confirm_stop(self) -> QMessageBox | None:
        """Ask before ending the chosen run; it ends on Yes."""
        run = self.selected_run()
        if run is None:
            return None
        run_id = run.run_id
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("End the exercise"),
            self.tr(
                "End “{title}” now? The participants' exercise consoles close; its data and "
                "score are kept."
            ).format(title=run.title),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.buttonClicked.connect(lambda button: self.desk.stop(run_id) if button is yes else None)
        self.stop_box = box
        box.open()
        return box

    def ask_score(self) -> None:
        """Ask for the chosen run's score (it opens when it arrives)."""
        run = self.selected_run()
        if run is not None:
            self.desk.ask_score(run.run_id)
