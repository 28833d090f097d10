"""What the registry's edit form holds and how it is checked (no Qt).

Each kind has its fields (:data:`KIND_FIELDS`) after the common ones
(:data:`COMMON_FIELDS`): text, whole and decimal numbers, choices (an enum, shown with its
Chinese label), lists (one entry a line) and records (contacts, chemicals, plan steps,
resources: a small table). :func:`parse_form` turns what was typed into the
:class:`~realtime.protocol.RegistryItemInput` ``registry.save`` sends, or says, per field
(and row), what is wrong; :func:`form_of` fills the form from an item to edit it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Mapping, Sequence

import msgspec

from realtime.protocol import (
    MAX_LIST_ENTRIES,
    Availability,
    ItemKind,
    RegistryItemInput,
    RegistryItemView,
    RiskGrade,
    TargetCategory,
    TeamState,
)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
"""As the wire's ``Code``: files, links and plans name items by it."""
PHONE_PATTERN = re.compile(r"^[0-9+\-\s()*]{0,32}$")
"""Digits and separators; ``*`` keeps a masked number sent back unchanged."""
LEVELS = ("I", "II", "III", "IV")
GRADES = ("1", "2", "3", "4")
"""Hazard source grades, 一级 (the most dangerous) … 四级."""
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MAX_COUNT = 100_000_000
MAX_AMOUNT = 1e12


class FieldType(enum.Enum):
    """How a field is typed in and checked."""

    TEXT = "text"
    CODE = "code"
    """An item code (letters, digits, ``_ . : -``)."""
    INT = "int"
    FLOAT = "float"
    LAT = "lat"
    LON = "lon"
    CHOICE = "choice"
    """One of :attr:`FieldSpec.choices` (a combo box with labels)."""
    LIST = "list"
    """Several short texts, one a line."""
    CODES = "codes"
    """Several item codes, one a line."""
    RECORDS = "records"
    """Rows of :attr:`FieldSpec.columns` (a table)."""


