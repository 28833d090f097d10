"""The cameras the officer may watch (read after login by the console model), drawn on
the map's cameras layer, and opened in a video window when clicked (one per camera)."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desktop.map.layers import LayerKey
from desktop.map.registry_layers import MapPoint
from desktop.map.view import MapView
from desktop.multimedia import failure, load_multimedia
from realtime.protocol import CameraView

if TYPE_CHECKING:
    # Imported when a video opens: QtMultimedia may be missing (the console starts anyway).
    from desktop.video.player import CameraVideoWindow

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
NEARBY_M = 2_000.0
"""How far from an alarm a camera still counts as watching it."""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS-84 points, metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def camera_label(camera: CameraView) -> str:
    """What hovering over a camera on the map shows: its name, and what it watches."""
    watched = " · ".join(part for part in (camera.hazard_source, camera.enterprise) if part)
    return f"{camera.name}\n{watched}" if watched else camera.name


class CameraDirectory(QObject):
    """Keeps the cameras list, their map layer and their video windows in step."""

    cameras_loaded = Signal(list)
    """The cameras arrived (a list of :class:`~realtime.protocol.CameraView`)."""
    window_opened = Signal(object)
    """A video window was opened or brought to the front (a :class:`CameraVideoWindow`)."""
    message = Signal(str, bool)
    """Something to tell the officer: (text, is it an error)."""

    def __init__(self, map_view: MapView, window_parent: QWidget | None = None) -> None:
        super().__init__(window_parent)
        self._map_view = map_view
        self._window_parent = window_parent
        self.cameras: dict[str, CameraView] = {}
        self.windows: dict[str, CameraVideoWindow] = {}
        map_view.point_clicked.connect(self._on_point_clicked)

    def set_cameras(self, cameras: list[CameraView]) -> None:
        """Show ``cameras`` on the map (replacing what was there)."""
        self.cameras = {camera.code: camera for camera in cameras}
        self._map_view.cameras.set_points(
            MapPoint(id=camera.code, lon=camera.lon, lat=camera.lat, label=camera_label(camera))
            for camera in cameras
        )
        logger.info("%s cameras on the map", len(cameras))
        self.cameras_loaded.emit(list(cameras))

    def open_video(self, code: str) -> CameraVideoWindow | None:
        """Open the video window of camera ``code`` (or bring its open window forward)."""
        window = self.windows.get(code)
        if window is None:
            camera = self.cameras.get(code)
            if camera is None:
                return None
            if load_multimedia() is None:
                self.message.emit(
                    self.tr("Video is unavailable on this computer: {reason}").format(
                        reason=failure()
                    ),
                    True,
                )
                return None
            from desktop.video.player import CameraVideoWindow  # noqa: PLC0415 - see above

            window = CameraVideoWindow(camera, self._window_parent)
            window.closed.connect(self._forget_window)
            self.windows[code] = window
        window.show()
        window.raise_()
        window.activateWindow()
        self.window_opened.emit(window)
        return window

    def near(self, lat: float, lon: float, radius_m: float = NEARBY_M) -> list[CameraView]:
        """The cameras within ``radius_m`` of a point, nearest first."""
        found = [
            (distance_m(lat, lon, camera.lat, camera.lon), camera)
            for camera in self.cameras.values()
        ]
        return [
            camera for distance, camera in sorted(found, key=lambda f: f[0]) if distance <= radius_m
        ]

    def open_nearest(self, lat: float, lon: float) -> CameraVideoWindow | None:
        """Open the video of the camera nearest to a point, if one is within reach."""
        nearby = self.near(lat, lon)
        return self.open_video(nearby[0].code) if nearby else None

    def close_all(self) -> None:
        """Close every video window (the console is closing)."""
        for window in list(self.windows.values()):
            window.close()
        self.windows.clear()

    def _forget_window(self, code: str) -> None:
        window = self.windows.pop(code, None)
        if window is not None:
            window.deleteLater()

    def _on_point_clicked(self, layer: str, object_id: str) -> None:
        if layer == LayerKey.CAMERAS:
            self.open_video(object_id)

    def show_load_error(self, code: str, message: str) -> None:
        """Tell the officer the cameras could not be loaded."""
        logger.warning("cameras not loaded: %s %s", code, message)
        self.message.emit(
            self.tr("Cameras could not be loaded: {reason}").format(reason=message), True
        )
