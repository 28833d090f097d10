"""The console's entries for reporting from the grid: the "Grid" menu with "Report an
event…" (事件上报…) and "My reports" (我的上报), and, for town and village officers, a
toolbar that puts "Report an event…" in front of them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QToolBar

from desktop.incidents.catalogue_state import CatalogueState
from desktop.incidents.my_reports import MyReportsView
from desktop.incidents.report_form import ReportDialog
from desktop.incidents.report_state import is_grid_user, may_report
from desktop.map.point_pick import PointPickTool
from desktop.map.view import MapView
from desktop.service import ConsoleService
from realtime.protocol import ReportView, Welcome


class GridReportActions(QObject):
    """Opens the report form and the list of the user's own reports."""

    def __init__(
        self,
        window: QMainWindow,
        service: ConsoleService,
        catalogue: CatalogueState,
        map_view: MapView | None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self._catalogue = catalogue
        self.pick_tool = PointPickTool(map_view) if map_view is not None else None
        self.report_dialog: ReportDialog | None = None
        self.my_reports: MyReportsView | None = None
        self.report_action = QAction(
            QCoreApplication.translate("MainWindow", "Report an event…"), window
        )
        self.report_action.setObjectName("report_event_action")
        self.report_action.triggered.connect(self.open_report)
        self.my_reports_action = QAction(
            QCoreApplication.translate("MainWindow", "My reports"), window
        )
        self.my_reports_action.setObjectName("my_reports_action")
        self.my_reports_action.triggered.connect(self.open_my_reports)
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Grid"))
        menu.addAction(self.report_action)
        menu.addAction(self.my_reports_action)
        self.toolbar = QToolBar(QCoreApplication.translate("MainWindow", "Grid reports"), window)
        self.toolbar.setObjectName("grid_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.report_action)
        self.toolbar.addAction(self.my_reports_action)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self._on_welcome(None)
        service.welcomed.connect(self._on_welcome)

    def _on_welcome(self, _welcome: Welcome | None) -> None:
        user = self._service.user
        self.report_action.setEnabled(may_report(user))
        self.my_reports_action.setEnabled(may_report(user))
        # Grid officers report events all day: the entry stays in front of them.
        self.toolbar.setVisible(is_grid_user(user))

    def open_report(self) -> ReportDialog:
        """Show the report form (a fresh one once the last report was taken)."""
        dialog = self.report_dialog
        if dialog is None or dialog.report is not None:
            if dialog is not None:
                dialog.deleteLater()
            if self.pick_tool is not None:
                self.pick_tool.clear()  # the last report's marker
            dialog = ReportDialog(self._service, self._catalogue, self.pick_tool, self._window)
            dialog.reported.connect(self._on_reported)
            self.report_dialog = dialog
        dialog.show()
        return dialog

    def open_my_reports(self) -> MyReportsView:
        """Show the user's own reports (read afresh)."""
        if self.my_reports is None:
            self.my_reports = MyReportsView(self._service, self._window)
            self.my_reports.setWindowFlag(Qt.WindowType.Window, True)
        self.my_reports.show()
        self.my_reports.reload()
        return self.my_reports

    def _on_reported(self, report: ReportView) -> None:
        if self.my_reports is not None:
            self.my_reports.add(report)
