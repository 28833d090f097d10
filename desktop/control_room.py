"""The main window's control-room layout: proportions, screen bounds, per-user keys.

The default layout gives the alarm queue and the map most of the room: the map takes
the whole left column, the alarm detail the whole right column (the dock corners belong
to the side areas), and the event log sits only under the queue. Panes whose content can
be taller than a screen are wrapped in scroll areas (:func:`scrollable`), so that no
amount of content raises the window's minimum size past the screen — that is what made
the window grow past the screen after a burst of alarms.
"""

from __future__ import annotations

import hashlib
import logging

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

logger = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1600, 900)
"""The window's size on a screen with room for it (else the screen's available area)."""
MAP_SHARE = 0.33
"""Part of the window's width the map's column takes in the default layout."""
DETAIL_SHARE = 0.22
"""Part of the window's width the detail column takes; the queue gets the rest."""
LOG_SHARE = 0.2
"""Part of the window's height the event log under the queue takes."""
MIN_PANE_SIZE = QSize(120, 80)
"""A scrollable pane's minimum size: small, whatever its content."""
MIN_MAP_SIZE = QSize(240, 160)
"""The map's minimum size (its own controls would otherwise ask for more)."""


def layout_group(server: str, username: str) -> str:
    """The QSettings group of one user's layout on one server.

    The server's address is hashed: a URL's ``/`` and ``:`` would otherwise nest groups.
    """
    server_key = hashlib.sha256(server.encode("utf-8")).hexdigest()[:16] if server else "_"
    user_key = hashlib.sha256(username.encode("utf-8")).hexdigest()[:16] if username else "_"
    return f"layout/{server_key}/{user_key}"


def scrollable(widget: QWidget, parent: QWidget | None = None) -> QScrollArea:
    """Wrap ``widget`` in a frameless scroll area whose minimum size does not follow it."""
    area = QScrollArea(parent)
    area.setObjectName(f"{widget.objectName() or 'pane'}_scroll")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(widget)
    area.setMinimumSize(MIN_PANE_SIZE)
    return area


def contain_docks(window: QMainWindow, unscrolled: QDockWidget) -> None:
    """Keep every dock's minimum size small, so that no dock can push the window past the
    screen: each pane is put in a scroll area, except ``unscrolled`` (the map, which pans
    itself) whose minimum is set outright."""
    for dock in window.findChildren(QDockWidget):
        widget = dock.widget()
        if widget is None or isinstance(widget, QScrollArea):
            continue
        if dock is unscrolled:
            widget.setMinimumSize(MIN_MAP_SIZE)
        else:
            dock.setWidget(scrollable(widget, dock))


def available_rect(window: QWidget) -> QRect | None:
    """The available geometry of the screen the window is on (or the primary one)."""
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else None


def fit_default_size(window: QWidget) -> None:
    """Size the window to :data:`DEFAULT_SIZE`, shrunk to the screen's available area."""
    layout = window.layout()
    if layout is not None:
        # The minimum size the docks' content once asked for (before they were put in
        # scroll areas) still holds until the layout runs again: it would win over resize.
        layout.activate()
    rect = available_rect(window)
    size = DEFAULT_SIZE if rect is None else DEFAULT_SIZE.boundedTo(rect.size())
    window.resize(size)


def keep_on_screen(window: QWidget) -> bool:
    """Shrink and move the window so its frame lies within the screen; True if it moved."""
    rect = available_rect(window)
    if rect is None or window.isMaximized() or window.isFullScreen():
        return False
    frame = window.frameGeometry()
    if rect.contains(frame):
        return False
    extra = frame.size() - window.size()
    size = window.size().boundedTo(rect.size() - extra)
    window.resize(size)
    frame = window.frameGeometry()
    x = min(max(frame.x(), rect.left()), rect.right() + 1 - frame.width())
    y = min(max(frame.y(), rect.top()), rect.bottom() + 1 - frame.height())
    window.move(max(x, rect.left()), max(y, rect.top()))
    logger.info("window kept within the screen (%sx%s)", rect.width(), rect.height())
    return True


class ControlRoomLayout(QObject):
    """Arranges a main window's docks for one screen and keeps the window on it."""

    def __init__(
        self,
        window: QMainWindow,
        *,
        map_dock: QDockWidget,
        detail_dock: QDockWidget,
        log_dock: QDockWidget,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._map_dock = map_dock
        self._detail_dock = detail_dock
        self._log_dock = log_dock
        self._shown = False
        self.map_share = MAP_SHARE
        """Part of the width the map takes (the wall display gives it more)."""
        self.restored = False
        """Whether a saved layout was restored (then the proportions are left alone)."""
        window.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        fit_default_size(window)
        window.installEventFilter(self)

    def apply_proportions(self) -> None:
        """Give the map, the queue and the detail their shares of the window."""
        width, height = self._window.width(), self._window.height()
        self._window.resizeDocks(
            [self._map_dock, self._detail_dock],
            [int(width * self.map_share), int(width * DETAIL_SHARE)],
            Qt.Orientation.Horizontal,
        )
        self._window.resizeDocks(
            [self._log_dock], [int(height * LOG_SHARE)], Qt.Orientation.Vertical
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """On the first show, put the window on its screen and lay out the default
        proportions (unless a saved layout was restored)."""
        if watched is self._window and event.type() == QEvent.Type.Show and not self._shown:
            self._shown = True
            keep_on_screen(self._window)
            if not self.restored:
                self.apply_proportions()
        return False
