"""The login dialog: server address, user name, password."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.plain_text import plain_label
from realtime.protocol import CONSOLE_PATH

DEFAULT_SERVER_URL = f"ws://127.0.0.1:8765{CONSOLE_PATH}"


class LoginDialog(QDialog):
    """Collects credentials and shows why a login failed; emits :attr:`login_requested`."""

    login_requested = Signal(str, str, str)
    """(server URL, user name, password)."""

    def __init__(
        self,
        server_url: str = DEFAULT_SERVER_URL,
        username: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.setWindowTitle(self.tr("DutyDesk – log in"))
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        self.server_edit = QLineEdit(server_url, self)
        self.server_edit.setObjectName("server_edit")
        form.addRow(self.tr("Server:"), self.server_edit)
        self.user_edit = QLineEdit(username, self)
        self.user_edit.setObjectName("user_edit")
        form.addRow(self.tr("User:"), self.user_edit)
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("password_edit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Password:"), self.password_edit)
        self.message_label = plain_label(parent=self)
        self.message_label.setObjectName("login_message_label")
        self.message_label.setWordWrap(True)
        layout.addWidget(self.message_label)
        box = QDialogButtonBox(self)
        self.login_button = box.addButton(self.tr("Log in"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setObjectName("login_button")
        box.addButton(self.tr("Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.submit)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        (self.password_edit if username else self.user_edit).setFocus()

    def submit(self) -> None:
        """Check the fields and ask for a login (the dialog stays open until it succeeds)."""
        url = self.server_edit.text().strip()
        username = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not url.startswith(("ws://", "wss://")):
            self.show_error(self.tr("The server address must start with ws:// or wss://."))
            return
        if not username or not password:
            self.show_error(self.tr("Enter the user name and the password."))
            return
        self.set_busy(True)
        self.login_requested.emit(url, username, password)

    def set_busy(self, busy: bool) -> None:
        """Show that a login is under way (and prevent a second one)."""
        self.login_button.setEnabled(not busy)
        if busy:
            self.message_label.setStyleSheet("")
            self.message_label.setText(self.tr("Connecting…"))

    def show_error(self, text: str) -> None:
        """Show why the login failed and allow another try."""
        self.set_busy(False)
        self.message_label.setStyleSheet("color: #c62828;")
        self.message_label.setText(text)
