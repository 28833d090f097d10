"""The login dialog: server address, user name, password, the second-factor code (shown
when the server asks for it) and the CA certificate that verifies a ``wss://`` server."""

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
from realtime.client import server_urls
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
        *,
        ca_file: str = "",
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
        self.server_edit.setToolTip(
            self.tr(
                "Several servers (instances of one system) separated by commas: the console "
                "moves to the next when one cannot be reached."
            )
        )
        form.addRow(self.tr("Server:"), self.server_edit)
        self.user_edit = QLineEdit(username, self)
        self.user_edit.setObjectName("user_edit")
        form.addRow(self.tr("User:"), self.user_edit)
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("password_edit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Password:"), self.password_edit)
        self.code_edit = QLineEdit(self)
        self.code_edit.setObjectName("code_edit")
        self.code_edit.setMaxLength(8)
        self.code_edit.setPlaceholderText(self.tr("6 digits from the authenticator app"))
        form.addRow(self.tr("Verification code:"), self.code_edit)
        self._code_label = form.labelForField(self.code_edit)
        self._show_code_field(False)
        self.ca_edit = QLineEdit(ca_file, self)
        self.ca_edit.setObjectName("ca_edit")
        self.ca_edit.setPlaceholderText(self.tr("for wss:// only; empty: the system's CAs"))
        form.addRow(self.tr("CA certificate:"), self.ca_edit)
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
        urls = server_urls(url)
        if not urls or not all(one.startswith(("ws://", "wss://")) for one in urls):
            self.show_error(self.tr("Each server address must start with ws:// or wss://."))
            return
        if not username or not password:
            self.show_error(self.tr("Enter the user name and the password."))
            return
        self.set_busy(True)
        self.login_requested.emit(url, username, password)

    def totp_code(self) -> str:
        """The second-factor code typed (empty when none was asked for)."""
        return "" if self.code_edit.isHidden() else self.code_edit.text().strip()

    def ca_file(self) -> str:
        """The CA certificate file that verifies the server ("" for the system's CAs)."""
        return self.ca_edit.text().strip()

    def ask_for_code(self, text: str) -> None:
        """The server wants a second-factor code: show the field and say why."""
        self._show_code_field(True)
        self.show_error(text)
        self.code_edit.clear()
        self.code_edit.setFocus()

    def _show_code_field(self, shown: bool) -> None:
        self.code_edit.setVisible(shown)
        if self._code_label is not None:
            self._code_label.setVisible(shown)

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
