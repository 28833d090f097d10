"""The early-warning part of the main window: the 预警 dock, its menu (show the list,
import a weather warning) and the open-warning count in the status bar.

Kept out of :mod:`desktop.main_window` so the window stays layout and wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow

from desktop.console_model import ConsoleModel
from desktop.early_warning.panel import WarningPanel
from desktop.early_warning.state import can_work
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import (
    MAX_CAP_BYTES,
    ImportWeather,
    ItemKind,
    ListRegistry,
    RegistryResult,
    ResultData,
    SensorView,
    UserInfo,
    WeatherImported,
)


class WindowWarnings(QObject):
    """Builds and wires the window's early-warning views."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        *,
        model: ConsoleModel,
        show_trends: Callable[[list[str]], bool],
        notify: Callable[[str, bool], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self._notify = notify
        self.panel = WarningPanel(service, window)
        self.dock = QDockWidget(self.tr("Early warnings"), window)
        self.dock.setObjectName("early_warning_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        menu = window.menuBar().addMenu(self.tr("&Warnings"))
        self.show_action = QAction(self.tr("Early warnings"), window)
        self.show_action.triggered.connect(self.show)
        menu.addAction(self.show_action)
        self.import_action = QAction(self.tr("Import weather warning (CAP)…"), window)
        self.import_action.triggered.connect(self._ask_import)
        self.import_action.setEnabled(False)
        menu.addAction(self.import_action)
        self.count_label = plain_label(parent=window)
        self.count_label.setObjectName("warning_count")
        window.statusBar().addPermanentWidget(self.count_label)
        self.panel.count_changed.connect(self.show_count)
        self.panel.sensor_requested.connect(lambda sensor: show_trends([sensor]))
        model.welcomed.connect(self.on_welcome)
        model.sensors_changed.connect(self.on_sensors)
        self.show_count(0)

    def on_welcome(self, user: UserInfo) -> None:
        """Gate the buttons by role and (re)load the list (after every reconnect too)."""
        self.panel.set_role(user.role)
        self.import_action.setEnabled(can_work(user.role))
        self.panel.load()
        # Hazard sources by name (a role that may not read the registry sees codes).
        listing = ListRegistry(req="", kind=ItemKind.HAZARD_SOURCE, limit=500)
        self._service.query(listing, self._on_hazard_sources, lambda _code, _message: None)

    def _on_hazard_sources(self, result: ResultData) -> None:
        if isinstance(result, RegistryResult):
            self.panel.set_hazard_names({item.code: item.name for item in result.items})

    def on_sensors(self, sensors: list[SensorView]) -> None:
        """Name the sensors in the list."""
        self.panel.set_sensor_names({s.sensor_id: s.name or s.sensor_id for s in sensors})

    def show_count(self, count: int) -> None:
        """The open warnings in the status bar (highlighted when there are any)."""
        self.count_label.setText(self.tr("Warnings: {count}").format(count=count))
        self.count_label.setStyleSheet(
            "QLabel { color: white; background: #ef6c00; padding: 0 4px; }" if count else ""
        )

    def show(self) -> None:
        """Show and raise the dock."""
        self.dock.show()
        self.dock.raise_()

    def import_file(self, path: Path) -> bool:
        """Send a CAP file to the server; return whether it was sent."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._notify(
                self.tr("Cannot read {path}: {reason}").format(path=path, reason=exc),
                True,
            )
            return False
        if len(data) > MAX_CAP_BYTES:
            self._notify(
                QCoreApplication.translate(
                    "EarlyWarning", "{path} is too large for a CAP alert."
                ).format(path=path.name),
                True,
            )
            return False
        text = data.decode("utf-8", errors="replace")
        self._service.query(ImportWeather(req="", cap_xml=text), self._on_imported, self._failed)
        return True

    def _ask_import(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self._window,
            self.tr("Import weather warning"),
            "",
            self.tr("CAP alerts (*.xml)"),
        )
        if name:
            self.import_file(Path(name))

    def _on_imported(self, result: ResultData) -> None:
        if isinstance(result, WeatherImported):
            for warning in result.warnings:
                self.panel.book.apply(warning)
            self.panel.refresh()
            self._notify(
                QCoreApplication.translate(
                    "EarlyWarning",
                    "Weather warning {event} imported: {count} hazard sources warned.",
                ).format(event=result.alert.event, count=len(result.warnings)),
                False,
            )
            self.show()

    def _failed(self, _code: str, message: str) -> None:
        self._notify(
            QCoreApplication.translate(
                "EarlyWarning", "Weather warning not imported: {reason}"
            ).format(reason=message),
            True,
        )
