"""Registry items in Excel (.xlsx) and CSV files: read with a validation report, write,
and the template an officer fills in.

An .xlsx file holds one sheet per kind, named by the kind (``企业`` or ``enterprise``…;
the template's ``说明`` sheet is skipped); a .csv file holds one kind, named by the
caller. The columns of each kind are :mod:`backend.registry.sheet_columns`'s; a row whose
first cell starts with ``#`` is a comment (the template's example row). Every row is
decoded into :class:`RegistryItemInput`, so the wire's limits apply to files too; each
problem names its sheet, row, column and reason, and a file with problems gives the good
rows and the problems (the caller decides whether to write any).

Coordinates in GCJ-02 (a ``坐标系`` cell, or the default) are converted to WGS-84, in one
vectorised pass; addresses are kept as written.

Pure file handling: no database.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import msgspec
import numpy as np
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from backend.errors import ValidationError
from backend.jurisdictions.datum import gcj02_to_wgs84
from backend.registry import item_fields
from backend.registry.sheet_columns import (
    ABSENT,
    COMMON_COLUMNS,
    CONTROL_CHARACTERS,
    DATUM_FIELD,
    DATUM_HEADER,
    DATUM_HELP,
    DATUM_LABELS,
    KIND_SHEET_NAMES,
    RETIRED_FIELD,
    RETIRED_HEADER,
    CellError,
    Column,
    Datum,
    WriteError,
    details_columns,
    header_key,
    headers,
    kind_of_sheet,
    read_cell,
    read_datum,
    view_row,
)
from backend.registry.sheet_examples import EXAMPLES
from realtime.protocol import ItemKind, RegistryItemInput, RegistryItemView

logger = logging.getLogger(__name__)

MAX_ROWS = 500_000
"""Rows per file at most (a city's registry is tens of thousands)."""
MAX_COLUMNS = 64
MAX_CELL_CHARS = 32_767
"""Excel's own limit for a cell (openpyxl cuts longer ones to it): a cell that long is
refused before it is parsed."""
MAX_UNPACKED_BYTES = 1 << 30
"""What an .xlsx may unpack to: a small file that claims more is refused (zip bomb)."""
MAX_CSV_BYTES = 256 << 20
PROGRESS_EVERY = 1_000
"""Rows between two progress calls."""
NOTES_SHEET = "说明"
_SKIPPED_SHEETS = {NOTES_SHEET, "readme", "notes"}
COMMENT_MARK = "#"

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in total — 0 when unknown) as a file is read."""


class Error(Exception):
    """The file as a whole cannot be read (not an .xlsx, too large, unreadable);
    ``str()`` names the file and says why."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row (row 1 is the header)."""

    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if not self.sheet:
            return self.reason  # not placed in the file (the database's refusal)
        column = f" {self.column}" if self.column else ""
        return f"{self.sheet} row {self.row}{column}: {self.reason}"


