"""The main window's actions, menus and toolbars (everything but the dock layout).

Menus are added in the order they appear: Alarm, View, Language (:func:`add_main_actions`),
Geofences (:func:`add_geofence_actions`), Cameras (:class:`AlarmCameraAction`). Their text
keeps the ``MainWindow`` translation context: these are the main window's menus.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from desktop.i18n import LANGUAGE_KEY, SUPPORTED_LANGUAGES
from desktop.sounder import AlarmSounder
from desktop.video.cameras import CameraDirectory


@dataclasses.dataclass(frozen=True, slots=True)
class MainActions:
    """The actions of the Alarm and View menus other code (and tests) reach."""

    new_alarm: QAction
    """Open the phone-report form (Ctrl+N)."""
    mute: QAction
    """Mute the alarm sound (checkable)."""


def add_main_actions(
    window: QMainWindow,
    *,
    sounder: AlarmSounder,
    settings: QSettings,
    docks: Iterable[QDockWidget],
    new_alarm: Callable[[], object],
    reset_layout: Callable[[], None],
    set_language: Callable[[str], None],
) -> MainActions:
    """Add the main toolbar and the Alarm, View and Language menus to ``window``.

    The View menu toggles ``docks`` in the order given; the Language menu checks the
    language saved in ``settings``.
    """
    new_alarm_action = QAction(QCoreApplication.translate("MainWindow", "New alarm…"), window)
    new_alarm_action.setObjectName("new_alarm_action")
    new_alarm_action.setShortcut(QKeySequence("Ctrl+N"))
    # Not the signal's checked flag: new_alarm takes no arguments.
    new_alarm_action.triggered.connect(lambda _checked=False: new_alarm())
    mute_action = QAction(QCoreApplication.translate("MainWindow", "Mute alarm sound"), window)
    mute_action.setObjectName("mute_action")
    mute_action.setCheckable(True)
    mute_action.setChecked(sounder.muted)
    mute_action.toggled.connect(sounder.set_muted)
    quit_action = QAction(QCoreApplication.translate("MainWindow", "Quit"), window)
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))
    quit_action.triggered.connect(window.close)
    reset_layout_action = QAction(QCoreApplication.translate("MainWindow", "Reset layout"), window)
    reset_layout_action.triggered.connect(reset_layout)

    toolbar = window.addToolBar(QCoreApplication.translate("MainWindow", "Main"))
    toolbar.setObjectName("main_toolbar")
    toolbar.addAction(new_alarm_action)
    toolbar.addAction(mute_action)

    file_menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Alarm"))
    file_menu.addAction(new_alarm_action)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)
    view_menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&View"))
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addAction(mute_action)
    view_menu.addAction(reset_layout_action)
    language_menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Language"))
    group = QActionGroup(window)
    current = str(settings.value(LANGUAGE_KEY, "zh_CN"))
    for code, name in SUPPORTED_LANGUAGES.items():
        action = QAction(name, window, checkable=True)
        action.setChecked(code == current)
        action.triggered.connect(lambda _checked=False, chosen=code: set_language(chosen))
        group.addAction(action)
        language_menu.addAction(action)
    return MainActions(new_alarm=new_alarm_action, mute=mute_action)


def add_geofence_actions(window: QMainWindow, actions: Iterable[QAction]) -> None:
    """Add the geofence editor's ``actions`` to a toolbar and a menu of ``window``."""
    toolbar = window.addToolBar(QCoreApplication.translate("MainWindow", "Geofences"))
    toolbar.setObjectName("geofence_toolbar")
    menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Geofences"))
    for action in actions:
        toolbar.addAction(action)
        menu.addAction(action)


class AlarmCameraAction:
    """The Cameras menu: watch the camera nearest the selected alarm (Ctrl+Shift+V).

    ``selected_place`` returns the (lat, lon) of the selected alarm, None when no alarm
    with a place is selected; :meth:`update` is called when the selection changes.
    """

    def __init__(
        self,
        window: QMainWindow,
        cameras: CameraDirectory,
        selected_place: Callable[[], tuple[float, float] | None],
    ) -> None:
        self._cameras = cameras
        self._selected_place = selected_place
        self.action = QAction(
            QCoreApplication.translate("MainWindow", "Watch the camera nearest the alarm"), window
        )
        self.action.setObjectName("alarm_camera_action")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.action.setEnabled(False)
        self.action.triggered.connect(self.watch)
        cameras.cameras_loaded.connect(self.update)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Cameras"))
        menu.addAction(self.action)

    def update(self, *_args: object) -> None:
        """Enable the action when a camera is near the selected alarm."""
        place = self._selected_place()
        self.action.setEnabled(place is not None and bool(self._cameras.near(*place)))

    def watch(self) -> bool:
        """Open the video of the camera nearest the selected alarm (within 2 km)."""
        place = self._selected_place()
        return place is not None and self._cameras.open_nearest(*place) is not None
