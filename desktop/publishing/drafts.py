"""Plain helpers of the draft editor (no widgets): a draft from an early warning, and the
polygon typed as text (``lat,lon; lat,lon; …``)."""

from __future__ import annotations

from realtime.protocol import (
    Audience,
    Channel,
    EarlyWarningView,
    NoticeArea,
    NoticeInput,
    NoticeKind,
)

TITLE_LIMIT = 120
BODY_LIMIT = 2000


class Error(Exception):
    """Text that does not read as a polygon; the message says where."""


def draft_from_warning(view: EarlyWarningView) -> NoticeInput:
    """A draft warning notice from an early warning: its level and title, its text as the
    body, for the enterprises and agencies of the hazard source's jurisdiction (the
    officer adds the public, a polygon and the instruction before submitting)."""
    body = view.detail or view.title
    if view.hazard_source:
        body = f"{body}（{view.hazard_source}）"
    return NoticeInput(
        kind=NoticeKind.WARNING,
        level=view.level,
        title=view.title[:TITLE_LIMIT],
        body=body[:BODY_LIMIT],
        area=NoticeArea(jurisdictions=[view.jurisdiction] if view.jurisdiction else []),
        audience=[Audience.ENTERPRISES, Audience.AGENCIES],
        channels=[Channel.CONSOLE, Channel.SMS],
        from_warning=view.id,
    )


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """``30.26,120.11; 30.26,120.13; 30.27,120.13`` → points (empty text: none); at least
    three points, each a latitude and a longitude in range."""
    points: list[tuple[float, float]] = []
    for number, part in enumerate(p for p in text.replace("\n", ";").split(";") if p.strip()):
        try:
            lat_text, lon_text = part.split(",")
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise Error(f"point {number + 1} is not 'latitude,longitude'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Error(f"point {number + 1} is out of range")
        points.append((lat, lon))
    if 0 < len(points) < 3:
        raise Error("a polygon needs at least 3 points")
    return points


def polygon_text(points: list[tuple[float, float]]) -> str:
    """The points as the editor shows them."""
    return "; ".join(f"{lat:g},{lon:g}" for lat, lon in points)
