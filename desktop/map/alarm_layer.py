"""The alarm layer: open alarms that have a place, one scatter item per level.

Unacknowledged alarms share one large, pulsing item drawn above the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from desktop.map.layers import LayerKey, MapLayer, set_scatter_points
from desktop.map.projection import to_mercator
from desktop.plain_text import plain_tooltip
from realtime.protocol import AlarmView
from realtime.states import AlarmLevel, AlarmState, is_open

ALARM_COLOURS: dict[AlarmLevel, str] = {
    AlarmLevel.RED: "#d50000",
    AlarmLevel.ORANGE: "#ff6d00",
    AlarmLevel.YELLOW: "#ffd600",
    AlarmLevel.BLUE: "#2962ff",
}
UNACKNOWLEDGED_SIZES = (22.0, 30.0)
"""An unacknowledged alarm pulses between these pixel sizes."""


class AlarmLayer(MapLayer):
    """Open alarms that have a place; unacknowledged ones are large and pulse."""

    def __init__(
        self, parent: QGraphicsItem, *, z_value: float, on_click: Callable[[int], None]
    ) -> None:
        super().__init__(LayerKey.ALARMS, parent, z_value=z_value)
        self._on_click = on_click
        self._titles: dict[int, str] = {}
        self.by_level: dict[AlarmLevel, pg.ScatterPlotItem] = {}
        for level, colour in ALARM_COLOURS.items():
            self.by_level[level] = self._make_item(
                symbol="s", size=14.0, brush=colour, pen=pg.mkPen("#212121", width=1.2)
            )
        self.unacknowledged = self._make_item(
            symbol="star",
            size=UNACKNOWLEDGED_SIZES[0],
            brush="#ff1744",
            pen=pg.mkPen("#ffffff", width=2.0),
        )
        self.unacknowledged.setZValue(2)
        self._pulse_phase = 0

    def _make_item(self, **style: Any) -> pg.ScatterPlotItem:
        item = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=self._tip, **style)
        item.setParentItem(self.container)
        item.sigClicked.connect(self._clicked)
        return item

    def set_alarms(self, alarms: Iterable[AlarmView]) -> None:
        """Draw the open alarms of ``alarms`` that have coordinates."""
        new: list[tuple[float, float, int]] = []
        by_level: dict[AlarmLevel, list[tuple[float, float, int]]] = {
            level: [] for level in ALARM_COLOURS
        }
        self._titles = {}
        for alarm in alarms:
            if alarm.lat is None or alarm.lon is None or not is_open(alarm.state):
                continue
            x, y = to_mercator(alarm.lon, alarm.lat)
            self._titles[alarm.id] = f"#{alarm.id} {alarm.title}"
            target = new if alarm.state is AlarmState.NEW else by_level[alarm.level]
            target.append((x, y, alarm.id))
        set_scatter_points(self.unacknowledged, new)
        for level, item in self.by_level.items():
            set_scatter_points(item, by_level[level])

    @property
    def unacknowledged_count(self) -> int:
        """How many unacknowledged alarms are drawn."""
        return len(self.unacknowledged.data)

    def count(self) -> int:
        """How many alarms are drawn."""
        return self.unacknowledged_count + sum(len(item.data) for item in self.by_level.values())

    def pulse(self) -> None:
        """Advance the pulse of the unacknowledged alarms by one step."""
        if not self.unacknowledged_count:
            return
        self._pulse_phase ^= 1
        self.unacknowledged.setSize(UNACKNOWLEDGED_SIZES[self._pulse_phase])

    def _tip(self, x: float, y: float, data: Any) -> str:
        return plain_tooltip(self._titles.get(int(data), f"#{data}"))

    def _clicked(self, _item: pg.ScatterPlotItem, points: Sequence[Any], _event: Any) -> None:
        if len(points):
            self._on_click(int(points[0].data()))
