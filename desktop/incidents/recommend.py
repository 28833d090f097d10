"""The ranked resources (资源推荐) in the console: a table of what to send, why, and how
soon it gets there, for the task and dispatch dialogs and the incident workspace's tab.

The server ranks (``recommend``); this module only shows the answer: name, ETA in
minutes, distance, and why (匹配 / 缺 / 出动中 / 无覆盖). Rows are peers' text (names
from the registry): shown as plain text, never markup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import (
    ItemKind,
    RankedResource,
    Recommend,
    Recommendation,
    ResultData,
)

logger = logging.getLogger(__name__)

COLUMNS = 5
"""Kind, name, ETA, distance, why."""
UNAVAILABLE_COLOUR = QColor("#9e9e9e")
WARNING_COLOUR = QColor("#c62828")
NO_COVER = "no_cover:"


def kind_label(kind: str) -> str:
    """The Chinese word for a kind of resource."""
    labels = {
        "team": QCoreApplication.translate("Recommendation", "Team"),
        "unit": QCoreApplication.translate("Recommendation", "Unit"),
        "equipment": QCoreApplication.translate("Recommendation", "Equipment"),
        "expert": QCoreApplication.translate("Recommendation", "Expert"),
        "shelter": QCoreApplication.translate("Recommendation", "Shelter"),
    }
    return labels.get(kind, kind)


def _unavailable_label(kind: str) -> str:
    labels = {
        "team": QCoreApplication.translate("Recommendation", "deployed"),
        "unit": QCoreApplication.translate("Recommendation", "deployed"),
        "equipment": QCoreApplication.translate("Recommendation", "none in stock"),
        "expert": QCoreApplication.translate("Recommendation", "busy"),
        "shelter": QCoreApplication.translate("Recommendation", "full"),
    }
    return labels.get(kind, QCoreApplication.translate("Recommendation", "unavailable"))


def why(resource: RankedResource) -> str:
    """Why it ranks where it does, in the officer's words (匹配: …; 缺: …; 出动中; 无覆盖)."""
    parts: list[str] = []
    if resource.matched:
        parts.append(
            QCoreApplication.translate("Recommendation", "matches: {}").format(
                "、".join(resource.matched)
            )
        )
    if resource.missing:
        parts.append(
            QCoreApplication.translate("Recommendation", "lacks: {}").format(
                "、".join(resource.missing)
            )
        )
    if not resource.available:
        parts.append(_unavailable_label(resource.kind))
    if resource.spare is not None and resource.kind == "shelter":
        parts.append(
            QCoreApplication.translate("Recommendation", "{} places left").format(
                int(resource.spare)
            )
        )
    for warning in resource.warnings:
        if warning.startswith(NO_COVER):
            parts.append(
                QCoreApplication.translate("Recommendation", "no cover warning: {}").format(
                    warning.removeprefix(NO_COVER)
                )
            )
        else:
            parts.append(warning)
    if resource.eta_min is None:
        parts.append(QCoreApplication.translate("Recommendation", "position unknown"))
    elif resource.from_vehicle:
        parts.append(
            QCoreApplication.translate("Recommendation", "from vehicle {}").format(
                resource.from_vehicle
            )
        )
    return "; ".join(parts)


def eta_text(resource: RankedResource) -> str:
    """``12 分钟`` or ``—``."""
    if resource.eta_min is None:
        return "—"
    return QCoreApplication.translate("Recommendation", "{} min").format(f"{resource.eta_min:.0f}")


def distance_text(resource: RankedResource) -> str:
    """``3.4 km`` or ``—``."""
    if resource.distance_km is None:
        return "—"
    return f"{resource.distance_km:.1f} km"


def summary(resource: RankedResource) -> str:
    """ETA, distance and why on one line (for list widgets that show the name already)."""
    text = f"{eta_text(resource)} · {distance_text(resource)}"
    reason = why(resource)
    return f"{text} · {reason}" if reason else text


def best(items: Sequence[RankedResource], count: int) -> list[RankedResource]:
    """The first ``count`` available resources, rank order (what is pre-selected)."""
    return [item for item in items if item.available][:count]


