"""CAP 1.2 XML: :func:`encode_alert` and :func:`decode_alert` (sans-I/O).

The encoder writes UTF-8 in the namespace ``urn:oasis:names:tc:emergency:cap:1.2`` with
the elements in the schema's order (resources/cap/CAP-v1.2.xsd), and refuses a model
that would break the specification (an unclosed polygon, a naive time, a Restricted
alert without its restriction …) with :class:`CapError`.

The decoder reads documents from outside (a weather bureau's feed, a neighbour's
system), so it is hardened: it parses with expat directly and refuses any DOCTYPE —
hence every DTD, entity declaration and external entity (XXE, "billion laughs") —
before expat expands anything, and refuses documents over :data:`MAX_CAP_BYTES`. We do
not use defusedxml: the stdlib parser with the DOCTYPE handler raising gives the same
protection for the one thing we parse, without a dependency (CAP never needs a DTD).
Elements outside the CAP namespace (an XML signature) and CAP elements we do not model
are skipped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import xml.etree.ElementTree as ET  # only TreeBuilder and Element: expat parses
from collections.abc import Callable, Iterator
from typing import Final, NoReturn, TypeVar
from xml.parsers import expat

from backend.cap.model import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    Category,
    Certainty,
    Circle,
    MsgType,
    Point,
    Polygon,
    Scope,
    Severity,
    Status,
    Urgency,
)

NAMESPACE: Final = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_CAP_BYTES: Final = 512 * 1024
"""The largest document :func:`decode_alert` reads (a CAP alert is a few kilobytes)."""
MIN_POLYGON_POINTS: Final = 4

_NS: Final = "{" + NAMESPACE + "}"
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([-+])(\d\d):(\d\d)")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
_LANGUAGE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")
_RESTRICTED = re.compile(r"[\s,<&]")
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_E = TypeVar("_E", Status, MsgType, Scope, Category, Urgency, Severity, Certainty)


class Error(Exception):
    """Base of the CAP codec's errors."""


class CapError(Error):
    """A CAP document (or model) that cannot be read (written); the message says why in
    one line."""


def _fail(reason: str) -> NoReturn:
    raise CapError(reason)


# --- writing ---------------------------------------------------------------------------


def format_time(value: dt.datetime) -> str:
    """``2026-12-05T10:00:00+08:00``: whole seconds, the value's own offset; UTC as
    ``-00:00`` (CAP 1.2 section 3.3.2: "The timezone for UTC MUST be represented as
    -00:00"). An offset that is not whole minutes is written in UTC."""
    offset = value.utcoffset()
    if offset is None:
        _fail(f"a CAP time must carry its offset: {value.isoformat()}")
    if offset % dt.timedelta(minutes=1):
        value, offset = value.astimezone(dt.UTC), dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes <= 0 else "+"
    hours, minute = divmod(abs(minutes), 60)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{sign}{hours:02d}:{minute:02d}"
    )


def _number(value: float) -> str:
    """Plain decimal notation (CAP has no exponents), as short as round-trips."""
    if not math.isfinite(value):
        _fail(f"not a finite number: {value}")
    text = format(decimal.Decimal(repr(value)), "f")
    return "0" if text in {"-0", "-0.0"} else text


def _point(point: Point) -> str:
    lat, lon = point
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        _fail(f"point out of range: {lat},{lon}")
    return f"{_number(lat)},{_number(lon)}"


def _check_polygon(polygon: Polygon) -> None:
    if len(polygon) < MIN_POLYGON_POINTS:
        _fail(f"a polygon needs at least {MIN_POLYGON_POINTS} points, got {len(polygon)}")
    if polygon[0] != polygon[-1]:
        _fail("a polygon's first point must equal its last")


def _token(name: str, value: str) -> str:
    if not value or _RESTRICTED.search(value):
        _fail(f"{name} must be non-empty without spaces, commas, '<' or '&': {value!r}")
    return value


def _escape(text: str) -> str:
    text = _NOT_XML.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")  # a parser would fold a raw CR into LF
    )


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def leaf(self, name: str, text: str) -> None:
        self.lines.append(f"{'  ' * self.depth}<{name}>{_escape(text)}</{name}>")

    def optional(self, name: str, text: str) -> None:
        if text:
            self.leaf(name, text)

    def open(self, name: str, attributes: str = "") -> None:
        self.lines.append(f"{'  ' * self.depth}<{name}{attributes}>")
        self.depth += 1

    def close(self, name: str) -> None:
        self.depth -= 1
        self.lines.append(f"{'  ' * self.depth}</{name}>")

    def pairs(self, name: str, pairs: tuple[tuple[str, str], ...]) -> None:
        for value_name, value in pairs:
            self.open(name)
            self.leaf("valueName", value_name)
            self.leaf("value", value)
            self.close(name)


