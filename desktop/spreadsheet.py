"""Text for files a duty officer opens in a spreadsheet (CSV exports of trends and tracks).

No Qt here: the exporters that use it are plain models.
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Return ``text`` as a spreadsheet shows it literally.

    A cell a peer named ``=HYPERLINK(…)`` (or starting with ``+ - @``) would run as a
    formula in Excel, so it gets a leading apostrophe. For text columns only, never for
    numbers.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
