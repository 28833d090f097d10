"""Editing geofences from the console: draw on the map, fill in a dialog, save.

:class:`GeofenceEditor` owns the map's geofence drawing (a
:class:`~desktop.map.geofences.GeofenceLayer` and a
:class:`~desktop.map.geofences.GeofenceDrawTool`), the "Draw circle / polygon / route"
actions, and the list of stored geofences: it loads them when the console goes live and
follows ``geofence.saved`` / ``geofence.deleted`` events. A finished shape, or a click on
a stored one, opens a :class:`GeofenceDialog`; saving and deleting go through
:meth:`ConsoleService.query`, and the server checks the role and the version.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop import texts
from desktop.map.geofences import DrawMode, GeofenceDrawTool, GeofenceLayer
from desktop.map.view import MapView
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.event_kinds import EventKind
from realtime.protocol import (
    DeleteGeofence,
    Event,
    GeofenceKind,
    GeofenceResult,
    GeofenceShape,
    GeofencesResult,
    GeofenceView,
    ListGeofences,
    PolylineShape,
    ResultData,
    SaveGeofence,
)
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

AREA_KINDS: tuple[GeofenceKind, ...] = ("no_go_zone", "geofence", "speed_zone")
ROUTE_KINDS: tuple[GeofenceKind, ...] = ("route_corridor",)


def kind_label(kind: str) -> str:
    """The officer's name for a geofence kind."""
    labels = {
        "geofence": QCoreApplication.translate("GeofenceEditor", "Geofence (enter/exit)"),
        "no_go_zone": QCoreApplication.translate("GeofenceEditor", "No-go zone"),
        "speed_zone": QCoreApplication.translate("GeofenceEditor", "Speed limit zone"),
        "route_corridor": QCoreApplication.translate("GeofenceEditor", "Route corridor"),
    }
    return labels.get(kind, kind)