def encode_alert(alert: CapAlert) -> bytes:
    """The alert as a CAP 1.2 XML document (UTF-8). Raises :class:`CapError` for a model
    the specification does not allow. Characters XML cannot carry are dropped."""
    out = _Writer()
    out.open("alert", f' xmlns="{NAMESPACE}"')
    out.leaf("identifier", _token("identifier", alert.identifier))
    out.leaf("sender", _token("sender", alert.sender))
    out.leaf("sent", format_time(alert.sent))
    out.leaf("status", Status(alert.status))
    out.leaf("msgType", MsgType(alert.msg_type))
    out.leaf("scope", Scope(alert.scope))
    if alert.scope is Scope.RESTRICTED and not alert.restriction:
        _fail("a Restricted alert needs its restriction")
    if alert.scope is Scope.PRIVATE and not alert.addresses:
        _fail("a Private alert needs its addresses")
    out.optional("restriction", alert.restriction)
    out.optional("addresses", alert.addresses)
    out.optional("note", alert.note)
    if alert.references:
        out.leaf("references", " ".join(_reference(ref) for ref in alert.references))
    for info in alert.infos:
        _write_info(out, info)
    out.close("alert")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(out.lines) + "\n").encode()


def _reference(ref: CapReference) -> str:
    sender = _token("a reference's sender", ref.sender)
    identifier = _token("a reference's identifier", ref.identifier)
    return f"{sender},{identifier},{format_time(ref.sent)}"


def _write_info(out: _Writer, info: CapInfo) -> None:
    if not _LANGUAGE.fullmatch(info.language):
        _fail(f"not a language tag: {info.language!r}")
    if not info.categories:
        _fail("an info needs at least one category")
    out.open("info")
    out.leaf("language", info.language)
    for category in info.categories:
        out.leaf("category", Category(category))
    out.leaf("event", info.event)
    out.leaf("urgency", Urgency(info.urgency))
    out.leaf("severity", Severity(info.severity))
    out.leaf("certainty", Certainty(info.certainty))
    if info.onset is not None:
        out.leaf("onset", format_time(info.onset))
    if info.expires is not None:
        out.leaf("expires", format_time(info.expires))
    out.optional("senderName", info.sender_name)
    out.optional("headline", info.headline)
    out.optional("description", info.description)
    out.optional("instruction", info.instruction)
    out.optional("web", info.web)
    out.optional("contact", info.contact)
    out.pairs("parameter", info.parameters)
    for area in info.areas:
        out.open("area")
        out.leaf("areaDesc", area.description)
        for polygon in area.polygons:
            _check_polygon(polygon)
            out.leaf("polygon", " ".join(_point(point) for point in polygon))
        for lat, lon, radius in area.circles:
            if not radius >= 0:
                _fail(f"a circle's radius must be >= 0 km: {radius}")
            out.leaf("circle", f"{_point((lat, lon))} {_number(radius)}")
        out.pairs("geocode", area.geocodes)
        out.close("area")
    out.close("info")


# --- reading ---------------------------------------------------------------------------


def _refuse_doctype(*_: object) -> None:
    _fail("refused: a DOCTYPE (DTDs and entity declarations are not allowed in CAP)")


def _refuse_external_entity(*_: str | None) -> int:
    _fail("refused: an external entity")


def _parse(data: bytes) -> ET.Element:
    if len(data) > MAX_CAP_BYTES:
        _fail(f"document too large: {len(data)} bytes (at most {MAX_CAP_BYTES})")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_external_entity

    def qualified(name: str) -> str:
        return "{" + name if "}" in name else name

    def start(name: str, _attributes: dict[str, str]) -> None:
        builder.start(qualified(name), {})

    def end(name: str) -> None:
        builder.end(qualified(name))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        _fail(f"not XML: {expat.ErrorString(exc.code)} at line {exc.lineno}")
    return builder.close()


def _children(parent: ET.Element, name: str) -> Iterator[ET.Element]:
    return iter(parent.findall(_NS + name))


def _text(parent: ET.Element, name: str, *, where: str, required: bool = False) -> str:
    element = parent.find(_NS + name)
    if element is None:
        if required:
            _fail(f"missing required element {name} in {where}")
        return ""
    return element.text or ""


def _word(parent: ET.Element, name: str, *, where: str) -> str:
    return _text(parent, name, where=where, required=True).strip()


def _enum(kind: Callable[[str], _E], text: str, name: str) -> _E:
    try:
        return kind(text.strip())
    except ValueError:
        _fail(f"bad {name}: {text.strip()!r}")