class Problem(enum.StrEnum):
    """What is wrong with a field (the dialog says it in words)."""

    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    NOT_WHOLE = "not_whole"
    OUT_OF_RANGE = "out_of_range"
    BAD_CODE = "bad_code"
    BAD_PHONE = "bad_phone"
    BAD_CREDIT_CODE = "bad_credit_code"
    BAD_CHOICE = "bad_choice"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    BOTH_OR_NEITHER = "both_or_neither"
    """Latitude and longitude go together."""
    OVER_CAPACITY = "over_capacity"
    INVALID = "invalid"
    """Anything else the wire schema refuses (its words in :attr:`FieldError.detail`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a records field."""

    name: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    max_length: int = 64


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of the form."""

    name: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()
    max_length: int = 64
    in_details: bool = True
    """False for the common fields (code, name, place…)."""


@dataclasses.dataclass(frozen=True, slots=True)
class FieldError:
    """A field that cannot be saved as typed."""

    field: str
    problem: Problem
    row: int | None = None
    """The row (from 0) of a records or list field."""
    column: str = ""
    detail: str = ""


FormValue = str | list[str] | list[dict[str, str]]
"""A text, number or choice as typed; a list's lines; a records field's rows."""


def _common(name: str, type_: FieldType = FieldType.TEXT, **kwargs: object) -> FieldSpec:
    return FieldSpec(name, type_, in_details=False, **kwargs)  # type: ignore[arg-type]


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    _common("code", FieldType.CODE, required=True),
    _common("name", required=True, max_length=200),
    _common("jurisdiction", max_length=32),
    _common("agency"),
    _common("address", max_length=200),
    _common("lat", FieldType.LAT),
    _common("lon", FieldType.LON),
)

CONTACTS = FieldSpec(
    "contacts",
    FieldType.RECORDS,
    columns=(
        ColumnSpec("name"),
        ColumnSpec("role"),
        ColumnSpec("phone", FieldType.TEXT, max_length=32),
    ),
)


def _choice(name: str, values: Sequence[str], *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, FieldType.CHOICE, required=required, choices=tuple(values))


KIND_FIELDS: dict[ItemKind, tuple[FieldSpec, ...]] = {
    ItemKind.ENTERPRISE: (
        FieldSpec("credit_code", max_length=18),
        FieldSpec("industry"),
        _choice("risk_grade", list(RiskGrade)),
        FieldSpec("employees", FieldType.INT),
        CONTACTS,
    ),
    ItemKind.HAZARD_SOURCE: (
        _choice("grade", GRADES),
        FieldSpec("enterprise", FieldType.CODE),
        FieldSpec(
            "chemicals",
            FieldType.RECORDS,
            columns=(
                ColumnSpec("name", required=True),
                ColumnSpec("un_number", max_length=8),
                ColumnSpec("cas", max_length=16),
                ColumnSpec("quantity_t", FieldType.FLOAT),
            ),
        ),
        FieldSpec("sensors", FieldType.CODES),
        FieldSpec("cameras", FieldType.CODES),
    ),
    ItemKind.TEAM: (
        FieldSpec("team_type", required=True),
        FieldSpec("members", FieldType.INT),
        FieldSpec("capabilities", FieldType.LIST),
        _choice("state", list(TeamState)),
        FieldSpec("units", FieldType.CODES),
        FieldSpec("vehicles", FieldType.CODES),
        CONTACTS,
    ),
    ItemKind.EQUIPMENT: (
        FieldSpec("category", required=True),
        FieldSpec("quantity", FieldType.FLOAT),
        FieldSpec("measure"),
        FieldSpec("owner", max_length=200),
        FieldSpec("capabilities", FieldType.LIST),
    ),
    ItemKind.SHELTER: (
        FieldSpec("capacity", FieldType.INT, required=True),
        FieldSpec("occupancy", FieldType.INT),
        FieldSpec("area_m2", FieldType.FLOAT),
        FieldSpec("facilities", FieldType.LIST),
        CONTACTS,
    ),
    ItemKind.EXPERT: (
        FieldSpec("specialties", FieldType.LIST),
        FieldSpec("organisation", max_length=200),
        FieldSpec("title"),
        _choice("availability", list(Availability)),
        CONTACTS,
    ),
    ItemKind.TARGET: (
        _choice("category", list(TargetCategory)),
        FieldSpec("population", FieldType.INT),
        CONTACTS,
    ),
    ItemKind.PLAN: (
        FieldSpec("type_codes", FieldType.LIST, required=True),
        FieldSpec("levels", FieldType.LIST, choices=LEVELS),
        _choice("response_level", LEVELS),
        FieldSpec("roles", FieldType.LIST),
        FieldSpec(
            "steps",
            FieldType.RECORDS,
            columns=(
                ColumnSpec("id", required=True, max_length=32),
                ColumnSpec("text", required=True, max_length=500),
                ColumnSpec("role"),
                ColumnSpec("within_min", FieldType.FLOAT),
            ),
        ),
        FieldSpec(
            "resources",
            FieldType.RECORDS,
            columns=(
                ColumnSpec("capability", required=True),
                ColumnSpec("quantity", FieldType.FLOAT),
            ),
        ),
        FieldSpec("specialties", FieldType.LIST),
        FieldSpec("documents", FieldType.LIST),
    ),
}
"""The details of each kind, in the order the form shows them."""


def spec_of(kind: ItemKind, name: str) -> FieldSpec | None:
    """The spec of field ``name`` (common or of ``kind``)."""
    for spec in (*COMMON_FIELDS, *KIND_FIELDS[kind]):
        if spec.name == name:
            return spec
    return None


def credit_code_valid(code: str) -> bool:
    """Whether ``code`` is a unified social credit code with a right check character
    (GB 32100-2015)."""
    if len(code) != 18 or any(char not in CREDIT_CODE_CHARS for char in code):
        return False
    total = sum(
        CREDIT_CODE_CHARS.index(char) * weight
        for char, weight in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31] == code[17]


def _number(
    text: str, type_: FieldType, field: str, row: int | None = None, column: str = ""
) -> tuple[float | int | None, FieldError | None]:
    def error(problem: Problem) -> tuple[None, FieldError]:
        return None, FieldError(field, problem, row, column)

    text = text.strip().replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return error(Problem.NOT_A_NUMBER)
    if not math.isfinite(value):
        return error(Problem.NOT_A_NUMBER)
    low, high = {
        FieldType.INT: (0.0, float(MAX_COUNT)),
        FieldType.FLOAT: (0.0, MAX_AMOUNT),
        FieldType.LAT: (-90.0, 90.0),
        FieldType.LON: (-180.0, 180.0),
    }[type_]
    if not low <= value <= high:
        return error(Problem.OUT_OF_RANGE)
    if type_ is FieldType.INT:
        if not value.is_integer():
            return error(Problem.NOT_WHOLE)
        return int(value), None
    return value, None


def _lines(raw: FormValue) -> list[str]:
    if isinstance(raw, str):
        raw = raw.splitlines()
    return [line.strip() for line in raw if isinstance(line, str) and line.strip()]


def _check_lines(spec: FieldSpec, raw: FormValue, errors: list[FieldError]) -> list[str]:
    entries = _lines(raw)
    if spec.required and not entries:
        errors.append(FieldError(spec.name, Problem.REQUIRED))
    if len(entries) > MAX_LIST_ENTRIES:
        errors.append(FieldError(spec.name, Problem.TOO_MANY))
    for row, entry in enumerate(entries):
        if spec.type is FieldType.CODES and not CODE_PATTERN.match(entry):
            errors.append(FieldError(spec.name, Problem.BAD_CODE, row, detail=entry))
        elif spec.choices and entry not in spec.choices:
            errors.append(FieldError(spec.name, Problem.BAD_CHOICE, row, detail=entry))
        elif len(entry) > spec.max_length:
            errors.append(FieldError(spec.name, Problem.TOO_LONG, row))
    return entries


def _check_single(spec: FieldSpec, text: str, errors: list[FieldError]) -> object:
    name = spec.name
    if len(text) > spec.max_length:
        errors.append(FieldError(name, Problem.TOO_LONG))
        return None
    if spec.type is FieldType.CODE and not CODE_PATTERN.match(text):
        errors.append(FieldError(name, Problem.BAD_CODE, detail=text))
    elif spec.type is FieldType.CHOICE:
        if text not in spec.choices:
            errors.append(FieldError(name, Problem.BAD_CHOICE, detail=text))
            return None
        return int(text) if spec.choices == GRADES else text
    elif spec.type in (FieldType.INT, FieldType.FLOAT, FieldType.LAT, FieldType.LON):
        value, error = _number(text, spec.type, name)
        if error is not None:
            errors.append(error)
        return value
    return text


def _check_field(spec: FieldSpec, raw: FormValue, errors: list[FieldError]) -> object:
    """The wire value of one field (None: left empty), appending what is wrong."""
    if spec.type is FieldType.LIST or spec.type is FieldType.CODES:
        return _check_lines(spec, raw, errors)
    if spec.type is FieldType.RECORDS:
        rows = raw if isinstance(raw, list) else []
        return _check_records(spec, [row for row in rows if isinstance(row, dict)], errors)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        if spec.required:
            errors.append(FieldError(spec.name, Problem.REQUIRED))
        return None
    return _check_single(spec, text, errors)


def _check_records(
    spec: FieldSpec, rows: list[dict[str, str]], errors: list[FieldError]
) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for row, cells in enumerate(rows):
        texts = {column.name: cells.get(column.name, "").strip() for column in spec.columns}
        if not any(texts.values()):
            continue  # an empty row the officer left: not an entry
        record: dict[str, object] = {}
        for column in spec.columns:
            value = _check_cell(spec.name, column, row, texts[column.name], errors)
            if value is not None:
                record[column.name] = value
        records.append(record)
    if len(records) > (20 if spec.name == "contacts" else MAX_LIST_ENTRIES):
        errors.append(FieldError(spec.name, Problem.TOO_MANY))
    return records


def _check_cell(
    field: str, column: ColumnSpec, row: int, text: str, errors: list[FieldError]
) -> object:
    problem: Problem | None = None
    if not text:
        problem = Problem.REQUIRED if column.required else None
    elif len(text) > column.max_length:
        problem = Problem.TOO_LONG
    elif column.type is FieldType.FLOAT:
        value, error = _number(text, FieldType.FLOAT, field, row, column.name)
        if error is not None:
            errors.append(error)
        return value
    elif column.name == "phone" and not PHONE_PATTERN.match(text):
        problem = Problem.BAD_PHONE
    else:
        return text
    if problem is not None:
        errors.append(FieldError(field, problem, row, column.name))
    return None


_PATH = re.compile(r"at `\$\.(?:details\.)?([A-Za-z_0-9]+)(?:\[(\d+)\])?(?:\.([A-Za-z_0-9]+))?`")


def _schema_error(message: str) -> FieldError:
    found = _PATH.search(message)
    if found is None:
        return FieldError("", Problem.INVALID, detail=message)
    row = int(found.group(2)) if found.group(2) is not None else None
    return FieldError(found.group(1), Problem.INVALID, row, found.group(3) or "", message)


def parse_form(
    kind: ItemKind, values: Mapping[str, FormValue]
) -> tuple[RegistryItemInput | None, list[FieldError]]:
    """Check the form of a ``kind`` item; return what to save, or every problem found."""
    errors: list[FieldError] = []
    common: dict[str, object] = {}
    details: dict[str, object] = {"type": kind.value}
    for spec in (*COMMON_FIELDS, *KIND_FIELDS[kind]):
        value = _check_field(spec, values.get(spec.name, ""), errors)
        if value is None:
            continue
        (details if spec.in_details else common)[spec.name] = value
    if ("lat" in common) != ("lon" in common) and not any(
        error.field in ("lat", "lon") for error in errors
    ):
        errors.append(FieldError("lat" if "lat" not in common else "lon", Problem.BOTH_OR_NEITHER))
    occupancy, capacity = details.get("occupancy"), details.get("capacity")
    if isinstance(occupancy, int) and isinstance(capacity, int) and occupancy > capacity:
        errors.append(FieldError("occupancy", Problem.OVER_CAPACITY))
    credit_code = details.get("credit_code")
    if isinstance(credit_code, str) and not credit_code_valid(credit_code.upper()):
        errors.append(FieldError("credit_code", Problem.BAD_CREDIT_CODE))
    elif isinstance(credit_code, str):
        details["credit_code"] = credit_code.upper()
    if errors:
        return None, errors
    try:
        item = msgspec.convert({**common, "details": details}, RegistryItemInput)
    except msgspec.ValidationError as exc:
        return None, [_schema_error(str(exc))]
    return item, []


def _form_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_of(item: RegistryItemView) -> dict[str, FormValue]:
    """The form filled with ``item`` (to edit it)."""
    fields = msgspec.to_builtins(item)
    details = fields.get("details", {})
    values: dict[str, FormValue] = {}
    for spec in (*COMMON_FIELDS, *KIND_FIELDS[item.kind]):
        value = details.get(spec.name) if spec.in_details else fields.get(spec.name)
        if spec.type in (FieldType.LIST, FieldType.CODES):
            values[spec.name] = [str(entry) for entry in value or []]
        elif spec.type is FieldType.RECORDS:
            values[spec.name] = [
                {column.name: _form_text(row.get(column.name)) for column in spec.columns}
                for row in value or []
            ]
        else:
            values[spec.name] = _form_text(value)
    return values


def empty_form(kind: ItemKind, jurisdiction: str = "", agency: str = "") -> dict[str, FormValue]:
    """A new item's form: the user's own jurisdiction and agency, the first choice of
    each required choice."""
    values: dict[str, FormValue] = {"jurisdiction": jurisdiction, "agency": agency}
    for spec in KIND_FIELDS[kind]:
        if spec.type is FieldType.CHOICE:
            # The wire's defaults: 低风险, 四级, response level IV; else the first.
            last = spec.name in ("grade", "risk_grade", "response_level")
            values[spec.name] = spec.choices[-1] if last else spec.choices[0]
    return values