class GeofenceDialog(QDialog):
    """Name, kind, speed limit, level, dwell time and vehicles of a geofence.

    ``geofence`` is the stored one being edited (None for a new shape). The dialog only
    builds the commands; :class:`GeofenceEditor` sends them.
    """

    save_requested = Signal()
    """The officer pressed Save (the dialog stays open until the server answers)."""
    delete_requested = Signal()
    """The officer asked to delete the geofence being edited."""

    def __init__(
        self,
        shape: GeofenceShape,
        geofence: GeofenceView | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("geofence_dialog")
        self.shape = shape
        self.geofence = geofence
        self.setWindowTitle(
            self.tr("New geofence")
            if geofence is None
            else self.tr("Geofence {id}").format(id=geofence.id)
        )
        layout = QFormLayout(self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("geofence_name_edit")
        self.name_edit.setMaxLength(200)
        layout.addRow(self.tr("Name:"), self.name_edit)
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("geofence_kind_combo")
        is_route = isinstance(shape, PolylineShape)
        for kind in ROUTE_KINDS if is_route else AREA_KINDS:
            self.kind_combo.addItem(kind_label(kind), kind)
        layout.addRow(self.tr("Kind:"), self.kind_combo)
        self.width_spin = QDoubleSpinBox(self)
        self.width_spin.setObjectName("geofence_width_spin")
        self.width_spin.setRange(1.0, 20_000.0)
        self.width_spin.setDecimals(0)
        self.width_spin.setSuffix(" m")
        if isinstance(shape, PolylineShape):
            self.width_spin.setValue(shape.width_m)
            layout.addRow(self.tr("Corridor width:"), self.width_spin)
        else:
            self.width_spin.hide()
        self.limit_spin = QDoubleSpinBox(self)
        self.limit_spin.setObjectName("geofence_limit_spin")
        self.limit_spin.setRange(0.0, 300.0)
        self.limit_spin.setDecimals(0)
        self.limit_spin.setSuffix(" km/h")
        self.limit_spin.setSpecialValueText(self.tr("none"))
        layout.addRow(self.tr("Speed limit:"), self.limit_spin)
        self.level_combo = QComboBox(self)
        self.level_combo.setObjectName("geofence_level_combo")
        for level in AlarmLevel:
            self.level_combo.addItem(texts.level_label(level), level)
        self.level_combo.setCurrentIndex(self.level_combo.findData(AlarmLevel.ORANGE))
        layout.addRow(self.tr("Alarm level:"), self.level_combo)
        self.dwell_spin = QDoubleSpinBox(self)
        self.dwell_spin.setObjectName("geofence_dwell_spin")
        self.dwell_spin.setRange(0.0, 86_400.0)
        self.dwell_spin.setDecimals(0)
        self.dwell_spin.setSuffix(" s")
        layout.addRow(self.tr("Dwell time:"), self.dwell_spin)
        self.vehicles_edit = QLineEdit(self)
        self.vehicles_edit.setObjectName("geofence_vehicles_edit")
        self.vehicles_edit.setPlaceholderText(self.tr("all vehicles (or ids, comma separated)"))
        layout.addRow(self.tr("Vehicles:"), self.vehicles_edit)
        self.enabled_check = QCheckBox(self.tr("Enforced"), self)
        self.enabled_check.setObjectName("geofence_enabled_check")
        self.enabled_check.setChecked(True)
        layout.addRow(self.enabled_check)
        self.error_label = plain_label(parent=self)
        self.error_label.setObjectName("geofence_error_label")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        layout.addRow(self.error_label)
        box = QDialogButtonBox(self)
        self.save_button = box.addButton(self.tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("geofence_save_button")
        box.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.delete_button: QPushButton | None = None
        if geofence is not None:
            self.delete_button = box.addButton(
                self.tr("Delete"), QDialogButtonBox.ButtonRole.DestructiveRole
            )
            self.delete_button.setObjectName("geofence_delete_button")
            self.delete_button.clicked.connect(self.delete_requested.emit)
        self.save_button.clicked.connect(self.save_requested.emit)
        box.rejected.connect(self.reject)
        layout.addRow(box)
        if geofence is not None:
            self._fill(geofence)
        self.name_edit.textChanged.connect(self._update_save)
        self._update_save()

    def _fill(self, geofence: GeofenceView) -> None:
        self.name_edit.setText(geofence.name)
        index = self.kind_combo.findData(geofence.kind)
        if index >= 0:
            self.kind_combo.setCurrentIndex(index)
        self.limit_spin.setValue(geofence.limit_kmh or 0.0)
        self.level_combo.setCurrentIndex(self.level_combo.findData(geofence.level))
        self.dwell_spin.setValue(geofence.dwell_s)
        self.vehicles_edit.setText(", ".join(geofence.vehicles))
        self.enabled_check.setChecked(geofence.enabled)

    def _update_save(self) -> None:
        self.save_button.setEnabled(bool(self.name_edit.text().strip()))

    def show_error(self, message: str) -> None:
        """Show why the server refused the last save or delete."""
        self.error_label.setText(message)

    def save_command(self) -> SaveGeofence:
        """The command that saves what the dialog shows."""
        shape = self.shape
        if isinstance(shape, PolylineShape):
            shape = PolylineShape(points=shape.points, width_m=self.width_spin.value())
        limit = self.limit_spin.value()
        vehicles = [v.strip() for v in self.vehicles_edit.text().replace("，", ",").split(",")]
        level = AlarmLevel(self.level_combo.currentData())
        return SaveGeofence(
            req="",
            id=None if self.geofence is None else self.geofence.id,
            expected_version=None if self.geofence is None else self.geofence.version,
            name=self.name_edit.text().strip(),
            kind=self.kind_combo.currentData(),
            shape=shape,
            limit_kmh=limit if limit > 0 else None,
            level=level,
            dwell_s=self.dwell_spin.value(),
            vehicles=[v for v in vehicles if v],
            enabled=self.enabled_check.isChecked(),
        )


class GeofenceEditor(QObject):
    """Stored geofences on the map, and the drawing, editing and deleting of them."""

    changed = Signal()
    """The stored geofences changed (loaded, saved or deleted)."""
    message = Signal(str, bool)
    """An outcome for the officer: (text, is_error)."""

    def __init__(self, service: ConsoleService, map_view: MapView, parent: QWidget) -> None:
        super().__init__(parent)
        self._service = service
        self._parent = parent
        self.layer = GeofenceLayer(map_view.geofences.container)
        self.tool = GeofenceDrawTool(map_view, self.layer)
        self.geofences: dict[int, GeofenceView] = {}
        self.dialog: GeofenceDialog | None = None
        self.actions: dict[DrawMode, QAction] = {}
        titles = {
            DrawMode.CIRCLE: self.tr("Draw circle"),
            DrawMode.POLYGON: self.tr("Draw polygon"),
            DrawMode.ROUTE: self.tr("Draw route"),
        }
        for mode, title in titles.items():
            action = QAction(title, parent)
            action.setObjectName(f"draw_{mode}_action")
            action.setCheckable(True)
            action.setStatusTip(
                self.tr("Click on the map to place points; Enter or double-click ends, Esc cancels")
            )
            action.triggered.connect(lambda checked, chosen=mode: self._on_draw(chosen, checked))
            self.actions[mode] = action
        self.tool.mode_changed.connect(self._on_mode_changed)
        self.tool.finished.connect(self._on_shape_drawn)
        self.tool.geofence_clicked.connect(self.edit)
        service.connection_changed.connect(self._on_connection_changed)
        service.event_received.connect(self.apply_event)

    # ------------------------------------------------------------------ data

    def reload(self) -> None:
        """Ask the server for every stored geofence."""
        self._service.query(ListGeofences(req=""), self._on_listed, self._on_list_failed)

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        if state is not ConnectionState.LIVE:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Only a test drives the service's state by hand outside the loop.
            logger.debug("not reloading geofences: no running event loop")
            return
        self.reload()

    def _on_listed(self, result: ResultData) -> None:
        if isinstance(result, GeofencesResult):
            self.geofences = {geofence.id: geofence for geofence in result.geofences}
            self._redraw()

    def _on_list_failed(self, code: str, message: str) -> None:
        # Roles outside the command centre may not read geofences; that is not an error.
        logger.info("geofences not loaded: %s %s", code, message)

    def apply_event(self, event: Event) -> None:
        """Follow ``geofence.saved`` and ``geofence.deleted`` events."""
        geofence = event.geofence
        if geofence is None:
            return
        if event.kind == EventKind.GEOFENCE_DELETED:
            self.geofences.pop(geofence.id, None)
        else:
            self._upsert(geofence)
            return
        self._redraw()

    def _upsert(self, geofence: GeofenceView) -> None:
        known = self.geofences.get(geofence.id)
        if known is not None and known.version >= geofence.version:
            return
        self.geofences[geofence.id] = geofence
        self._redraw()

    def _redraw(self) -> None:
        self.layer.set_geofences(self.geofences[key] for key in sorted(self.geofences))
        self.changed.emit()

    # ------------------------------------------------------------------ drawing

    def _on_draw(self, mode: DrawMode, checked: bool) -> None:
        if checked:
            self.tool.start(mode)
        elif self.tool.mode is mode:
            self.tool.cancel()

    def _on_mode_changed(self, mode: DrawMode | None) -> None:
        for action_mode, action in self.actions.items():
            action.setChecked(action_mode is mode)

    def _on_shape_drawn(self, shape: GeofenceShape) -> None:
        self._open_dialog(GeofenceDialog(shape, None, self._parent))

    def edit(self, geofence_id: int) -> None:
        """Open the dialog of a stored geofence (a click on it does this)."""
        geofence = self.geofences.get(geofence_id)
        if geofence is not None:
            self._open_dialog(GeofenceDialog(geofence.shape, geofence, self._parent))

    def _open_dialog(self, dialog: GeofenceDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        # The dialog stays open until the server answers, so a refusal can be read in it.
        dialog.save_requested.connect(lambda: self.save(dialog))
        dialog.delete_requested.connect(lambda: self.delete(dialog))
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.open()

    def _forget(self, dialog: GeofenceDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def save(self, dialog: GeofenceDialog) -> None:
        """Send the dialog's save command; close it when the server has stored it."""
        command = dialog.save_command()
        dialog.save_button.setEnabled(False)

        def saved(result: ResultData) -> None:
            if isinstance(result, GeofenceResult):
                self._upsert(result.geofence)
                self.message.emit(
                    self.tr("Geofence “{name}” saved").format(name=result.geofence.name), False
                )
            dialog.done(QDialog.DialogCode.Accepted)

        def failed(code: str, message: str) -> None:
            dialog.save_button.setEnabled(True)
            dialog.show_error(f"{texts.error_summary(code)}: {message}")

        self._service.query(command, saved, failed)

    def delete(self, dialog: GeofenceDialog) -> None:
        """Delete the geofence the dialog shows (supervisors and admins may)."""
        geofence = dialog.geofence
        if geofence is None:
            return
        command = DeleteGeofence(req="", id=geofence.id, expected_version=geofence.version)

        def deleted(_result: ResultData) -> None:
            if self.geofences.pop(geofence.id, None) is not None:
                self._redraw()
            self.message.emit(
                self.tr("Geofence “{name}” deleted").format(name=geofence.name), False
            )
            dialog.done(QDialog.DialogCode.Accepted)

        def failed(code: str, message: str) -> None:
            dialog.show_error(f"{texts.error_summary(code)}: {message}")

        self._service.query(command, deleted, failed)
