"""The CSV import's WKT reader: polygons and multipolygons in, a reason for anything else."""

from __future__ import annotations

import re

import pytest

from backend.jurisdictions import wkt


def test_polygons_and_multipolygons() -> None:
    assert wkt.parse("POLYGON ((1 2, 3 4, 5 6, 1 2), (0 0, 1 1, 2 0, 0 0))") == [
        [
            [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (1.0, 2.0)],
            [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (0.0, 0.0)],
        ]
    ]
    parsed = wkt.parse("SRID=4326;multipolygon(((1 2,3 4,5 6,1 2)),((7 8,9 9,8 7,7 8)))")
    assert [len(polygon) for polygon in parsed] == [1, 1]
    assert parsed[1][0][0] == (7.0, 8.0)
    assert wkt.parse("  polygon((1.5 -2e1, 3 4, 5 6, 1.5 -2e1))  ")[0][0][0] == (1.5, -20.0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("POINT (1 2)", "POINT is not a polygon"),
        ("POLYGON EMPTY", "POLYGON EMPTY has no outline"),
        ("POLYGON ((1 2 3, 4 5 6))", "a point needs 2 numbers"),
        ("POLYGON ((1 2, 3 4)", "ends too early"),
        ("POLYGON ((1 a, 3 4))", "is not a pair of numbers"),
        ("POLYGON Z ((1 2 3))", "Z or M"),
        ("POLYGON ((1 2, 3 4, 5 6, 1 2)) x", "unexpected 'x'"),
        ("", "empty WKT"),
        ("SRID=3857;POLYGON ((1 2, 3 4, 5 6, 1 2))", "SRID=3857"),
        ("POLYGON [1 2]", "expected '(', found '[1'"),
        ("POLYGON (1 2)", "expected '('"),
        ("MULTIPOLYGON ((1 2, 3 4))", "expected '('"),
        ("POLYGON ((1 2, 3 4, 5 6, 1 2) (1 2))", "expected ',' or ')', found '('"),
        ("POLYGON ((1 2, 3 4, 5 6 (", "found '('"),
        ("POLYGON ((1 2, 3 4, 5", "a point needs 2 numbers"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(wkt.Error, match=re.escape(reason)):
        wkt.parse(text)
