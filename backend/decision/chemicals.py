"""The table of hazardous chemicals that decision support reads (resources/chemicals).

Each entry holds a chemical's identity (UN number, Chinese and English names, aliases,
CAS), its UN hazard class and ERG guide, short Chinese notes (hazards, first aid,
firefighting, spill response) and the first-response distances: the initial isolation
distance and the downwind protective-action distances by day and by night, for a small
and a large spill, and the isolation distance when a tank is on fire. Where the figures
come from is stated per entry (``source``) and in resources/chemicals/README.md; entries
whose figures are not checked against the printed table say so (``estimate``).

Reading is strict: unknown fields, missing fields, bad numbers, a protective distance
shorter than its isolation distance, and a UN number or name used twice are refused with
a :class:`ChemicalTableError` naming the entry (``chemicals[3] (1053): …``). Pure: no
asyncio, no database.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Final

import msgspec

DEFAULT_PATH: Final = Path(__file__).resolve().parents[2] / "resources/chemicals/chemicals.json"
"""The table shipped with DutyDesk (written for the project; sources in its README)."""

MAX_DISTANCE_M: Final = 100_000.0
"""No first-response distance in the guidebooks exceeds 100 km."""

_UN_NUMBER = re.compile(r"[0-9]{4}")

Note = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Metres = Annotated[float, msgspec.Meta(gt=0.0, le=MAX_DISTANCE_M)]


class Error(Exception):
    """Base class of the chemical table's errors."""


class ChemicalTableError(Error, ValueError):
    """The table is invalid; the message names the entry and says why."""


class Distances(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The distances for one spill size: isolate all round, protect downwind by day/night."""

    isolation_m: Metres
    day_m: Metres
    night_m: Metres

    def __post_init__(self) -> None:
        if min(self.day_m, self.night_m) < self.isolation_m:
            raise ChemicalTableError(
                "a protective-action distance is shorter than the isolation distance"
            )

    def protective_m(self, *, night: bool) -> float:
        """The downwind protective-action distance by night or by day."""
        return self.night_m if night else self.day_m


class Chemical(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One chemical of the table."""

    un_number: Annotated[str, msgspec.Meta(min_length=4, max_length=4)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """Chinese name (as in the Catalogue of Hazardous Chemicals where it has one)."""
    aliases: list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]]
    """Other names an officer may type (Chinese or English, trade names)."""
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    cas: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,7}-[0-9]{2}-[0-9]$")]
    hazard_class: Annotated[str, msgspec.Meta(pattern=r"^[1-9](\.[1-6])?$")]
    erg_guide: Annotated[str, msgspec.Meta(pattern=r"^1[1-7][0-9]P?$")]
    tih: bool
    """Toxic by inhalation: its distances are the ERG's Table 1 or 3 (else the guide's)."""
    hazards: Note
    first_aid: Note
    firefighting: Note
    spill: Note
    small: Distances
    large: Distances
    fire_isolation_m: Metres
    """Isolate this far all round when a tank, tank car or tanker is on fire."""
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    estimate: bool
    """True: (some of) the figures are not checked against the printed table."""
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""

    def distances(self, *, large_spill: bool) -> Distances:
        """The distances for a small or a large spill."""
        return self.large if large_spill else self.small


class Unidentified(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The distances used when no chemical of the table is known (ERG guide 111)."""

    small: Distances
    large: Distances
    fire_isolation_m: Metres
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    estimate: bool

    def distances(self, *, large_spill: bool) -> Distances:
        """The distances for a small or a large spill."""
        return self.large if large_spill else self.small


class _Document(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    edition: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    unidentified: Unidentified
    chemicals: list[msgspec.Raw]


def _key(text: str) -> str:
    """How names are compared: case and surrounding space ignored, a ``UN`` prefix too."""
    key = text.strip().casefold()
    if key.startswith("un") and _UN_NUMBER.fullmatch(key[2:].strip()):
        return key[2:].strip()
    return key


class ChemicalTable:
    """The loaded table: look chemicals up by UN number, name, alias or CAS number."""

    def __init__(self, edition: str, unidentified: Unidentified, chemicals: Iterable[Chemical]):
        self.edition = edition
        self.unidentified = unidentified
        self.chemicals: tuple[Chemical, ...] = tuple(chemicals)
        index: dict[str, Chemical] = {}
        for chemical in self.chemicals:
            for key in {chemical.un_number, chemical.name, chemical.name_en, *chemical.aliases}:
                self._add(index, _key(key), chemical)
        for chemical in self.chemicals:
            # Forms of one substance share a CAS number (gas, refrigerated liquid): the
            # first entry answers for it.
            index.setdefault(_key(chemical.cas), chemical)
        self._index: Mapping[str, Chemical] = index

    @staticmethod
    def _add(index: dict[str, Chemical], key: str, chemical: Chemical) -> None:
        other = index.get(key)
        if other is not None and other is not chemical:
            raise ChemicalTableError(
                f"{chemical.un_number} ({chemical.name}): the name {key!r} is already "
                f"{other.un_number} ({other.name})"
            )
        index[key] = chemical

    def find(self, name: str) -> Chemical | None:
        """The chemical a UN number (``1017``, ``UN1017``), name, alias or CAS number names
        (None: not in the table)."""
        return self._index.get(_key(name))

    def __len__(self) -> int:
        return len(self.chemicals)


def parse_table(data: bytes) -> ChemicalTable:
    """Read a table from its JSON; :class:`ChemicalTableError` names the bad entry."""
    try:
        document = msgspec.json.decode(data, type=_Document)
    except (msgspec.ValidationError, msgspec.DecodeError, ChemicalTableError) as exc:
        raise ChemicalTableError(f"chemical table: {exc}") from exc
    chemicals: list[Chemical] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(document.chemicals):
        label = f"chemicals[{position}]"
        with contextlib.suppress(ValueError, AttributeError):
            # Name it by its UN number when it has one; the decode below says what is wrong.
            label = f"{label} ({json.loads(bytes(raw)).get('un_number', '?')})"
        try:
            chemical = msgspec.json.decode(raw, type=Chemical)
        except (msgspec.ValidationError, msgspec.DecodeError, ChemicalTableError) as exc:
            raise ChemicalTableError(f"{label}: {exc}") from exc
        if not _UN_NUMBER.fullmatch(chemical.un_number):
            raise ChemicalTableError(f"{label}: un_number must be four digits")
        if chemical.un_number in seen:
            raise ChemicalTableError(
                f"{label}: UN {chemical.un_number} is already chemicals[{seen[chemical.un_number]}]"
            )
        seen[chemical.un_number] = position
        chemicals.append(chemical)
    try:
        return ChemicalTable(document.edition, document.unidentified, chemicals)
    except ChemicalTableError as exc:
        raise ChemicalTableError(f"chemical table: {exc}") from exc


def load_table(path: Path = DEFAULT_PATH) -> ChemicalTable:
    """Read the table at ``path`` (the shipped one by default)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChemicalTableError(f"cannot read the chemical table {path}: {exc}") from exc
    return parse_table(data)
