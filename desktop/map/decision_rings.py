"""The decision-support rings on the map: the initial isolation zone and the
protective-action zone (or the officer's own radius) as circles around the incident, each
labelled with its name and radius (隔离区 500 m).

The protective-action zone lies downwind; the wind is not known to the console, so the
circle is drawn all round (what the server lists is inside that circle too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from desktop.map.layers import LayerKey, MapLayer, cosmetic_pen, make_label, ring_path
from desktop.map.projection import to_mercator_arrays
from desktop.plain_text import plain_tooltip
from realtime.protocol import RingKind, RingView

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius, as the server measures distances."""
SEGMENTS = 120
"""Points per circle (a 10 km circle is then smooth to a few metres)."""
RING_COLOURS = {
    RingKind.ISOLATION: "#d50000",
    RingKind.PROTECTIVE: "#ff6d00",
    RingKind.CUSTOM: "#6a1b9a",
}
Z_VALUE = 25
"""Above the jurisdictions and geofences, under the points."""


def circle_points(
    lat: float, lon: float, radius_m: float, segments: int = SEGMENTS
) -> list[tuple[float, float]]:
    """The (lon, lat) points of a circle of ``radius_m`` around a WGS-84 point, closed."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    delta = radius_m / EARTH_RADIUS_M
    points = []
    for step in range(segments + 1):
        bearing = 2 * math.pi * step / segments
        phi2 = math.asin(
            math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(bearing)
        )
        lambda2 = lambda1 + math.atan2(
            math.sin(bearing) * math.sin(delta) * math.cos(phi1),
            math.cos(delta) - math.sin(phi1) * math.sin(phi2),
        )
        points.append((math.degrees(lambda2), math.degrees(phi2)))
    return points


def ring_name(kind: RingKind) -> str:
    """A ring's name as the officer reads it."""
    names = {
        RingKind.ISOLATION: QCoreApplication.translate("DecisionRings", "Isolation zone"),
        RingKind.PROTECTIVE: QCoreApplication.translate("DecisionRings", "Protective zone"),
        RingKind.CUSTOM: QCoreApplication.translate("DecisionRings", "Set radius"),
    }
    return names[kind]


def distance_text(metres: float) -> str:
    """A distance as shown on rings and lists: metres below 1 km, else km."""
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km"


def ring_label(ring: RingView) -> str:
    """What a ring's label says: its name and radius."""
    return f"{ring_name(ring.kind)} {distance_text(ring.radius_m)}"


class DecisionRingsLayer(MapLayer):
    """The rings of one decision-support answer (辅助决策范围 in the layer menu)."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(LayerKey.DECISION_RINGS, parent, z_value=Z_VALUE)
        self.circles: list[QGraphicsPathItem] = []
        self.labels: list[QGraphicsSimpleTextItem] = []

    def show_rings(self, lat: float, lon: float, rings: Sequence[RingView]) -> None:
        """Replace the drawn rings by these, around (lat, lon)."""
        self.clear()
        for ring in rings:
            points = np.asarray(circle_points(lat, lon, ring.radius_m), dtype=np.float64)
            x, y = to_mercator_arrays(points[:, 0], points[:, 1])
            colour = RING_COLOURS[ring.kind]
            item = QGraphicsPathItem(
                ring_path(np.column_stack([x, y]).astype(np.float32), closed=True), self.container
            )
            style = (
                Qt.PenStyle.SolidLine if ring.kind is RingKind.ISOLATION else Qt.PenStyle.DashLine
            )
            item.setPen(cosmetic_pen(colour, 2.5, style))
            item.setToolTip(plain_tooltip(ring_label(ring)))
            self.circles.append(item)
            # The label sits on the ring's northern edge.
            label = make_label(ring_label(ring), self.container, point_size=9.0, colour=colour)
            north = int(np.argmax(points[:, 1]))
            label.setPos(float(x[north]), float(y[north]))
            self.labels.append(label)

    def clear(self) -> None:
        """Remove every ring."""
        for item in [*self.circles, *self.labels]:
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)
        self.circles = []
        self.labels = []

    def label_texts(self) -> list[str]:
        """The labels drawn, inner ring first (tests read them)."""
        return [label.text() for label in self.labels]