@dataclass(slots=True)
class ReadOutcome:
    """What a file holds: the items that decoded, every problem, and how many rows were
    read (comments and blank rows not counted)."""

    items: list[RegistryItemInput] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    places: dict[tuple[ItemKind, str], tuple[str, int]] = field(default_factory=dict)
    """The sheet and row of each item, by kind and code (to place a later refusal)."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def place_of(self, kind: ItemKind, code: str) -> tuple[str, int] | None:
        """The sheet and row an item came from (None: not from this file)."""
        return self.places.get((kind, code))


@dataclass(slots=True)
class _Pending:
    sheet: str
    row: int
    kind: ItemKind
    data: dict[str, object]
    headers: dict[str, str]
    gcj02: bool


_DATUM_COLUMN = Column(DATUM_FIELD, DATUM_HEADER, COMMON_COLUMNS[0].cell, DATUM_HELP, False)
_RETIRED_COLUMN = Column(RETIRED_FIELD, RETIRED_HEADER, COMMON_COLUMNS[0].cell, "", False)


def _layout(kind: ItemKind) -> dict[str, Column]:
    """Every accepted header (Chinese and field name, compared by :func:`header_key`)."""
    accepted: dict[str, Column] = {}
    for column in (*COMMON_COLUMNS, _DATUM_COLUMN, *details_columns(kind), _RETIRED_COLUMN):
        accepted[header_key(column.header)] = column
        accepted[header_key(column.field)] = column
    return accepted


class _SheetReader:
    """Decodes the rows of one sheet of one kind."""

    def __init__(
        self, sheet: str, kind: ItemKind, header_row: Sequence[object], default: Datum
    ) -> None:
        self.sheet = sheet
        self.kind = kind
        self.default = default
        self.problems: list[Problem] = []
        self.columns: list[tuple[int, Column]] = []
        self.written: dict[str, str] = {}
        accepted = _layout(kind)
        seen: set[str] = set()
        for index, raw in enumerate(header_row):
            text = "" if raw is None else str(raw).strip()
            if not text:
                continue
            column = accepted.get(header_key(text))
            if column is None:
                self._header_problem(text[:40], "unknown column (see the template's 说明 sheet)")
            elif column.field in seen:
                self._header_problem(text[:40], "the same column twice")
            else:
                seen.add(column.field)
                self.columns.append((index, column))
                self.written[column.field] = text
        for column in (*COMMON_COLUMNS, *details_columns(kind)):
            if column.required and column.field not in seen:
                self._header_problem(column.header, "required column missing")

    def _header_problem(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.sheet, 1, column, reason))

    @property
    def usable(self) -> bool:
        return not self.problems

    def header(self, field_name: str) -> str:
        return self.written.get(field_name, field_name)

    def row(self, number: int, values: Sequence[object]) -> _Pending | None:
        """The row's fields, or None (its problems recorded) when a cell is unreadable."""
        common: dict[str, object] = {}
        details: dict[str, object] = {"type": self.kind.value}
        datum = self.default
        failed = False
        for index, column in self.columns:
            raw = values[index] if index < len(values) else None
            try:
                if isinstance(raw, str) and len(raw) >= MAX_CELL_CHARS:
                    # openpyxl cuts longer cells to Excel's limit: never take a cut one.
                    raise CellError(f"{MAX_CELL_CHARS:,} characters or more (Excel's limit)")
                if column.field == DATUM_FIELD:
                    datum = read_datum(raw) or self.default
                    continue
                if column.field == RETIRED_FIELD:
                    continue
                value = read_cell(column, raw)
            except CellError as exc:
                self.problems.append(
                    Problem(self.sheet, number, self.header(column.field), str(exc))
                )
                failed = True
                continue
            if value is not ABSENT:
                (details if column.in_details else common)[column.field] = value
        if ("lat" in common) != ("lon" in common):
            missing = "lon" if "lat" in common else "lat"
            reason = "latitude and longitude go together"
            self.problems.append(Problem(self.sheet, number, self.header(missing), reason))
            failed = True
        if failed:
            return None
        common["details"] = details
        return _Pending(self.sheet, number, self.kind, common, self.written, datum is Datum.GCJ02)


# ------------------------------------------------------------------------------- reading


def read_items(
    path: Path,
    kind: ItemKind | None = None,
    default_datum: Datum = Datum.WGS84,
    *,
    progress: Progress | None = None,
) -> ReadOutcome:
    """Read the items of an .xlsx or .csv file, with every problem found.

    ``kind``: a CSV file's kind (required for CSV); for an .xlsx, only that kind's sheets
    (or the first sheet when no sheet is named for a kind). ``default_datum``: the datum of
    rows whose ``坐标系`` cell is empty. Raises :class:`Error` when the file as a whole
    cannot be read.
    """
    reading = _Reading(default_datum, progress)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if kind is None:
            raise Error(f"{path.name}: a CSV file holds one kind: name it (--kind)")
        text = _csv_text(path)
        reading.total = max(text.count("\n") - 1, 0)
        reading.sheet(path.name, kind, _csv_rows(path.name, text))
    elif suffix in (".xlsx", ".xlsm"):
        _read_workbook(path, kind, reading)
    else:
        raise Error(f"{path.name}: not an .xlsx or .csv file")
    reading.finish()
    return reading.outcome


