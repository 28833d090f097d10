"""The map's scale bar: a bar of a round ground length with its label."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


class ScaleBar(QWidget):
    """A bar of a round ground length (1, 2 or 5 × 10ⁿ m) with its label."""

    MAX_WIDTH = 120

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("map_scale_bar")
        self.setMinimumWidth(self.MAX_WIDTH + 70)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.length_m = 0.0
        self.bar_px = 0

    def sizeHint(self) -> QSize:  # noqa: N802
        """Room for the bar and its label."""
        return QSize(self.MAX_WIDTH + 70, 18)

    def set_ground_resolution(self, metres_per_pixel: float) -> None:
        """Choose the bar for ``metres_per_pixel`` on the ground."""
        if metres_per_pixel <= 0 or not math.isfinite(metres_per_pixel):
            return
        longest = self.MAX_WIDTH * metres_per_pixel
        magnitude = 10 ** math.floor(math.log10(longest))
        for factor in (5, 2, 1):
            if factor * magnitude <= longest:
                self.length_m = float(factor * magnitude)
                break
        self.bar_px = round(self.length_m / metres_per_pixel)
        self.update()

    @property
    def text(self) -> str:
        """The bar's label (``500 m``, ``20 km``)."""
        if self.length_m >= 1000:
            return self.tr("{n} km").format(n=f"{self.length_m / 1000:g}")
        return self.tr("{n} m").format(n=f"{self.length_m:g}")

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        """Draw the bar and its label."""
        painter = QPainter(self)
        pen = QPen(QColor("#263238"))
        pen.setWidth(2)
        painter.setPen(pen)
        bottom = self.height() - 4
        painter.drawLine(2, bottom, 2 + self.bar_px, bottom)
        painter.drawLine(2, bottom - 5, 2, bottom)
        painter.drawLine(2 + self.bar_px, bottom - 5, 2 + self.bar_px, bottom)
        painter.drawText(8 + self.bar_px, bottom, self.text)
        painter.end()
