"""The site detail pane: what a dispatcher needs about a hazard source or a team clicked
on the map.

A hazard source shows its enterprise and places, each sensor with its newest value, the
value's age and whether it is in alarm, the open alarms its sensors raised, and a button
that opens their trends. A team shows its code, agency, jurisdiction and base, the open
alarms it is dispatched to, and a button that centres the map on its base. The pane is a
thin view: the answers come from :mod:`desktop.sites`, and the actions are signals the
main window carries out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.alarm_model import LEVEL_COLOURS
from desktop.places import jurisdiction_name
from desktop.plain_text import escape, plain_label, plain_tooltip, rich_label
from desktop.sites import (
    HazardSource,
    LatestReadings,
    SensorStatus,
    hazard_source_alarms,
    sensor_statuses,
    unit_alarms,
)
from desktop.state import AlarmStore, StoreChange, utc_now
from desktop.trends.store import sensor_of_alarm
from realtime.protocol import AlarmView, UnitView

logger = logging.getLogger(__name__)

ALARM_ID_ROLE = Qt.ItemDataRole.UserRole
SENSOR_COLUMNS = 5
"""Sensor, kind, value, age, state."""
STATE_COLUMN = 4
"""The column coloured by the sensor's alarm or threshold level."""


class SiteDetailPane(QWidget):
    """Shows one hazard source or one team; empty until one is clicked."""

    trends_requested = Signal(list)
    """The officer wants the trends of these sensors (a list of sensor ids)."""
    centre_requested = Signal(float, float)
    """The officer wants the map centred here: (lon, lat)."""
    alarm_requested = Signal(int)
    """The officer picked an alarm in one of the lists (its id)."""

    def __init__(
        self,
        alarms: AlarmStore,
        readings: LatestReadings,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("site_detail_pane")
        self._alarms = alarms
        self._readings = readings
        self._clock = clock
        self._sources: dict[str, HazardSource] = {}
        self._units: dict[str, UnitView] = {}
        self._source_name: str | None = None
        self._unit_code: str | None = None
        self._listed_alarm_ids: set[int] = set()

        layout = QVBoxLayout(self)
        # The console's bold around the site's (escaped) name.
        self.header_label = rich_label(self)
        self.header_label.setObjectName("site_header_label")
        self.header_label.setWordWrap(True)
        layout.addWidget(self.header_label)
        self.stale_label = plain_label(
            self.tr("The connection is down: this may be out of date."), self
        )
        self.stale_label.setObjectName("site_stale_label")
        self.stale_label.setStyleSheet("color: #c62828;")
        self.stale_label.hide()
        layout.addWidget(self.stale_label)

        self.pages = QStackedWidget(self)
        layout.addWidget(self.pages, 1)
        self.empty_page = plain_label(self.tr("Click a hazard source or a team on the map."), self)
        self.empty_page.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.pages.addWidget(self.empty_page)
        self.hazard_page = self._build_hazard_page()
        self.pages.addWidget(self.hazard_page)
        self.unit_page = self._build_unit_page()
        self.pages.addWidget(self.unit_page)

        self._remove_alarm_listener = alarms.add_listener(self._on_alarm_change)
        self.refresh()

    # ------------------------------------------------------------------ building

    def _build_hazard_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        fields = QFormLayout()
        layout.addLayout(fields)
        self.enterprise_label = self._field(page, "site_enterprise_label")
        fields.addRow(self.tr("Enterprise:"), self.enterprise_label)
        self.place_label = self._field(page, "site_place_label")
        fields.addRow(self.tr("Place:"), self.place_label)
        self.hazard_coordinates_label = self._field(page, "site_hazard_coordinates_label")
        fields.addRow(self.tr("Coordinates:"), self.hazard_coordinates_label)

        sensors_box = QGroupBox(self.tr("Sensors"), page)
        sensors_layout = QVBoxLayout(sensors_box)
        self.sensor_table = QTableWidget(0, SENSOR_COLUMNS, sensors_box)
        self.sensor_table.setObjectName("site_sensor_table")
        self.sensor_table.setHorizontalHeaderLabels(
            [self.tr("Sensor"), self.tr("Kind"), self.tr("Value"), self.tr("Age"), self.tr("State")]
        )
        self.sensor_table.verticalHeader().hide()
        self.sensor_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sensor_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.sensor_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        sensors_layout.addWidget(self.sensor_table)
        layout.addWidget(sensors_box, 2)

        self.hazard_alarms_list = self._alarm_list(page, "site_hazard_alarms_list")
        layout.addWidget(self._boxed(page, self.tr("Open alarms"), self.hazard_alarms_list), 1)

        self.trends_button = QPushButton(self.tr("Show the sensors' trends"), page)
        self.trends_button.setObjectName("site_trends_button")
        self.trends_button.clicked.connect(self._request_trends)
        layout.addWidget(self.trends_button)
        return page

    def _build_unit_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        fields = QFormLayout()
        layout.addLayout(fields)
        self.unit_code_label = self._field(page, "site_unit_code_label")
        fields.addRow(self.tr("Code:"), self.unit_code_label)
        self.agency_label = self._field(page, "site_agency_label")
        fields.addRow(self.tr("Agency:"), self.agency_label)
        self.jurisdiction_label = self._field(page, "site_jurisdiction_label")
        fields.addRow(self.tr("Jurisdiction:"), self.jurisdiction_label)
        self.base_label = self._field(page, "site_base_label")
        fields.addRow(self.tr("Base:"), self.base_label)

        self.unit_alarms_list = self._alarm_list(page, "site_unit_alarms_list")
        layout.addWidget(self._boxed(page, self.tr("Dispatched to"), self.unit_alarms_list), 1)

        self.centre_button = QPushButton(self.tr("Centre on map"), page)
        self.centre_button.setObjectName("site_centre_button")
        self.centre_button.clicked.connect(self._request_centre)
        layout.addWidget(self.centre_button)
        return page

    @staticmethod
    def _field(parent: QWidget, name: str) -> QLabel:
        label = plain_label(parent=parent)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _alarm_list(self, parent: QWidget, name: str) -> QListWidget:
        alarms = QListWidget(parent)
        alarms.setObjectName(name)
        # A click for the mouse, activation for Enter; selecting an alarm twice is harmless.
        alarms.itemClicked.connect(self._on_alarm_item)
        alarms.itemActivated.connect(self._on_alarm_item)
        return alarms

    @staticmethod
    def _boxed(parent: QWidget, title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title, parent)
        QVBoxLayout(box).addWidget(widget)
        return box

    # ------------------------------------------------------------------ data

    def set_hazard_sources(self, sources: dict[str, HazardSource]) -> None:
        """Replace the hazard sources the pane can show (the sensor registry arrived)."""
        self._sources = dict(sources)
        self.refresh()

    def set_units(self, units: Iterable[UnitView]) -> None:
        """Replace the teams the pane can show (the unit list arrived)."""
        self._units = {unit.code: unit for unit in units}
        self.refresh()

    @property
    def hazard_source(self) -> HazardSource | None:
        """The hazard source shown, as the registry has it now, or None."""
        return None if self._source_name is None else self._sources.get(self._source_name)

    @property
    def unit(self) -> UnitView | None:
        """The team shown, as the unit list has it now, or None."""
        return None if self._unit_code is None else self._units.get(self._unit_code)

    def show_hazard_source(self, name: str) -> bool:
        """Show the hazard source called ``name``; return False (and change nothing) if
        the registry has no such hazard source."""
        if name not in self._sources:
            logger.info("no hazard source %r to show", name)
            return False
        self._source_name, self._unit_code = name, None
        self.refresh()
        return True

    def show_unit(self, code: str) -> bool:
        """Show the team with ``code``; return False (and change nothing) if it is unknown."""
        if code not in self._units:
            logger.info("no unit %r to show", code)
            return False
        self._source_name, self._unit_code = None, code
        self.refresh()
        return True

    def set_stale(self, stale: bool) -> None:
        """Say that the data shown may be out of date."""
        self.stale_label.setVisible(stale)

    def sensor_cell(self, row: int, column: int) -> str:
        """The text of one cell of the sensor table (tests and screenshots read it)."""
        item = self.sensor_table.item(row, column)
        return item.text() if item is not None else ""

    def listed_alarm_ids(self) -> list[int]:
        """The alarm ids listed on the page shown, in order."""
        if self.unit is not None:
            listing = self.unit_alarms_list
        elif self.hazard_source is not None:
            listing = self.hazard_alarms_list
        else:
            return []
        ids = (listing.item(row).data(ALARM_ID_ROLE) for row in range(listing.count()))
        return [alarm_id for alarm_id in ids if isinstance(alarm_id, int)]

    # ------------------------------------------------------------------ drawing

    def refresh(self) -> None:
        """Redraw the shown site from the registry, the readings and the alarms."""
        source, unit = self.hazard_source, self.unit
        if source is not None:
            self._show_source(source)
        elif unit is not None:
            self._show_unit(unit)
        else:
            self._listed_alarm_ids = set()
            self.header_label.setText(self.tr("Site detail"))
            self.pages.setCurrentWidget(self.empty_page)

    def _show_source(self, source: HazardSource) -> None:
        self.header_label.setText(
            self.tr("<b>{name}</b> · hazard source").format(name=escape(source.name))
        )
        self.enterprise_label.setText(source.enterprise or "–")
        self.place_label.setText("；".join(source.places) or "–")
        self.hazard_coordinates_label.setText(f"{source.lat:.6f}, {source.lon:.6f}")
        self._fill_sensors(source)
        self._fill_alarms(self.hazard_alarms_list, hazard_source_alarms(source, self._alarms))
        self.trends_button.setEnabled(bool(source.sensors))
        self.pages.setCurrentWidget(self.hazard_page)

    def refresh_readings(self) -> None:
        """Redraw only the sensors' values and ages (the console's clock ticks).

        The alarm lists are left alone so a selection or scroll there survives the tick.
        """
        source = self.hazard_source
        if source is not None and self.pages.currentWidget() is self.hazard_page:
            self._fill_sensors(source)

    def _fill_sensors(self, source: HazardSource) -> None:
        statuses = sensor_statuses(source, self._readings, self._alarms, self._clock())
        self.sensor_table.setRowCount(len(statuses))
        for row, status in enumerate(statuses):
            self._fill_sensor_row(row, status)

    def _fill_sensor_row(self, row: int, status: SensorStatus) -> None:
        sensor, reading = status.sensor, status.reading
        unit = (reading.unit if reading is not None else "") or sensor.unit
        value = f"{reading.value:g} {unit}".strip() if reading is not None else "–"
        age = texts.format_duration(status.age.total_seconds()) if status.age is not None else "–"
        cells = (
            sensor.name or sensor.sensor_id,
            texts.sensor_kind_label(sensor.kind),
            value,
            age,
            self._state_text(status),
        )
        level = status.alarm.level if status.alarm is not None else status.threshold_level
        state_brush = QBrush(LEVEL_COLOURS[level]) if level is not None else QBrush()
        for column, text in enumerate(cells):
            item = self.sensor_table.item(row, column)
            if item is None:
                item = QTableWidgetItem()
                self.sensor_table.setItem(row, column, item)
            item.setText(text)
            item.setToolTip(
                plain_tooltip(f"{sensor.sensor_id} · {sensor.place}" if sensor.place else "")
            )
            item.setForeground(state_brush if column == STATE_COLUMN else QBrush())

    def _state_text(self, status: SensorStatus) -> str:
        if status.alarm is not None:
            return self.tr("{level} alarm No. {alarm_id} ({state})").format(
                level=texts.level_label(status.alarm.level),
                alarm_id=status.alarm.id,
                state=texts.state_label(status.alarm.state),
            )
        if status.threshold_level is not None:
            return self.tr("{level} threshold reached").format(
                level=texts.level_label(status.threshold_level)
            )
        if status.reading is None:
            return self.tr("No reading yet")
        if status.silent:
            return self.tr("Silent")
        return self.tr("Normal")

    def _show_unit(self, unit: UnitView) -> None:
        self.header_label.setText(
            self.tr("<b>{name}</b> · team").format(name=escape(unit.name or unit.code))
        )
        self.unit_code_label.setText(unit.code)
        self.agency_label.setText(texts.agency_label(unit.agency))
        self.jurisdiction_label.setText(_jurisdiction_text(unit.jurisdiction))
        has_base = unit.lat is not None and unit.lon is not None
        self.base_label.setText(
            f"{unit.lat:.6f}, {unit.lon:.6f}" if has_base else self.tr("Not known")
        )
        self.centre_button.setEnabled(has_base)
        self._fill_alarms(self.unit_alarms_list, unit_alarms(unit, self._alarms))
        self.pages.setCurrentWidget(self.unit_page)

    def _fill_alarms(self, listing: QListWidget, alarms: list[AlarmView]) -> None:
        listing.clear()
        self._listed_alarm_ids = {alarm.id for alarm in alarms}
        if not alarms:
            placeholder = QListWidgetItem(self.tr("None"), listing)
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            return
        for alarm in alarms:
            text = " · ".join(
                part
                for part in (
                    f"#{alarm.id}",
                    texts.level_label(alarm.level),
                    texts.state_label(alarm.state),
                    alarm.title,
                    texts.format_time(alarm.first_seen),
                )
                if part
            )
            item = QListWidgetItem(text, listing)
            item.setData(ALARM_ID_ROLE, alarm.id)
            item.setForeground(QBrush(LEVEL_COLOURS[alarm.level]))

    # ------------------------------------------------------------------ reacting

    def _on_alarm_change(self, change: StoreChange) -> None:
        # Only redraw for alarms of the site shown: a burst of unrelated alarms costs nothing.
        alarm = change.alarm
        if alarm is None or alarm.id in self._listed_alarm_ids or self._concerns(alarm):
            self.refresh()

    def _concerns(self, alarm: AlarmView) -> bool:
        source, unit = self.hazard_source, self.unit
        if source is not None:
            return sensor_of_alarm(alarm) in source.sensor_ids
        if unit is not None:
            return any(dispatch.unit_id == unit.id for dispatch in alarm.dispatches)
        return False

    def _on_alarm_item(self, item: QListWidgetItem) -> None:
        alarm_id = item.data(ALARM_ID_ROLE)
        if isinstance(alarm_id, int):
            self.alarm_requested.emit(alarm_id)

    def _request_trends(self) -> None:
        source = self.hazard_source
        if source is not None:
            self.trends_requested.emit([sensor.sensor_id for sensor in source.sensors])

    def _request_centre(self) -> None:
        unit = self.unit
        if unit is not None and unit.lat is not None and unit.lon is not None:
            self.centre_requested.emit(unit.lon, unit.lat)

    def shutdown(self) -> None:
        """Stop listening to the alarms (the window is closing)."""
        self._remove_alarm_listener()


def _jurisdiction_text(code: str) -> str:
    if not code:
        return "–"
    return jurisdiction_name(code)