class _Reading:
    """One file being read: its rows so far, problems and progress."""

    def __init__(self, default: Datum, progress: Progress | None) -> None:
        self.default = default
        self.progress = progress
        self.total = 0
        self.done = 0
        self.pending: list[_Pending] = []
        self.outcome = ReadOutcome()

    def sheet(self, name: str, kind: ItemKind, rows: Iterator[Sequence[object]]) -> None:
        """Read one sheet (or CSV file) of ``kind``."""
        reader: _SheetReader | None = None
        for number, row in enumerate(rows, start=1):
            values = self._narrow(name, number, row)
            if reader is None:
                if all(v is None or str(v).strip() == "" for v in values):
                    continue  # blank lines above the header
                reader = _SheetReader(name, kind, values, self.default)
                if not reader.usable:
                    break
                continue
            first = next((v for v in values if v is not None and str(v).strip()), None)
            if first is None or str(first).lstrip().startswith(COMMENT_MARK):
                continue
            self._count(name)
            decoded = reader.row(number, values)
            if decoded is not None:
                self.pending.append(decoded)
        if reader is None:
            self.outcome.problems.append(Problem(name, 1, "", "no header row"))
        else:
            self.outcome.problems.extend(reader.problems)

    def _narrow(self, name: str, number: int, values: Sequence[object]) -> Sequence[object]:
        if len(values) > MAX_COLUMNS and any(v is not None for v in values[MAX_COLUMNS:]):
            reason = f"more than {MAX_COLUMNS} columns"
            self.outcome.problems.append(Problem(name, number, "", reason))
        return values[:MAX_COLUMNS]

    def _count(self, name: str) -> None:
        self.outcome.rows += 1
        self.done += 1
        if self.done > MAX_ROWS:
            raise Error(f"{name}: more than {MAX_ROWS:,} rows")
        if self.progress is not None and self.done % PROGRESS_EVERY == 0:
            self.progress(self.done, max(self.total, self.done))

    def finish(self) -> None:
        """Convert the GCJ-02 coordinates and decode every row."""
        if self.progress is not None:
            self.progress(self.done, self.done)
        _convert_gcj02(self.pending)
        _decode(self.pending, self.outcome)


_DAMAGED = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError)
"""What openpyxl raises for a broken workbook (with XML parse errors and OS errors)."""


def _read_workbook(path: Path, kind: ItemKind | None, reading: _Reading) -> None:
    _check_zip(path)
    try:
        # Our own handle: openpyxl leaves its own open when a workbook fails to load.
        with path.open("rb") as stream:
            try:
                book = openpyxl.load_workbook(stream, read_only=True, data_only=False)
            except (*_DAMAGED, ParseError) as exc:
                raise Error(f"{path.name}: not a readable Excel .xlsx file ({exc})") from exc
            try:
                _read_sheets(path, book, kind, reading)
            finally:
                book.close()
    except OSError as exc:
        raise Error(f"{path.name}: cannot read it ({exc.strerror or exc})") from exc


def _read_sheets(path: Path, book: Any, kind: ItemKind | None, reading: _Reading) -> None:
    try:
        chosen = _chosen_sheets(path, book.sheetnames, kind, reading.outcome)
        for name, _ in chosen:
            claimed = book[name].max_row
            reading.total += min(max(claimed - 1, 0), MAX_ROWS) if isinstance(claimed, int) else 0
            book[name].reset_dimensions()  # a file's own claims never size what we read
        for name, sheet_kind in chosen:
            reading.sheet(name, sheet_kind, book[name].iter_rows(values_only=True))
    except (*_DAMAGED, ParseError) as exc:
        raise Error(f"{path.name}: a damaged Excel file ({exc})") from exc


def _chosen_sheets(
    path: Path, sheet_names: list[str], kind: ItemKind | None, outcome: ReadOutcome
) -> list[tuple[str, ItemKind]]:
    """The sheets to read and their kinds (an unnamed sheet is a problem without kind)."""
    chosen: list[tuple[str, ItemKind]] = []
    names = [name for name in sheet_names if name.strip().lower() not in _SKIPPED_SHEETS]
    for name in names:
        sheet_kind = kind_of_sheet(name)
        if sheet_kind is None:
            if kind is None:
                reason = "sheet not named for a kind (企业, 专家…): rename it or use --kind"
                outcome.problems.append(Problem(name, 0, "", reason))
        elif kind is None or sheet_kind is kind:
            chosen.append((name, sheet_kind))
    if kind is not None and not chosen:
        # A workbook with no sheet named for the kind: its first sheet not named for another.
        unnamed = [name for name in names if kind_of_sheet(name) is None]
        if not unnamed:
            raise Error(f"{path.name}: no sheet of {kind.value} ({KIND_SHEET_NAMES[kind]})")
        chosen.append((unnamed[0], kind))
    if not chosen and not outcome.problems:
        raise Error(f"{path.name}: no sheet named for a kind (企业, 专家…)")
    return chosen


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise Error(f"{path.name}: not an Excel .xlsx file (not a zip archive)") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise Error(
            f"{path.name}: unpacks to {unpacked / 2**20:,.0f} MiB, more than the "
            f"{MAX_UNPACKED_BYTES / 2**20:,.0f} MiB accepted"
        )


