"""The event catalogue (事件分类): areas → categories → items, each item a type of incident.

An item says which level handles it (village, town, district, or an agency), whether it
reports straight to the district, the incident level it opens at, its task deadlines
(minutes from sending: to accept, to arrive, to finish) and the agencies usually tasked.
The catalogue is data: :data:`DEFAULT_PATH` ships sensible defaults, and a site replaces it
with its own file (``$DUTYDESK_CATALOGUE`` or the path given to :func:`load_catalogue`).

Reading is strict: unknown fields, bad codes, unordered deadlines and duplicate codes are
refused with a :class:`CatalogueError` that names the place, by index and code
(``areas[0] (work_safety).categories[2] (mining).items[1] (coal_water_inrush).deadlines:
...``). No I/O beyond reading the file; no asyncio, no database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

import msgspec

from realtime.incident_states import Deadline, HandlingLevel, IncidentLevel

DEFAULT_PATH: Final = Path(__file__).resolve().parents[2] / "resources/catalogue/default.json"
"""The catalogue shipped with DutyDesk (written for the project)."""

PATH_ENV: Final = "DUTYDESK_CATALOGUE"
"""Environment variable naming a site's own catalogue file."""

MAX_DEADLINE_MINUTES: Final = 60 * 24 * 90
"""The longest deadline an item may set: 90 days."""

_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")
_CODE_RULE = "a lower-case code of 1 to 48 characters a-z, 0-9, '_' starting with a letter"


class Error(Exception):
    """Base class of the catalogue's errors."""


class CatalogueError(Error, ValueError):
    """The catalogue is invalid; the message says where and why."""


def _check_code(code: str, what: str) -> None:
    if not _CODE.fullmatch(code):
        raise CatalogueError(f"{what} {code!r} must be {_CODE_RULE}")