def parse_time(text: str, name: str = "time") -> dt.datetime:
    """A CAP date-time (``2026-12-05T10:00:00+08:00``; ``-00:00`` is UTC)."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        _fail(f"bad {name}: {text.strip()!r} (expected YYYY-MM-DDThh:mm:ss+hh:mm)")
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        offset = dt.timedelta(hours=int(off_h), minutes=int(off_m))
        zone = dt.timezone(-offset if sign == "-" else offset)
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    except ValueError as exc:
        _fail(f"bad {name}: {text.strip()!r} ({exc})")


def _coordinate(text: str, low: float, high: float, where: str) -> float:
    if not _NUMBER.fullmatch(text):
        _fail(f"bad {where}: not a number {text!r}")
    value = float(text)
    if not low <= value <= high:
        _fail(f"bad {where}: {value} out of range")
    return value


def _parse_point(text: str, where: str) -> Point:
    parts = text.split(",")
    if len(parts) != 2:
        _fail(f"bad {where}: {text!r} is not lat,lon")
    return (_coordinate(parts[0], -90, 90, where), _coordinate(parts[1], -180, 180, where))


def parse_polygon(text: str) -> Polygon:
    """``lat,lon lat,lon …``: at least four points, closed."""
    polygon = tuple(_parse_point(pair, "polygon") for pair in text.split())
    try:
        _check_polygon(polygon)
    except CapError as exc:
        _fail(f"bad polygon: {exc}")
    return polygon


def _parse_circle(text: str) -> Circle:
    parts = text.split()
    if len(parts) != 2:
        _fail(f"bad circle: {text.strip()!r} is not 'lat,lon radius'")
    lat, lon = _parse_point(parts[0], "circle")
    return (lat, lon, _coordinate(parts[1], 0, math.inf, "circle radius"))


def _pairs(parent: ET.Element, name: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (_text(child, "valueName", where=name, required=True),
         _text(child, "value", where=name, required=True))
        for child in _children(parent, name)
    )  # fmt: skip


def _parse_references(text: str) -> tuple[CapReference, ...]:
    references = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            _fail(f"bad references: {triple!r} is not sender,identifier,sent")
        references.append(CapReference(parts[0], parts[1], parse_time(parts[2], "references")))
    return tuple(references)


def _parse_area(element: ET.Element) -> CapArea:
    return CapArea(
        description=_text(element, "areaDesc", where="area", required=True),
        polygons=tuple(parse_polygon(e.text or "") for e in _children(element, "polygon")),
        circles=tuple(_parse_circle(e.text or "") for e in _children(element, "circle")),
        geocodes=_pairs(element, "geocode"),
    )


def _optional_time(element: ET.Element, name: str) -> dt.datetime | None:
    found = element.find(_NS + name)
    return None if found is None else parse_time(found.text or "", name)


def _parse_info(element: ET.Element) -> CapInfo:
    categories = tuple(
        _enum(Category, child.text or "", "category") for child in _children(element, "category")
    )
    if not categories:
        _fail("missing required element category in info")
    return CapInfo(
        language=_text(element, "language", where="info").strip() or "en-US",
        categories=categories,
        event=_text(element, "event", where="info", required=True),
        urgency=_enum(Urgency, _word(element, "urgency", where="info"), "urgency"),
        severity=_enum(Severity, _word(element, "severity", where="info"), "severity"),
        certainty=_enum(Certainty, _word(element, "certainty", where="info"), "certainty"),
        headline=_text(element, "headline", where="info"),
        description=_text(element, "description", where="info"),
        instruction=_text(element, "instruction", where="info"),
        sender_name=_text(element, "senderName", where="info"),
        onset=_optional_time(element, "onset"),
        expires=_optional_time(element, "expires"),
        web=_text(element, "web", where="info").strip(),
        contact=_text(element, "contact", where="info"),
        parameters=_pairs(element, "parameter"),
        areas=tuple(_parse_area(area) for area in _children(element, "area")),
    )


def decode_alert(data: bytes) -> CapAlert:
    """Read one CAP 1.2 ``alert`` document. Raises :class:`CapError` with a one-line
    reason for anything that is not one (hostile documents included)."""
    root = _parse(data)
    if root.tag != _NS + "alert":
        if root.tag.startswith("{"):
            _fail(f"wrong namespace: {root.tag[1:].partition('}')[0]!r} (expected {NAMESPACE})")
        _fail(f"not a CAP alert: root element {root.tag!r} (expected alert in {NAMESPACE})")
    where = "alert"
    return CapAlert(
        identifier=_word(root, "identifier", where=where),
        sender=_word(root, "sender", where=where),
        sent=parse_time(_word(root, "sent", where=where), "sent"),
        status=_enum(Status, _word(root, "status", where=where), "status"),
        msg_type=_enum(MsgType, _word(root, "msgType", where=where), "msgType"),
        scope=_enum(Scope, _word(root, "scope", where=where), "scope"),
        restriction=_text(root, "restriction", where=where),
        addresses=_text(root, "addresses", where=where),
        note=_text(root, "note", where=where),
        references=_parse_references(_text(root, "references", where=where)),
        infos=tuple(_parse_info(info) for info in _children(root, "info")),
    )
