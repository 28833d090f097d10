"""Canonical trimmed codes: what users type becomes the prefix the scope test uses."""

from __future__ import annotations

import pytest

from backend.errors import ValidationError
from backend.jurisdictions import codes
from backend.jurisdictions.codes import Level


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("330000", "33"),
        ("330100", "3301"),
        ("330106", "330106"),
        ("3301", "3301"),
        ("33", "33"),
        (" 330106001000 ", "330106001"),
        ("330106001001", "330106001001"),
        ("330106000000", "330106"),
        ("330100000000", "3301"),
        ("330106001", "330106001"),
        ("330106000", "330106"),
        ("419001", "419001"),
        ("", ""),
        ("330106A01", "330106A01"),
    ],
)
def test_codes_are_trimmed_to_their_prefix(given: str, canonical: str) -> None:
    assert codes.normalize(given) == canonical


@pytest.mark.parametrize(
    "junk",
    ["abc", "3", "33010", "3301001", "000000", "00", "33-01", "3" * 40, "浙江", "330000A1"],
)
def test_junk_is_refused_with_a_clear_error(junk: str) -> None:
    with pytest.raises(ValidationError, match="jurisdiction code"):
        codes.normalize(junk)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("33", Level.PROVINCE, ""),
        ("3301", Level.CITY, "33"),
        ("330106", Level.DISTRICT, "3301"),
        ("469001", Level.DISTRICT, "46"),
        ("419001", Level.DISTRICT, "41"),
        ("330106001", Level.TOWN, "330106"),
        ("330106001001", Level.VILLAGE, "330106001"),
        ("330106A01", None, ""),
    ],
)
def test_nominal_level_and_parent(code: str, level: Level | None, parent: str) -> None:
    assert codes.nominal_level(code) is level
    assert codes.nominal_parent(code) == parent


def test_full_codes_and_containment() -> None:
    assert codes.full_code("33") == "330000"
    assert codes.full_code("330106") == "330106"
    assert codes.full_code("330106001") == "330106001000"
    assert codes.full_code("330106A01") == "330106A01"
    assert codes.contains("3301", "330106001")
    assert codes.contains("", "31")
    assert not codes.contains("3301", "3302")
    assert Level.TOWN.depth == 3