class Name(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A name in Chinese (shown by default) and English."""

    zh: str
    en: str = ""

    def __post_init__(self) -> None:
        if not self.zh.strip() or len(self.zh) > 64:
            raise CatalogueError("a Chinese name (zh) of 1 to 64 characters is required")
        if len(self.en) > 128:
            raise CatalogueError("the English name (en) is longer than 128 characters")


class Deadlines(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Minutes from sending a task by which it must be accepted, reached and finished.

    A deadline left out does not apply (e.g. no arrival for a warning to pass on).
    """

    accept: int | None = None
    arrive: int | None = None
    finish: int | None = None

    def __post_init__(self) -> None:
        given = [(name, value) for name, value in self.minutes().items() if value is not None]
        for name, value in given:
            if not 0 < value <= MAX_DEADLINE_MINUTES:
                raise CatalogueError(
                    f"{name} must be 1 to {MAX_DEADLINE_MINUTES} minutes, not {value}"
                )
        for (first, early), (second, late) in itertools.pairwise(given):
            if early > late:
                raise CatalogueError(f"{first} ({early} min) comes after {second} ({late} min)")

    def minutes(self) -> dict[Deadline, int | None]:
        """The deadlines by kind, in order."""
        return {
            Deadline.ACCEPT: self.accept,
            Deadline.ARRIVE: self.arrive,
            Deadline.FINISH: self.finish,
        }

    def due_times(self, sent_at: dt.datetime) -> dict[Deadline, dt.datetime | None]:
        """The absolute deadlines of a task sent at ``sent_at``."""
        return {
            kind: None if minutes is None else sent_at + dt.timedelta(minutes=minutes)
            for kind, minutes in self.minutes().items()
        }


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One type of incident (事项)."""

    code: str
    name: Name
    handling_level: HandlingLevel
    reports_straight_to_district: bool = False
    """A special item (e.g. a hazardous-chemical leak): reported to the district at once,
    whichever level handles it."""
    default_level: IncidentLevel = IncidentLevel.IV
    deadlines: Deadlines = Deadlines()
    agencies: tuple[str, ...] = ()
    """Agency codes usually tasked, in the order a dispatcher would send them."""
    alarm_types: tuple[str, ...] = ()
    """Alarm types (``alarm_type``) that suggest this item when an alarm is raised."""

    def __post_init__(self) -> None:
        _check_code(self.code, "item code")
        for agency in self.agencies:
            _check_code(agency, "agency")
        if len(set(self.agencies)) != len(self.agencies):
            raise CatalogueError("an agency is listed twice")
        for alarm_type in self.alarm_types:
            _check_code(alarm_type, "alarm type")


class Category(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A category (类别) of items."""

    code: str
    name: Name
    items: tuple[Item, ...]

    def __post_init__(self) -> None:
        _check_code(self.code, "category code")
        if not self.items:
            raise CatalogueError("a category needs at least one item")


class Area(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An area (领域) of categories: work safety, natural disasters, grid affairs…"""

    code: str
    name: Name
    categories: tuple[Category, ...]

    def __post_init__(self) -> None:
        _check_code(self.code, "area code")
        if not self.categories:
            raise CatalogueError("an area needs at least one category")


class _Document(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: int
    areas: tuple[Area, ...]

    def __post_init__(self) -> None:
        if self.version != 1:
            raise CatalogueError(f"version {self.version} is not supported (only 1)")
        if not self.areas:
            raise CatalogueError("a catalogue needs at least one area")


class Catalogue:
    """A validated catalogue with its items indexed by code (and by alarm type)."""

    def __init__(self, areas: tuple[Area, ...]) -> None:
        self.areas = areas
        self._items: dict[str, tuple[Area, Category, Item]] = {}
        self._by_alarm_type: dict[str, Item] = {}
        seen: dict[str, dict[str, str]] = {"area": {}, "category": {}, "item": {}}
        for a, area in enumerate(areas):
            where = f"areas[{a}] ({area.code})"
            _unique(seen["area"], area.code, where, "area")
            for c, category in enumerate(area.categories):
                where_c = f"{where}.categories[{c}] ({category.code})"
                _unique(seen["category"], category.code, where_c, "category")
                for i, item in enumerate(category.items):
                    where_i = f"{where_c}.items[{i}] ({item.code})"
                    _unique(seen["item"], item.code, where_i, "item")
                    self._items[item.code] = (area, category, item)
                    for alarm_type in item.alarm_types:
                        other = self._by_alarm_type.get(alarm_type)
                        if other is not None:
                            raise CatalogueError(
                                f"{where_i}.alarm_types: alarm type {alarm_type!r} already "
                                f"suggests item {other.code!r}"
                            )
                        self._by_alarm_type[alarm_type] = item

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def items(self) -> Iterator[Item]:
        """Every item, in catalogue order."""
        for _area, _category, item in self._items.values():
            yield item

    def categories(self) -> Iterator[Category]:
        """Every category, in catalogue order."""
        for area in self.areas:
            yield from area.categories

    def item(self, code: str) -> Item:
        """The item ``code``; :class:`CatalogueError` names it when there is none."""
        found = self._items.get(code)
        if found is None:
            raise CatalogueError(f"no event type {code!r} in the catalogue")
        return found[2]

    def place_of(self, code: str) -> tuple[Area, Category]:
        """The area and category of item ``code`` (which must exist)."""
        area, category, _item = self._items[code]
        return area, category

    def for_alarm_type(self, alarm_type: str) -> Item | None:
        """The item an alarm of ``alarm_type`` suggests, if any."""
        return self._by_alarm_type.get(alarm_type)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Catalogue:
        """Build from plain data (parsed JSON); see ``docs/incidents.md`` for the format."""
        try:
            document = msgspec.convert(data, _Document)
        except msgspec.ValidationError as exc:
            raise _located(exc, data) from exc
        return cls(document.areas)

    @classmethod
    def from_json(cls, text: str | bytes) -> Catalogue:
        """Build from a JSON document (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"the catalogue is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise CatalogueError("the catalogue must be a JSON object")
        return cls.from_dict(data)


def _unique(seen: dict[str, str], code: str, where: str, what: str) -> None:
    first = seen.get(code)
    if first is not None:
        raise CatalogueError(f"{where}: {what} code {code!r} is already used by {first}")
    seen[code] = where


_PATH_SUFFIX = re.compile(r" - at `(\$[^`]*)`$")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")


def _located(exc: msgspec.ValidationError, data: Mapping[str, object]) -> CatalogueError:
    """msgspec's complaint with its ``$.areas[0]...`` path spelt with the codes found there."""
    text = str(exc)
    match = _PATH_SUFFIX.search(text)
    if match is None:
        return CatalogueError(f"catalogue: {text}")
    message = text[: match.start()]
    return CatalogueError(f"{_place(match.group(1), data)}: {message}")


def _place(path: str, data: Mapping[str, object]) -> str:
    parts: list[str] = []
    node: object = data
    for key, index in _STEP.findall(path.removeprefix("$")):
        if key:
            parts.append(("." if parts else "") + key)
            node = node.get(key) if isinstance(node, Mapping) else None
            continue
        node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        code = node.get("code") if isinstance(node, Mapping) else None
        parts.append(f"[{index}]" + (f" ({code})" if isinstance(code, str) and code else ""))
    return "".join(parts) or "catalogue"


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read the catalogue at ``path``, else ``$DUTYDESK_CATALOGUE``, else the default.

    A file that cannot be read or is invalid raises :class:`CatalogueError` naming the file.
    """
    if path is None:
        configured = os.environ.get(PATH_ENV, "").strip()
        path = Path(configured) if configured else DEFAULT_PATH
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read the event catalogue {path}: {exc.strerror}") from exc
    try:
        return Catalogue.from_json(text)
    except CatalogueError as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