def _csv_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise Error(f"{path.name}: {size / 2**20:,.0f} MiB, more than the CSV limit")
        data = path.read_bytes()
    except OSError as exc:
        raise Error(f"{path.name}: cannot read it ({exc.strerror})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel in China saves CSV as GBK; GB 18030 reads every GBK file.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Error(f"{path.name}: neither UTF-8 nor GBK text") from exc


def _csv_rows(name: str, text: str) -> Iterator[Sequence[object]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise Error(f"{name} line {reader.line_num}: {exc}") from exc


def _convert_gcj02(pending: list[_Pending]) -> None:
    """Convert the GCJ-02 rows' coordinates to WGS-84, all at once."""
    rows = [p for p in pending if p.gcj02 and "lat" in p.data]
    if not rows:
        return
    lon = np.array([p.data["lon"] for p in rows], dtype=np.float64)
    lat = np.array([p.data["lat"] for p in rows], dtype=np.float64)
    wgs_lon, wgs_lat = gcj02_to_wgs84(lon, lat)
    for p, new_lon, new_lat in zip(rows, wgs_lon.tolist(), wgs_lat.tolist(), strict=True):
        p.data["lon"], p.data["lat"] = new_lon, new_lat


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `(?P<field>\w+)`")


def _reason(error: msgspec.ValidationError) -> tuple[str, str]:
    """(field, reason) for a decoding error, in the words of a spreadsheet."""
    match = _AT.match(str(error))
    message, path = (match["message"], match["path"] or "") if match else (str(error), "")
    names = re.findall(r"\.(\w+)", path)
    entry = re.search(r"\[(\d+)\]", path)
    missing = _MISSING.match(message)
    if missing:
        names.append(missing["field"])
    field_name = (
        names[1] if names[:1] == ["details"] and len(names) > 1 else names[0] if names else ""
    )
    reason = _friendly(message, missing is not None)
    if entry is not None:
        part = f" ({names[-1]})" if len(names) > (2 if names[:1] == ["details"] else 1) else ""
        reason = f"entry {int(entry[1]) + 1}{part}: {reason}"
    return field_name, reason


def _friendly(message: str, missing: bool) -> str:
    if missing:
        return "required"
    if found := re.search(r"`str` of length <= (\d+)", message):
        return f"longer than {found[1]} characters"
    if found := re.search(r"`str` of length >= 1", message):
        return "required"
    if found := re.search(r"`array` of length <= (\d+)", message):
        return f"more than {found[1]} entries"
    if found := re.search(r"`array` of length >= 1", message):
        return "required"
    if "matching regex" in message:
        return "only letters, digits and _ . : - are allowed"
    if found := re.search(r"Expected `\w+` >= (\S+)", message):
        return f"must be at least {found[1]}"
    if found := re.search(r"Expected `\w+` <= (\S+)", message):
        return f"must be at most {found[1]}"
    return message


def _decode(pending: list[_Pending], outcome: ReadOutcome) -> None:
    first_row: dict[tuple[ItemKind, str], tuple[str, int]] = {}
    for p in pending:
        try:
            item = msgspec.convert(p.data, RegistryItemInput)
        except msgspec.ValidationError as exc:
            field_name, reason = _reason(exc)
            column = p.headers.get(field_name, field_name)
            outcome.problems.append(Problem(p.sheet, p.row, column, reason))
            continue
        try:
            item_fields.check_common(item)
            item_fields.normalized(item)
        except ValidationError as exc:
            path, _, reason = exc.message.partition(": ")
            names = re.findall(r"(\w+)(?:\[\d+\])?", path.split("/")[0])
            field_name = (
                names[1] if names[:1] == ["details"] and len(names) > 1 else "".join(names[:1])
            )
            column = p.headers.get(field_name, field_name)
            outcome.problems.append(Problem(p.sheet, p.row, column, reason or exc.message))
            continue
        key = (p.kind, item.code)
        if key in first_row:
            sheet, row = first_row[key]
            where = f"row {row}" if sheet == p.sheet else f"{sheet} row {row}"
            column = p.headers.get("code", "code")
            outcome.problems.append(
                Problem(p.sheet, p.row, column, f"duplicate code {item.code} (also {where})")
            )
            continue
        first_row[key] = outcome.places[key] = (p.sheet, p.row)
        outcome.items.append(item)
    outcome.problems.sort(key=lambda problem: (problem.sheet, problem.row))


# ------------------------------------------------------------------------------- writing


def write_items(path: Path, kind: ItemKind, items: Sequence[RegistryItemView]) -> None:
    """Write ``items`` of one kind to an .xlsx (a sheet named for the kind) or a .csv
    (UTF-8 with a BOM, which Excel opens as such), with the ``已注销`` column."""
    try:
        rows = [view_row(kind, item, retired=True) for item in items if item.kind is kind]
    except WriteError as exc:
        raise Error(f"cannot write {exc}") from exc
    _write(path, {kind: (headers(kind, retired=True), rows)}, notes=False)


def write_template(path: Path, kinds: Sequence[ItemKind]) -> None:
    """Write an empty file to fill in: per kind the headers and one example row (a
    comment: its first cell starts with ``#``); an .xlsx also gets the ``说明`` sheet."""
    if not kinds:
        kinds = list(ItemKind)
    if path.suffix.lower() == ".csv" and len(kinds) != 1:
        raise Error("a CSV template holds one kind: name it (--kind)")
    sheets = {kind: (headers(kind, retired=False), [_example_row(kind)]) for kind in kinds}
    _write(path, sheets, notes=True)


def _example_row(kind: ItemKind) -> list[object]:
    row = view_row(kind, EXAMPLES[kind], retired=False)
    row[0] = f"{COMMENT_MARK}{row[0]}"
    return row


def _notes_rows(kinds: Iterable[ItemKind]) -> list[list[object]]:
    rows: list[list[object]] = [["表", "列", "字段名", "必填", "说明"]]
    for kind in kinds:
        for column in (*COMMON_COLUMNS, _DATUM_COLUMN, *details_columns(kind)):
            required = "是" if column.required else ""
            help_text = DATUM_HELP if column is _DATUM_COLUMN else column.help
            rows.append([KIND_SHEET_NAMES[kind], column.header, column.field, required, help_text])
    rows.append([])
    rows.append(
        ["", "以 # 开头的行是注释（示例行），不导入；列表用；分隔，结构化条目的各部分用 | 分隔。"]
    )
    rows.append(["", f"坐标系：{DATUM_LABELS[Datum.WGS84]} 或 {DATUM_LABELS[Datum.GCJ02]}。"])
    return rows


def _write(
    path: Path,
    sheets: dict[ItemKind, tuple[list[str], list[list[object]]]],
    *,
    notes: bool,
) -> None:
    try:
        if path.suffix.lower() == ".csv":
            if len(sheets) != 1:
                raise Error("a CSV file holds one kind")
            ((header, rows),) = sheets.values()
            with path.open("w", encoding="utf-8-sig", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(header)
                writer.writerows(["" if v is None else v for v in row] for row in rows)
            return
        if path.suffix.lower() != ".xlsx":
            raise Error(f"{path.name}: write an .xlsx or .csv file")
        book = openpyxl.Workbook(write_only=True)
        for kind, (header, rows) in sheets.items():
            sheet = book.create_sheet(KIND_SHEET_NAMES[kind])
            sheet.append(header)
            for row in rows:
                sheet.append([_clean(v) for v in row])
        if notes:
            sheet = book.create_sheet(NOTES_SHEET)
            for row in _notes_rows(sheets):
                sheet.append(row)
        book.save(path)
    except OSError as exc:
        raise Error(f"cannot write {path}: {exc.strerror or exc}") from exc


def _clean(value: object) -> object:
    """Control characters an .xlsx cannot hold are dropped (logged)."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        logger.warning("dropped control characters from a cell: %r", value[:40])
        return CONTROL_CHARACTERS.sub("", value)
    return value
