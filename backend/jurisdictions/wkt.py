"""A small reader of WKT ``POLYGON`` and ``MULTIPOLYGON`` (the CSV import's geometry
column). Sans-I/O; coordinates are ``x y`` = ``lon lat``.

Accepted: ``POLYGON ((x y, …), (hole…))``, ``MULTIPOLYGON (((…)), ((…)))``, an optional
``SRID=4326;`` prefix, any case and spacing. Refused with a reason: other geometry types,
``EMPTY``, ``Z``/``M`` coordinates, anything that does not parse.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(\(|\)|,|[^\s(),]+)")

Ring = list[tuple[float, float]]
Polygon = list[Ring]


class Error(ValueError):
    """The text is not a WKT polygon or multipolygon; ``str()`` says why."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def next(self) -> str:
        if self.at >= len(self.tokens):
            raise Error("WKT ends too early (a parenthesis is missing)")
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, token: str) -> None:
        found = self.next()
        if found != token:
            raise Error(f"WKT: expected {token!r}, found {found!r}")

    def ring(self) -> Ring:
        self.expect("(")
        points: Ring = []
        while True:
            numbers: list[str] = []
            while self.tokens[self.at : self.at + 1] and self.tokens[self.at] not in (
                ",",
                ")",
                "(",
            ):
                numbers.append(self.next())
            if len(numbers) != 2:
                found = " ".join(numbers)
                raise Error(f"WKT: a point needs 2 numbers (lon lat), found {found!r}")
            try:
                points.append((float(numbers[0]), float(numbers[1])))
            except ValueError as exc:
                raise Error(f"WKT: {' '.join(numbers)!r} is not a pair of numbers") from exc
            if self.separator():
                return points

    def separator(self) -> bool:
        """Consume ``,`` (False: more follows) or ``)`` (True: the list ended)."""
        found = self.next()
        if found not in (",", ")"):
            raise Error(f"WKT: expected ',' or ')', found {found!r}")
        return found == ")"

    def polygon(self) -> Polygon:
        self.expect("(")
        rings = [self.ring()]
        while not self.separator():
            rings.append(self.ring())
        return rings

    def multipolygon(self) -> list[Polygon]:
        self.expect("(")
        polygons = [self.polygon()]
        while not self.separator():
            polygons.append(self.polygon())
        return polygons


def parse(text: str) -> list[Polygon]:
    """The polygons of a WKT ``POLYGON`` or ``MULTIPOLYGON`` (each a list of rings, the
    first the outer one); :class:`Error` with the reason otherwise."""
    body = text.strip()
    if body.upper().startswith("SRID="):
        srid, _, body = body.partition(";")
        if srid.strip().upper() not in ("SRID=4326", "SRID=4490"):
            raise Error(f"WKT in {srid.strip()}: give WGS-84 longitude/latitude (SRID=4326)")
    tokens = _tokens(body)
    if not tokens:
        raise Error("no geometry (empty WKT)")
    kind = tokens[0].upper()
    parser = _Parser(tokens)
    parser.at = 1
    if parser.tokens[1:2] and parser.tokens[1].upper() in ("Z", "M", "ZM"):
        raise Error("WKT with Z or M coordinates: give plain lon lat pairs")
    if parser.tokens[1:2] and parser.tokens[1].upper() == "EMPTY":
        raise Error(f"{kind} EMPTY has no outline")
    if kind == "POLYGON":
        polygons = [parser.polygon()]
    elif kind == "MULTIPOLYGON":
        polygons = parser.multipolygon()
    else:
        raise Error(f"{tokens[0]} is not a polygon: give POLYGON or MULTIPOLYGON")
    if parser.at != len(tokens):
        raise Error(
            f"WKT: unexpected {' '.join(tokens[parser.at : parser.at + 3])!r} after the geometry"
        )
    return polygons
