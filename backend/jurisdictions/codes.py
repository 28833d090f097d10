"""Jurisdiction codes in their canonical trimmed form.

GB/T 2260 gives provinces, cities and districts six digits (``330106``); the statistical
division codes add three digits for the town and three for the village
(``330106001001``). DutyDesk stores every code *trimmed*: the trailing all-zero groups are
removed, so a code is its region's prefix and "inside" is a plain prefix test
(``backend.authz.policy.in_jurisdiction``):

==============  ================  =========
given           canonical         level
==============  ================  =========
``330000``      ``33``            province
``330100``      ``3301``          city
``330106``      ``330106``        district
``330106001000``  ``330106001``   town
``330106001001``  ``330106001001``  village
==============  ================  =========

Local codes (a community's own numbering, letters allowed) are accepted below a
district: they start with the six digits of the district and must extend their parent's
code, which only the tree can check. ``""`` means "unplaced" for an object and "the whole
area" for a user.
"""

from __future__ import annotations

import enum
import re

from backend.errors import ValidationError

MAX_CODE_LENGTH = 32
"""The longest code the tables hold (``String(32)``)."""

_GROUPS = (2, 2, 2, 3, 3)
"""Digits of each level in a full 12-digit code: province, city, district, town, village."""

_CODE_RE = re.compile(r"^[0-9A-Za-z]+$")


class Level(enum.StrEnum):
    """The five levels of the tree, from the top."""

    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        """0 for a province … 4 for a village."""
        return list(Level).index(self)


LEVEL_LABELS = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.DISTRICT: "区县",
    Level.TOWN: "镇街",
    Level.VILLAGE: "村社",
}
"""How the console and the command line name each level."""

_LENGTH_LEVELS = {
    2: Level.PROVINCE,
    4: Level.CITY,
    6: Level.DISTRICT,
    9: Level.TOWN,
    12: Level.VILLAGE,
}


def _trim_digits(digits: str) -> str:
    """Drop the trailing all-zero groups of a 2/4/6/9/12-digit code."""
    groups: list[str] = []
    start = 0
    for size in _GROUPS:
        if start >= len(digits):
            break
        groups.append(digits[start : start + size])
        start += size
    while groups and set(groups[-1]) == {"0"}:
        groups.pop()
    return "".join(groups)


def normalize(text: str) -> str:
    """Return the canonical form of a code typed by a user or read from a file.

    ``330100`` → ``3301``, ``330106001000`` → ``330106001``, ``3301`` stays, ``""`` stays
    (unplaced / the whole area). Raises :class:`ValidationError` for anything else that is
    not a region code: letters in a standard code, a length that is no level's, all zeros.
    """
    code = text.strip()
    if not code:
        return ""
    if len(code) > MAX_CODE_LENGTH or not _CODE_RE.match(code):
        raise ValidationError(
            f"jurisdiction code {text.strip()[:40]!r} must be up to {MAX_CODE_LENGTH} letters "
            "or digits, e.g. 3301 or 330106001"
        )
    if code.isdigit() and len(code) in _LENGTH_LEVELS:
        trimmed = _trim_digits(code)
        if not trimmed:
            raise ValidationError(f"jurisdiction code {code!r} is all zeros")
        return trimmed
    if len(code) > 6 and code[:6].isdigit() and code[4:6] != "00":
        return code  # a local code below a district (checked against the tree on import)
    raise ValidationError(
        f"jurisdiction code {code!r} is not a region code: use 2 (province), 4 (city), "
        "6 (district), 9 (town) or 12 (village) digits, e.g. 330000, 3301, 330106, "
        "330106001000"
    )


def nominal_level(code: str) -> Level | None:
    """The level a canonical code's length stands for (None for a local code or ``""``).

    The tree may know better: 济源 ``419001`` is a city directly under its province.
    """
    return _LENGTH_LEVELS.get(len(code)) if code.isdigit() else None


def nominal_parent(code: str) -> str:
    """The code of the level above by the code's form alone (``330106`` → ``3301``,
    ``330106001`` → ``330106``, ``33`` → ``""``); ``""`` for a local code.

    A district whose city part is not a city (``469001``: counties directly under Hainan)
    gets the province; the tree resolves such cases from its data.
    """
    level = nominal_level(code)
    if level is None or level is Level.PROVINCE:
        return ""
    if level is Level.DISTRICT and code[2:4] in ("00", "90"):
        return code[:2]
    cut = {Level.CITY: 2, Level.DISTRICT: 4, Level.TOWN: 6, Level.VILLAGE: 9}[level]
    return code[:cut]


def full_code(code: str) -> str:
    """The 6-digit (district and above) or 12-digit (town, village) form of a canonical
    code: ``33`` → ``330000``, ``330106001`` → ``330106001000``. Local codes stay."""
    level = nominal_level(code)
    if level is None:
        return code
    return code.ljust(6 if level.depth <= Level.DISTRICT.depth else 12, "0")


def contains(outer: str, inner: str) -> bool:
    """Whether jurisdiction ``outer`` contains ``inner`` (``""`` contains everything)."""
    return inner.startswith(outer)
