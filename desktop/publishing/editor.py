"""The draft editor (起草/修改): kind, level (in its colour), title, event, body,
instruction, audience, channels, and the area as jurisdictions and/or a polygon typed as
``lat,lon`` points. The server checks everything again; the editor only says early what
it would refuse."""

from __future__ import annotations

import re

import msgspec
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.places import jurisdiction_name
from desktop.plain_text import plain_label
from desktop.publishing import drafts
from desktop.publishing.labels import (
    LEVEL_COLOURS,
    audience_label,
    channel_label,
    kind_label,
    level_label,
)
from realtime.protocol import (
    Audience,
    Channel,
    NoticeArea,
    NoticeInput,
    NoticeKind,
    WarningLevel,
)

_CODES = re.compile(r"[\s,，;；、]+")


class NoticeEditor(QDialog):
    """Edits one :class:`~realtime.protocol.NoticeInput`; :meth:`notice` reads it back."""

    def __init__(self, notice: NoticeInput | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_editor")
        self.setWindowTitle(self.tr("Draft a notice"))
        self.kind = QComboBox(self)
        for kind in NoticeKind:
            self.kind.addItem(kind_label(kind), kind)
        self.level = QComboBox(self)
        for level in (
            WarningLevel.RED,
            WarningLevel.ORANGE,
            WarningLevel.YELLOW,
            WarningLevel.BLUE,
        ):
            self.level.addItem(level_label(level), level)
            self.level.setItemData(
                self.level.count() - 1, QColor(LEVEL_COLOURS[level]), Qt.ItemDataRole.DecorationRole
            )
        self.level.currentIndexChanged.connect(self._paint_level)
        self.title = QLineEdit(self)
        self.title.setMaxLength(drafts.TITLE_LIMIT)
        self.event_name = QLineEdit(self)
        self.event_name.setPlaceholderText(self.tr("e.g. hazardous chemical leak, rainstorm"))
        self.body = QPlainTextEdit(self)
        self.instruction = QPlainTextEdit(self)
        self.instruction.setPlaceholderText(self.tr("What recipients should do"))
        self.audience = {a: QCheckBox(audience_label(a), self) for a in Audience}
        self.channels = {c: QCheckBox(channel_label(c), self) for c in Channel}
        self.jurisdictions = QLineEdit(self)
        self.jurisdictions.setPlaceholderText(self.tr("region codes, e.g. 330106 330105"))
        self.jurisdictions.textChanged.connect(self._name_places)
        self.places = plain_label(parent=self)
        self.places.setWordWrap(True)
        self.polygon = QPlainTextEdit(self)
        self.polygon.setPlaceholderText(self.tr("optional: lat,lon; lat,lon; lat,lon"))
        self.polygon.setMaximumHeight(60)
        self.description = QLineEdit(self)
        self.description.setPlaceholderText(self.tr("the area in words (default: the places)"))
        self.error = plain_label(parent=self)
        self.error.setObjectName("notice_editor_error")
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        self._lay_out()
        self.resize(560, 640)
        self._from_warning: int | None = None
        self.set_notice(notice)

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow(self.tr("Kind"), self.kind)
        form.addRow(self.tr("Level"), self.level)
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Event"), self.event_name)
        form.addRow(self.tr("Text"), self.body)
        form.addRow(self.tr("Instruction"), self.instruction)
        form.addRow(self.tr("For"), _row(self, list(self.audience.values())))
        form.addRow(self.tr("Channels"), _row(self, list(self.channels.values())))
        form.addRow(self.tr("Jurisdictions"), self.jurisdictions)
        form.addRow("", self.places)
        form.addRow(self.tr("Polygon"), self.polygon)
        form.addRow(self.tr("Area description"), self.description)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def set_notice(self, notice: NoticeInput | None) -> None:
        """Show ``notice`` (None: an empty warning for enterprises and agencies)."""
        if notice is None:
            notice = NoticeInput(
                kind=NoticeKind.WARNING,
                level=WarningLevel.BLUE,
                title="-",
                body="-",
                area=NoticeArea(),
                audience=[Audience.ENTERPRISES, Audience.AGENCIES],
                channels=[Channel.CONSOLE],
            )
            notice = msgspec.structs.replace(notice, title="", body="")
        self.kind.setCurrentIndex(self.kind.findData(notice.kind))
        self.level.setCurrentIndex(self.level.findData(notice.level))
        self.title.setText(notice.title)
        self.event_name.setText(notice.event)
        self.body.setPlainText(notice.body)
        self.instruction.setPlainText(notice.instruction)
        for audience, box in self.audience.items():
            box.setChecked(audience in notice.audience)
        for channel, box in self.channels.items():
            box.setChecked(channel in notice.channels)
        self.jurisdictions.setText(" ".join(notice.area.jurisdictions))
        self.polygon.setPlainText(drafts.polygon_text(list(notice.area.polygon)))
        self.description.setText(notice.area.description)
        self._from_warning = notice.from_warning
        self._paint_level()

    def notice(self) -> NoticeInput:
        """The notice as entered; raise :class:`drafts.Error` or
        :class:`msgspec.ValidationError` saying what is wrong."""
        codes = [code for code in _CODES.split(self.jurisdictions.text()) if code]
        polygon = drafts.parse_polygon(self.polygon.toPlainText())
        audience = [a for a, box in self.audience.items() if box.isChecked()]
        channels = [c for c, box in self.channels.items() if box.isChecked()]
        if not audience:
            raise drafts.Error(self.tr("Choose who the notice is for."))
        if not channels:
            raise drafts.Error(self.tr("Choose at least one channel."))
        raw = {
            "kind": self.kind.currentData(),
            "level": self.level.currentData(),
            "title": self.title.text().strip(),
            "body": self.body.toPlainText().strip(),
            "event": self.event_name.text().strip(),
            "instruction": self.instruction.toPlainText().strip(),
            "area": {
                "jurisdictions": codes,
                "polygon": polygon,
                "description": self.description.text().strip(),
            },
            "audience": audience,
            "channels": channels,
            "from_warning": self._from_warning,
        }
        return msgspec.convert(raw, NoticeInput)

    def _accept(self) -> None:
        try:
            self.notice()
        except (drafts.Error, msgspec.ValidationError) as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        self.accept()

    def _name_places(self, text: str) -> None:
        names = [jurisdiction_name(code) for code in _CODES.split(text) if code]
        self.places.setText("、".join(names))

    def _paint_level(self) -> None:
        level = self.level.currentData()
        if isinstance(level, WarningLevel):
            self.level.setStyleSheet(
                f"QComboBox {{ border-left: 8px solid {LEVEL_COLOURS[level]}; }}"
            )


def _row(parent: QWidget, widgets: list[QCheckBox]) -> QWidget:
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return holder
