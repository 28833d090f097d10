"""Text the console did not write itself is shown as plain text, never as markup.

Qt guesses: a :class:`QLabel` in its default format and every tooltip render their text
as rich text when it looks like markup (``Qt.mightBeRichText``), and pyqtgraph draws
legends and axis titles as HTML. A description ``<font size=7 color=red>全部撤离</font>``
from a device would then show as large red text, and markup could hide or fake any field.
Alarm titles, places, callers, unit, camera, sensor and vehicle names, geofence names,
notes, user names and the server's messages all come from outside; so the console's
one policy is:

- every label is made by :func:`plain_label` (or made plain by :func:`make_plain`);
- the few labels that mix the console's own markup with outside text are made by
  :func:`rich_label` and put that text through :func:`escape`;
- every tooltip goes through :func:`plain_tooltip`;
- text for pyqtgraph's HTML items (legend entries, axis titles) goes through
  :func:`escape`, and text for its format strings through :func:`format_literal`.

``tests/desktop/test_plain_text.py`` walks the whole window after loading hostile data
and fails on any label, tooltip or drawn text that renders outside text as markup.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel, QWidget

OWN_MARKUP_PROPERTY = "dutydeskOwnMarkup"
"""Set (True) on the labels allowed to render rich text: the console's own markup only."""


def make_plain(label: QLabel) -> QLabel:
    """Make ``label`` show its text literally, whatever it looks like; return it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """Return a label that shows ``text`` (and any text set later) literally."""
    label = make_plain(QLabel(parent))
    label.setText(text)
    return label


def rich_label(parent: QWidget | None = None) -> QLabel:
    """Return a label for the console's own markup; outside text in it must be escaped."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(False)
    label.setProperty(OWN_MARKUP_PROPERTY, True)
    return label


def escape(text: str) -> str:
    """Return ``text`` as rich text that shows it literally."""
    return html.escape(text, quote=True)


def plain_tooltip(text: str) -> str:
    """Return a tooltip that shows ``text`` literally (line breaks kept); '' stays ''.

    Escaping alone is not enough: a tooltip without tags is shown as plain text, entities
    and all. So the text is escaped *and* wrapped in a paragraph, which Qt always takes
    as rich text.
    """
    return QtGuiNamespace.convertFromPlainText(text) if text else ""


def format_literal(text: str) -> str:
    """Return ``text`` for a ``str.format`` template (pyqtgraph's line labels are)."""
    return text.replace("{", "{{").replace("}", "}}")
