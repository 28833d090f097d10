"""The decision-support pane of the incident workspace (辅助决策).

For the incident shown, it asks the server (``decision.support``) and shows the chemicals'
cards (hazards, first aid, firefighting, spill response, distances and their source), the
rings' radii, and what lies inside them nearest first (kind, name, distance, zone,
people). The officer says what is known — spill size, day or night, fire, the chemicals
if the hazard source's are not the ones — and each change asks again. "Show on map"
draws the rings around the incident and centres the map on them
(:mod:`desktop.map.decision_rings`).

Names the server's table does not hold are shown in red, never dropped. Text from the
registry and the table is shown as plain text.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.map.decision_rings import distance_text, ring_label, ring_name
from desktop.plain_text import plain_label
from realtime.protocol import (
    ChemicalView,
    Command,
    DecisionSupport,
    ExposedView,
    IncidentView,
    ResultData,
    SupportRequest,
)

logger = logging.getLogger(__name__)

EXPOSED_COLUMNS = 5
MAX_CHEMICALS = 20
"""As many names as the request carries."""
NIGHT_CHOICES = (None, False, True)
"""The time selector's entries: the server's clock, day, night."""


class Asker(Protocol):
    """What the pane needs to ask the server (:class:`desktop.service.ConsoleService`)."""

    def query(
        self,
        command: Command,
        on_result: Callable[[ResultData], None],
        on_error: Callable[[str, str], None],
    ) -> object:
        """Send ``command``; one of the callbacks gets the answer."""


def split_names(text: str) -> list[str]:
    """The chemical names typed, split on commas (Chinese or ASCII), semicolons or
    whitespace-free separators, each trimmed, empty ones left out."""
    for separator in "，;；、":
        text = text.replace(separator, ",")
    names = [name.strip() for name in text.split(",")]
    return [name for name in names if name][:MAX_CHEMICALS]


class DecisionPane(QWidget):
    """Asks ``decision.support`` for the incident shown and shows the answer."""

    answered = Signal(object)
    """A :class:`DecisionSupport` arrived (the map's rings follow it)."""
    map_requested = Signal(object)
    """The officer asked to see this :class:`DecisionSupport` on the map."""

    def __init__(
        self,
        asker: Asker,
        incident: Callable[[], IncidentView | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("decision_pane")
        self._asker = asker
        self._incident = incident
        self._asked = itertools.count(1)
        self._latest = 0
        self.answer: DecisionSupport | None = None
        """The answer shown (None before the first or after a refusal)."""
        self.asked_for: int | None = None
        """The incident the last question was about."""

        layout = QVBoxLayout(self)
        self._build_selectors(layout)
        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("decision_status_label")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.summary_label = plain_label(parent=self)
        self.summary_label.setObjectName("decision_summary_label")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        self.unknown_label = plain_label(parent=self)
        self.unknown_label.setObjectName("decision_unknown_label")
        self.unknown_label.setStyleSheet("color: #c62828;")
        self.unknown_label.setWordWrap(True)
        layout.addWidget(self.unknown_label)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.cards = QPlainTextEdit(splitter)
        self.cards.setObjectName("decision_cards")
        self.cards.setReadOnly(True)
        self.exposed_table = QTableWidget(0, EXPOSED_COLUMNS, splitter)
        self.exposed_table.setObjectName("decision_exposed_table")
        self.exposed_table.setHorizontalHeaderLabels(
            [
                self.tr("Kind"),
                self.tr("Name"),
                self.tr("Distance"),
                self.tr("Zone"),
                self.tr("People"),
            ]
        )
        header = self.exposed_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.exposed_table.verticalHeader().hide()
        self.exposed_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.exposed_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def _build_selectors(self, layout: QVBoxLayout) -> None:
        self.chemicals_edit = QLineEdit(self)
        self.chemicals_edit.setObjectName("decision_chemicals_edit")
        self.chemicals_edit.setPlaceholderText(
            self.tr("Chemicals: UN numbers or names, comma-separated (empty: the hazard source's)")
        )
        self.chemicals_edit.returnPressed.connect(self.ask)
        layout.addWidget(self.chemicals_edit)
        row = QHBoxLayout()
        layout.addLayout(row)
        self.spill_combo = QComboBox(self)
        self.spill_combo.setObjectName("decision_spill_combo")
        self.spill_combo.addItems([self.tr("Small spill"), self.tr("Large spill")])
        self.time_combo = QComboBox(self)
        self.time_combo.setObjectName("decision_time_combo")
        self.time_combo.addItems(
            [self.tr("Day/night by the clock"), self.tr("Day"), self.tr("Night")]
        )
        self.fire_check = QCheckBox(self.tr("Fire"), self)
        self.fire_check.setObjectName("decision_fire_check")
        self.ask_button = QPushButton(self.tr("Ask"), self)
        self.ask_button.setObjectName("decision_ask_button")
        self.map_button = QPushButton(self.tr("Show on map"), self)
        self.map_button.setObjectName("decision_map_button")
        for widget in (self.spill_combo, self.time_combo, self.fire_check):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.ask_button)
        row.addWidget(self.map_button)
        # Each change of what is known asks again.
        self.spill_combo.currentIndexChanged.connect(lambda _index: self.ask())
        self.time_combo.currentIndexChanged.connect(lambda _index: self.ask())
        self.fire_check.toggled.connect(lambda _checked: self.ask())
        self.ask_button.clicked.connect(self.ask)
        self.map_button.clicked.connect(self.show_on_map)

    # ------------------------------------------------------------------ asking

    def request(self) -> SupportRequest | None:
        """The question for the incident shown, as the selectors say (None: no incident)."""
        incident = self._incident()
        if incident is None:
            return None
        return SupportRequest(
            req="",
            incident_id=incident.id,
            chemicals=split_names(self.chemicals_edit.text()),
            large_spill=self.spill_combo.currentIndex() == 1,
            night=NIGHT_CHOICES[self.time_combo.currentIndex()],
            fire=self.fire_check.isChecked(),
        )

    def ask(self) -> None:
        """Ask the server for the incident shown (an older answer still on its way is
        ignored when it arrives)."""
        command = self.request()
        if command is None:
            self._show_nothing(self.tr("No incident selected"))
            return
        asked = next(self._asked)
        self._latest = asked
        self.asked_for = command.incident_id
        self.status_label.setText(self.tr("Asking…"))
        self._asker.query(
            command,
            lambda result: self._on_result(asked, result),
            lambda code, message: self._on_error(asked, code, message),
        )

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Ask when shown for another incident than the one answered."""
        super().showEvent(event)
        self.follow()

    def follow(self) -> None:
        """The workspace shows another incident: ask again if the pane is in view, else
        forget the old answer (it is asked for when the pane is opened)."""
        incident = self._incident()
        if incident is None or incident.id == self.asked_for:
            return
        if self.isVisible():
            self.ask()
        else:
            self.asked_for = None
            self._latest = next(self._asked)  # an answer on its way is for the old one
            self._show_nothing("")

    def _on_result(self, asked: int, result: ResultData) -> None:
        if asked != self._latest:
            return
        if not isinstance(result, DecisionSupport):
            logger.warning("decision.support answered with %s", type(result).__name__)
            self._show_nothing(self.tr("Unexpected answer from the server"))
            return
        self.show_answer(result)

    def _on_error(self, asked: int, code: str, message: str) -> None:
        if asked != self._latest:
            return
        self._show_nothing(
            self.tr("Refused: {message} ({code})").format(message=message, code=code)
        )

    # ------------------------------------------------------------------ showing

    def _show_nothing(self, status: str) -> None:
        self.answer = None
        self.status_label.setText(status)
        self.summary_label.clear()
        self.unknown_label.clear()
        self.cards.clear()
        self.exposed_table.setRowCount(0)
        self._update_buttons()

    def show_answer(self, answer: DecisionSupport) -> None:
        """Show an answer: the summary, the cards and what lies in the rings."""
        self.answer = answer
        self.status_label.setText(
            self.tr("Night-time distances") if answer.night else self.tr("Daytime distances")
        )
        rings = "；".join(ring_label(ring) for ring in answer.rings)
        summary = self.tr("{rings}. {count} inside, {people} people in protection targets.").format(
            rings=rings, count=len(answer.exposed), people=answer.population
        )
        if answer.hazard_source:
            summary = self.tr("Hazard source {code}. ").format(code=answer.hazard_source) + summary
        if not answer.chemicals:
            summary += " " + self.tr(
                "No chemical known: the rings are those for an unidentified cargo."
            )
        self.summary_label.setText(summary)
        self.unknown_label.setText(
            self.tr("Not in the chemical table: {names}").format(
                names="、".join(answer.unknown_chemicals)
            )
            if answer.unknown_chemicals
            else ""
        )
        self.cards.setPlainText("\n\n".join(self.card_text(c) for c in answer.chemicals))
        self._fill_exposed(answer.exposed)
        self._update_buttons()
        self.answered.emit(answer)

    def card_text(self, chemical: ChemicalView) -> str:
        """One chemical's card as plain text."""
        title = f"UN{chemical.un_number} {chemical.name}"
        if chemical.name_en:
            title += f"（{chemical.name_en}）"
        if chemical.hazard_class:
            title += " " + self.tr("class {klass}").format(klass=chemical.hazard_class)
        lines = [
            title,
            self.tr("Hazards: {text}").format(text=chemical.hazards),
            self.tr("First aid: {text}").format(text=chemical.first_aid),
            self.tr("Firefighting: {text}").format(text=chemical.firefighting),
            self.tr("Spill: {text}").format(text=chemical.spill),
            self.tr("Isolate {isolation}; protect downwind {day} by day, {night} by night").format(
                isolation=distance_text(chemical.isolation_m),
                day=distance_text(chemical.protect_day_m),
                night=distance_text(chemical.protect_night_m),
            ),
            self.tr("Source: {text}").format(text=chemical.source),
        ]
        return "\n".join(lines)

    def _fill_exposed(self, exposed: list[ExposedView]) -> None:
        self.exposed_table.setRowCount(len(exposed))
        for row, entry in enumerate(exposed):
            cells = (
                self.kind_text(entry),
                entry.name,
                distance_text(entry.distance_m),
                ring_name(entry.ring),
                "" if entry.population is None else str(entry.population),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.code)
                self.exposed_table.setItem(row, column, item)

    def kind_text(self, entry: ExposedView) -> str:
        """What an exposed entry is, in words (a target by its category)."""
        if entry.kind == "target":
            categories = {
                "school": self.tr("School"),
                "kindergarten": self.tr("Kindergarten"),
                "hospital": self.tr("Hospital"),
                "nursing_home": self.tr("Nursing home"),
                "residential": self.tr("Residents' area"),
                "market": self.tr("Market"),
                "government": self.tr("Government office"),
                "water_source": self.tr("Drinking water source"),
            }
            return categories.get(entry.category, self.tr("Protection target"))
        kinds = {
            "enterprise": self.tr("Enterprise"),
            "hazard_source": self.tr("Major hazard source"),
            "shelter": self.tr("Shelter"),
            "camera": self.tr("Camera"),
            "sensor": self.tr("Sensor"),
        }
        return kinds.get(entry.kind, entry.kind)

    def row_texts(self) -> list[list[str]]:
        """The exposed table as text, row by row (tests read it)."""
        rows = []
        for row in range(self.exposed_table.rowCount()):
            cells = [self.exposed_table.item(row, column) for column in range(EXPOSED_COLUMNS)]
            rows.append([cell.text() if cell is not None else "" for cell in cells])
        return rows

    def _update_buttons(self) -> None:
        self.map_button.setEnabled(self.answer is not None)

    def show_on_map(self) -> None:
        """Ask the window to draw the rings and centre the map on them."""
        if self.answer is not None:
            self.map_requested.emit(self.answer)
