"""The registry part of the main window: the 台账 dock, its menu, the registry items on
the map, and picking an item's place there.

Kept out of :mod:`desktop.main_window` so the window stays layout and wiring.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow

from desktop.incidents.catalogue_state import CatalogueState
from desktop.map.layers import LayerKey
from desktop.map.point_pick import PointPickTool
from desktop.map.registry_layers import KindPoint
from desktop.map.view import MapView
from desktop.registry.desk import RegistryDesk
from desktop.registry.labels import item_title, kind_label, set_type_names
from desktop.registry.panel import PickCallback, RegistryPanel
from desktop.registry.state import RegistryUpdate
from desktop.service import ConsoleService
from realtime.protocol import AgencyView, ItemKind, Welcome

MAP_REDRAW_MS = 300
"""How long a burst of registry changes is gathered before the map layer is redrawn."""
REGISTRY_VIEW_SPAN_M = 5_000.0
MIN_DOCK_HEIGHT = 380
"""Pixels the docked registry pane is given when it is opened from the menu."""
"""Metres across the map shows around an item located from the panel."""


class WindowRegistry(QObject):
    """Builds and wires the window's registry views."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        *,
        map_view: MapView,
        map_dock: QDockWidget,
        notify: Callable[[str, bool], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._map_view = map_view
        self._map_dock = map_dock
        self.desk = RegistryDesk(service, parent=self)
        self.panel = RegistryPanel(self.desk, window)
        self.dock = QDockWidget(QCoreApplication.translate("MainWindow", "Registry"), window)
        self.dock.setObjectName("registry_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "Re&gistry"))
        self.actions: dict[ItemKind, QAction] = {}
        for kind in ItemKind:
            action = QAction(kind_label(kind), window)
            action.triggered.connect(lambda _checked=False, chosen=kind: self.show_kind(chosen))
            menu.addAction(action)
            self.actions[kind] = action
        menu.addSeparator()
        self.map_all_action = QAction(
            QCoreApplication.translate("MainWindow", "Show every kind on the map"), window
        )
        self.map_all_action.triggered.connect(self.map_every_kind)
        menu.addAction(self.map_all_action)
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_REDRAW_MS)
        self._map_timer.timeout.connect(self.redraw_map)
        self._pick_tool: PointPickTool | None = None
        self._pending_pick: PickCallback | None = None

        self.desk.message.connect(notify)
        self.dock.visibilityChanged.connect(self._on_visibility)
        self.panel.pick_requested.connect(self.pick)
        self.panel.show_on_map.connect(self.centre_on)
        self._remove_listener = self.desk.state.add_listener(self._on_update)
        self.destroyed.connect(self._remove_listener)
        map_view.point_clicked.connect(self._on_point_clicked)
        service.welcomed.connect(self.on_welcome)
        self.panel.seen_jurisdictions = lambda: (alarm.jurisdiction for alarm in service.store)
        if service.user is not None:
            self.panel.set_user(service.user)

    def set_agencies(self, agencies: list[AgencyView]) -> None:
        """Take the agencies of ``agencies.list`` (the form's agency picker)."""
        self.panel.choices.agencies = {agency.code: agency.name_zh for agency in agencies}

    def use_catalogue(self, catalogue: CatalogueState, changed: SignalInstance) -> None:
        """Take the incident desk's event catalogue: plans' incident types are picked from
        it and shown by its names (``changed`` fires when it arrives or changes)."""
        self.panel.choices.catalogue = catalogue

        def names() -> None:
            set_type_names({item.code: item.name_zh for item in catalogue.items()})
            self.panel.refresh_names()

        changed.connect(names)
        names()

    def on_welcome(self, welcome: Welcome) -> None:
        """The user's controls and jurisdiction (the desk remembers the user itself)."""
        self.panel.set_user(welcome.user)

    def show(self) -> None:
        """Bring the registry dock to the front (and read its kind)."""
        self.dock.show()
        self.dock.raise_()
        if not self.dock.isFloating() and self.dock.height() < MIN_DOCK_HEIGHT:
            # Beside the event log it starts low: a table, a detail and a history need room.
            self._window.resizeDocks([self.dock], [MIN_DOCK_HEIGHT], Qt.Orientation.Vertical)
        self.panel.activate()

    def show_kind(self, kind: ItemKind) -> None:
        """Show the items of ``kind`` in the dock."""
        self.show()
        self.panel.show_kind(kind)

    def map_every_kind(self) -> None:
        """Read every kind (the map layer draws what is read) and show the layer."""
        for kind in ItemKind:
            self.desk.want(kind)
        self._map_view.set_layer_visible(LayerKey.REGISTRY, True)
        self._map_dock.show()
        self._map_dock.raise_()

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.panel.activate()

    def _on_update(self, _update: RegistryUpdate) -> None:
        # Gathered: a file import brings one event per item.
        if not self._map_timer.isActive():
            self._map_timer.start()

    def redraw_map(self) -> None:
        """Draw the placed items now."""
        self._map_timer.stop()
        self._map_view.registry.set_points(
            KindPoint(item.kind.value, item.code, item.lon, item.lat, item_title(item))
            for item in self.desk.state.placed()
            if item.lon is not None and item.lat is not None
        )

    def _on_point_clicked(self, layer: str, object_id: str) -> None:
        if layer != LayerKey.REGISTRY:
            return
        kind_value, _, code = object_id.partition("/")
        try:
            kind = ItemKind(kind_value)
        except ValueError:
            return
        self.show_kind(kind)
        self.panel.select(code)

    def pick(self, then: PickCallback) -> None:
        """Let the officer click a point on the map; ``then`` gets (lat, lon)."""
        if self._pick_tool is None:
            self._pick_tool = PointPickTool(self._map_view)
            self._pick_tool.picked.connect(self._on_picked)
            self._pick_tool.cancelled.connect(self._on_pick_cancelled)
        self._pending_pick = then
        self._map_dock.show()
        self._map_dock.raise_()
        self._pick_tool.start()

    def _on_picked(self, lat: float, lon: float) -> None:
        then, self._pending_pick = self._pending_pick, None
        if then is not None:
            then(lat, lon)

    def _on_pick_cancelled(self) -> None:
        self._pending_pick = None

    @property
    def pick_tool(self) -> PointPickTool | None:
        """The map's point-pick mode, once used."""
        return self._pick_tool

    def centre_on(self, lon: float, lat: float) -> None:
        """Show the map around an item."""
        self._map_dock.show()
        self._map_dock.raise_()
        self._map_view.center_on(lon, lat, span_m=REGISTRY_VIEW_SPAN_M)