class RecommendationTable(QTableWidget):
    """The ranked resources, one row each, best first; a row's user data is its index."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, COLUMNS, parent)
        self.setObjectName("recommendation_table")
        self.setHorizontalHeaderLabels(
            [
                QCoreApplication.translate("Recommendation", "Kind"),
                QCoreApplication.translate("Recommendation", "Name"),
                QCoreApplication.translate("Recommendation", "ETA"),
                QCoreApplication.translate("Recommendation", "Distance"),
                QCoreApplication.translate("Recommendation", "Why"),
            ]
        )
        header = self.horizontalHeader()
        for column in range(COLUMNS - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS - 1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.resources: list[RankedResource] = []

    def show_resources(self, resources: Sequence[RankedResource]) -> None:
        """Show these resources in the order given."""
        self.resources = list(resources)
        self.setRowCount(len(self.resources))
        for row, resource in enumerate(self.resources):
            cells = (
                kind_label(resource.kind),
                resource.name,
                eta_text(resource),
                distance_text(resource),
                why(resource),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row)
                item.setToolTip(text)
                if not resource.available:
                    item.setForeground(QBrush(UNAVAILABLE_COLOUR))
                elif resource.warnings and column == COLUMNS - 1:
                    item.setForeground(QBrush(WARNING_COLOUR))
                self.setItem(row, column, item)

    def cell_text(self, row: int, column: int) -> str:
        """The text of one cell (tests read it)."""
        item = self.item(row, column)
        return item.text() if item is not None else ""

    def selected_resource(self) -> RankedResource | None:
        """The resource of the selected row."""
        rows = {index.row() for index in self.selectedIndexes()}
        if len(rows) != 1:
            return None
        return self.resources[rows.pop()]


def request_for(
    incident_id: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    kinds: Sequence[ItemKind] = (),
    limit: int = 20,
) -> Recommend:
    """The ``recommend`` command for an incident or a point."""
    return Recommend(
        req="", incident_id=incident_id, lat=lat, lon=lon, kinds=list(kinds), limit=limit
    )


class RecommendPanel(QWidget):
    """The workspace's 资源推荐 tab: the ranking for the incident shown, on request."""

    recommendation_received = Signal(object)
    """A :class:`Recommendation` arrived (the send-task dialog listens)."""

    def __init__(
        self,
        service: ConsoleService,
        incident_id: Callable[[], int | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recommend_panel")
        self._service = service
        self._incident_id = incident_id
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status_label = plain_label(
            QCoreApplication.translate("Recommendation", "Press Rank to rank the resources."), self
        )
        self.status_label.setObjectName("recommend_status_label")
        self.status_label.setWordWrap(True)
        top.addWidget(self.status_label, 1)
        self.rank_button = QPushButton(QCoreApplication.translate("Recommendation", "Rank"), self)
        self.rank_button.setObjectName("recommend_rank_button")
        self.rank_button.clicked.connect(self.refresh)
        top.addWidget(self.rank_button)
        layout.addLayout(top)
        self.table = RecommendationTable(self)
        layout.addWidget(self.table, 1)
        self.recommendation: Recommendation | None = None

    def refresh(self) -> None:
        """Ask the server for the ranking of the incident shown."""
        incident_id = self._incident_id()
        if incident_id is None:
            return
        self.status_label.setText(QCoreApplication.translate("Recommendation", "Ranking…"))
        self._service.query(request_for(incident_id), self._on_result, self._on_error)

    def offer(self, dialog: SendTaskDialogLike) -> None:
        """Rank for the incident shown and hand the result to ``dialog`` as well."""
        incident_id = self._incident_id()
        if incident_id is None:
            return

        def received(result: ResultData) -> None:
            self._on_result(result)
            if isinstance(result, Recommendation):
                dialog.set_recommendation(result)

        def failed(code: str, message: str) -> None:
            self._on_error(code, message)
            dialog.set_recommendation_error(message)

        self._service.query(request_for(incident_id, kinds=[ItemKind.TEAM]), received, failed)

    def _on_result(self, result: ResultData) -> None:
        if not isinstance(result, Recommendation):
            return
        self.recommendation = result
        self.table.show_resources(result.items)
        if result.plan_code:
            text = QCoreApplication.translate(
                "Recommendation", "Plan {plan}: needs {needs}"
            ).format(plan=result.plan_code, needs="、".join(result.needs) or "—")
        else:
            text = QCoreApplication.translate(
                "Recommendation", "No plan matches this incident: ranked by travel time."
            )
        self.status_label.setText(text)
        self.recommendation_received.emit(result)

    def _on_error(self, code: str, message: str) -> None:
        logger.info("recommendation refused: %s %s", code, message)
        self.status_label.setText(
            QCoreApplication.translate("Recommendation", "No ranking: {}").format(message)
        )


class SendTaskDialogLike(Protocol):
    """What :meth:`RecommendPanel.offer` hands the ranking to (the send-task dialog)."""

    def set_recommendation(self, recommendation: Recommendation) -> None:
        """Show the ranking."""

    def set_recommendation_error(self, message: str) -> None:
        """Say why there is none."""
