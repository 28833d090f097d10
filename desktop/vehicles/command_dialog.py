"""车辆指令: the dialog that sends an order to a vehicle terminal and shows its answer.

Choose the order, fill its fields, send. Orders that change the vehicle or the terminal
(door control, parameters, listening in) come back ``confirm_needed``: a second dialog
says what, to which vehicle and by whom, and only Yes sends it (``vehicle.confirm``). The
terminal's answer shows inline: the outcome, the position (and the doors), or the
parameters as a table. Orders the user's role may not send are greyed (the server
decides all the same).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import texts
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from desktop.vehicles import command_labels as labels
from realtime.protocol import (
    ConfirmVehicleCommand,
    ResultData,
    SendVehicleCommand,
    UserInfo,
    VehicleCommandResult,
    VehicleCommandView,
)
from realtime.protocol.vehicle_commands import (
    CallBack,
    CommandOutcome,
    DoorControl,
    ParameterValue,
    QueryParameters,
    QueryPosition,
    SetParameters,
    TemporaryTracking,
    VehicleControl,
    VehicleOrder,
)

logger = logging.getLogger(__name__)


class VehicleCommandDialog(QDialog):
    """Send one order at a time to ``device`` and show what the terminal answered."""

    follow_requested = Signal(str)
    """Show the vehicle on the map (after a position came back)."""

    def __init__(
        self,
        service: ConsoleService,
        device: str,
        vehicle: str,
        user: UserInfo | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vehicle_command_dialog")
        self.setWindowTitle(self.tr("Vehicle command – {vehicle}").format(vehicle=vehicle))
        self.setMinimumWidth(460)
        self._service = service
        self.device = device
        self.vehicle = vehicle
        self.user = user
        self._closed = False
        self.confirm_box: QMessageBox | None = None
        self.last: VehicleCommandView | None = None
        """The last view shown (an answer, or the request for confirmation)."""

        layout = QVBoxLayout(self)
        self.order_combo = QComboBox(self)
        self.order_combo.setObjectName("vehicle_order")
        self.stack = QStackedWidget(self)
        for tag in labels.ORDER_TAGS:
            self.order_combo.addItem(labels.order_label(tag), tag)
            self.stack.addWidget(self._page(tag))
        self._grey_by_role()
        self.order_combo.currentIndexChanged.connect(self.stack.setCurrentIndex)
        layout.addWidget(self.order_combo)
        layout.addWidget(self.stack)

        buttons = QHBoxLayout()
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setObjectName("vehicle_order_send")
        self.send_button.clicked.connect(self.send)
        self.send_button.setEnabled(labels.may_query(user))
        buttons.addWidget(self.send_button)
        self.map_button = QPushButton(self.tr("Show on map"), self)
        self.map_button.setEnabled(False)
        self.map_button.clicked.connect(lambda: self.follow_requested.emit(self.device))
        buttons.addWidget(self.map_button)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self.status_label = plain_label(parent=self)
        self.status_label.setObjectName("vehicle_order_status")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.answer_table = QTableWidget(0, 2, self)
        self.answer_table.setObjectName("vehicle_order_answer")
        self.answer_table.setHorizontalHeaderLabels([self.tr("Item"), self.tr("Value")])
        self.answer_table.verticalHeader().hide()
        self.answer_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.answer_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.answer_table, 1)

    # ------------------------------------------------------------------ the pages

    def _page(self, tag: str) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        if tag == "query_position":
            form.addRow(plain_label(self.tr("The terminal reports where it is now."), page))
        elif tag == "track":
            self.interval_spin = _spin(page, 1, 3600, 10, self.tr(" s"))
            self.duration_spin = _spin(page, 10, 86_400, 600, self.tr(" s"))
            form.addRow(self.tr("Report every"), self.interval_spin)
            form.addRow(self.tr("For"), self.duration_spin)
        elif tag == "call_back":
            self.phone_edit = QLineEdit(page)
            self.phone_edit.setObjectName("vehicle_call_back_phone")
            self.phone_edit.setPlaceholderText(self.tr("Number the terminal calls"))
            self.listen_check = QCheckBox(self.tr("Listen in (监听, supervisors, confirmed)"), page)
            self.listen_check.setEnabled(labels.may_control(self.user))
            form.addRow(self.tr("Phone"), self.phone_edit)
            form.addRow(self.listen_check)
        elif tag == "control":
            self.door_combo = QComboBox(page)
            self.door_combo.addItem(self.tr("Lock the doors"), DoorControl.LOCK.value)
            self.door_combo.addItem(self.tr("Unlock the doors"), DoorControl.UNLOCK.value)
            form.addRow(self.tr("Doors"), self.door_combo)
        elif tag == "set_parameters":
            self.parameter_combo = QComboBox(page)
            for identifier, label in labels.parameter_labels().items():
                self.parameter_combo.addItem(label, identifier)
            self.value_edit = QLineEdit(page)
            self.value_edit.setObjectName("vehicle_parameter_value")
            form.addRow(self.tr("Parameter"), self.parameter_combo)
            form.addRow(self.tr("Value"), self.value_edit)
            form.addRow(
                plain_label(self.tr("A wrong server address or port cuts the terminal off."), page)
            )
        else:
            self.all_check = QCheckBox(self.tr("All parameters"), page)
            self.all_check.setChecked(True)
            self.parameter_list = QListWidget(page)
            for identifier, label in labels.parameter_labels().items():
                item = QListWidgetItem(label, self.parameter_list)
                item.setData(Qt.ItemDataRole.UserRole, identifier)
                item.setCheckState(Qt.CheckState.Unchecked)
            self.all_check.toggled.connect(lambda on: self.parameter_list.setEnabled(not on))
            self.parameter_list.setEnabled(False)
            form.addRow(self.all_check)
            form.addRow(self.parameter_list)
        return page

    def _grey_by_role(self) -> None:
        """Orders the role may not send stay listed but cannot be chosen."""
        model = self.order_combo.model()
        for row, tag in enumerate(labels.ORDER_TAGS):
            allowed = (
                labels.may_control(self.user)
                if tag in labels.CONTROL_TAGS
                else labels.may_query(self.user)
            )
            item = model.item(row)  # type: ignore[attr-defined]
            item.setEnabled(allowed)

    def choose(self, tag: str) -> None:
        """Show the page of the order ``tag``."""
        self.order_combo.setCurrentIndex(labels.ORDER_TAGS.index(tag))

    # ------------------------------------------------------------------ sending

    def order(self) -> VehicleOrder | None:
        """The order as filled in; None (with the reason shown) when it is not complete."""
        tag = str(self.order_combo.currentData())
        if tag == "query_position":
            return QueryPosition()
        if tag == "track":
            return TemporaryTracking(
                interval_s=self.interval_spin.value(), duration_s=self.duration_spin.value()
            )
        if tag == "call_back":
            return self._call_back()
        if tag == "control":
            return VehicleControl(door=DoorControl(str(self.door_combo.currentData())))
        if tag == "set_parameters":
            return self._set_parameters()
        return self._query_parameters()

    def _call_back(self) -> CallBack | None:
        phone = self.phone_edit.text().strip()
        if not (3 <= len(phone) <= 20 and phone.replace("+", "").isdigit()):
            self.status_label.setText(self.tr("Enter the number to call: 3 to 20 digits."))
            return None
        return CallBack(phone=phone, listen=self.listen_check.isChecked())

    def _set_parameters(self) -> SetParameters | None:
        identifier = int(self.parameter_combo.currentData())
        text = self.value_edit.text().strip()
        if identifier in labels.STRING_PARAMETERS:
            value: int | str = text
        elif text.isdigit():
            value = int(text)
        else:
            self.status_label.setText(self.tr("The value must be a whole number."))
            return None
        return SetParameters(parameters=[ParameterValue(id=identifier, value=value)])

    def _query_parameters(self) -> QueryParameters | None:
        if self.all_check.isChecked():
            return QueryParameters()
        items = (self.parameter_list.item(row) for row in range(self.parameter_list.count()))
        ids = [
            int(item.data(Qt.ItemDataRole.UserRole))
            for item in items
            if item.checkState() is Qt.CheckState.Checked
        ]
        if not ids:
            self.status_label.setText(self.tr("Tick the parameters to read, or All."))
            return None
        return QueryParameters(ids=ids)

    def send(self) -> None:
        """Send the order filled in (a control order first asks for confirmation)."""
        order = self.order()
        if order is None:
            return
        self.status_label.setText(
            self.tr("Sending “{what}” to {vehicle}…").format(
                what=labels.describe(order), vehicle=self.vehicle
            )
        )
        self.send_button.setEnabled(False)
        self._service.query(
            SendVehicleCommand(req="", device=self.device, order=order),
            self._on_result,
            self._on_error,
        )

    def confirm(self, token: str) -> None:
        """Send the order waiting for confirmation."""
        self.status_label.setText(self.tr("Sending the confirmed order…"))
        self._service.query(
            ConfirmVehicleCommand(req="", token=token), self._on_result, self._on_error
        )

    def _on_result(self, result: ResultData) -> None:
        if self._closed or not isinstance(result, VehicleCommandResult):
            return
        self.send_button.setEnabled(True)
        view = result.command
        self.last = view
        if view.outcome is CommandOutcome.CONFIRM_NEEDED:
            self.status_label.setText(labels.outcome_label(view.outcome))
            self.ask_confirmation(view)
            return
        self.show_answer(view)

    def _on_error(self, code: str, message: str) -> None:
        if self._closed:
            return
        self.send_button.setEnabled(True)
        logger.info("order to %s failed: %s %s", self.device, code, message)
        self.status_label.setText(
            self.tr("The order was refused: {reason}").format(
                reason=f"{texts.error_summary(code)} ({message})"
            )
        )

    def ask_confirmation(self, view: VehicleCommandView) -> QMessageBox:
        """The second step: what, to which vehicle, by whom, until when; Yes sends."""
        by = self.user.display_name or self.user.username if self.user else view.requested_by
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Confirm the vehicle command"),
            self.tr(
                "Send to {vehicle}:\n{what}\n\nBy: {user}\nThis confirmation is valid until "
                "{until}."
            ).format(
                vehicle=self.vehicle,
                what=labels.describe(view.order),
                user=by,
                until=texts.format_time(view.confirm_by) if view.confirm_by else "–",
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("vehicle_command_confirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        token = view.token

        def clicked(button: object) -> None:
            if button is yes:
                self.confirm(token)
            else:
                self.status_label.setText(self.tr("Not sent: the order was not confirmed."))

        box.buttonClicked.connect(clicked)
        self.confirm_box = box
        box.open()
        return box

    def show_answer(self, view: VehicleCommandView) -> None:
        """The outcome in the status line; the position or the parameters in the table."""
        outcome = labels.outcome_label(view.outcome)
        if view.result:
            outcome = f"{outcome}: {labels.result_label(view.result)}"
        self.status_label.setText(
            self.tr("{vehicle} – {what}: {outcome}").format(
                vehicle=self.vehicle, what=labels.describe(view.order), outcome=outcome
            )
        )
        rows: list[tuple[str, str]] = []
        if view.position is not None:
            position = view.position
            rows += [
                (self.tr("Position"), f"{position.lat:.6f}, {position.lon:.6f}"),
                (self.tr("Speed"), f"{position.speed_kmh:.0f} km/h"),
                (self.tr("Reported at"), texts.format_time(position.at)),
            ]
            if position.door_locked is not None:
                doors = self.tr("locked") if position.door_locked else self.tr("unlocked")
                rows.append((self.tr("Doors"), doors))
            self.map_button.setEnabled(True)
        rows += [(labels.parameter_label(p.id), str(p.value)) for p in view.parameters]
        self.answer_table.setRowCount(len(rows))
        for row, (item, value) in enumerate(rows):
            self.answer_table.setItem(row, 0, QTableWidgetItem(item))
            self.answer_table.setItem(row, 1, QTableWidgetItem(value))

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)


def _spin(parent: QWidget, low: int, high: int, value: int, suffix: str) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin
