"""The columns of a registry spreadsheet, per kind, and how one cell becomes a value.

A row is one item: the common fields (code, name, jurisdiction, agency, address, lat,
lon), the datum of its coordinates, then the details of its kind, one column per field.
Lists sit in one cell: entries separated by ``；`` or ``;`` (or by line breaks, which the
writer uses for structured entries so that a text may hold a semicolon); the parts of a
structured entry are separated by ``|``: contacts ``name|role|phone``, chemicals
``name|un_number|quantity_t|cas``, plan steps ``id|text|role|within_min``, a plan's
resources ``capability|quantity``. Headers are Chinese; the field names are accepted too.

Pure: no file and no database (:mod:`backend.registry.sheets` reads and writes files).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from realtime.protocol import (
    Availability,
    ChemicalAmount,
    Contact,
    ItemKind,
    PlanStep,
    RegistryItemView,
    ResourceNeed,
    RiskGrade,
    TargetCategory,
    TeamState,
)

LIST_SEPARATORS = re.compile(r"[;；]")
PART_SEPARATORS = re.compile(r"[|｜]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What no cell may hold (tab and line breaks may)."""
TEXT_ESCAPE = "'"
"""Prefix written before a text that starts with ``=``, ``+``, ``-`` or ``@`` (so no
spreadsheet takes it for a formula) and removed on reading."""
_FORMULA_STARTS = ("=", "+", "-", "@")

KIND_SHEET_NAMES: dict[ItemKind, str] = {
    ItemKind.ENTERPRISE: "企业",
    ItemKind.HAZARD_SOURCE: "重大危险源",
    ItemKind.TEAM: "应急队伍",
    ItemKind.EQUIPMENT: "应急装备物资",
    ItemKind.SHELTER: "避难场所",
    ItemKind.EXPERT: "专家",
    ItemKind.TARGET: "防护目标",
    ItemKind.PLAN: "应急预案",
}
"""The Chinese sheet name of each kind (the English value is accepted too)."""


class Datum(enum.StrEnum):
    """The datum a row's coordinates are in."""

    WGS84 = "wgs84"
    """GPS, 天地图 (stored as is)."""
    GCJ02 = "gcj02"
    """高德, 腾讯 (converted to WGS-84 on the way in)."""


DATUM_LABELS = {Datum.WGS84: "WGS-84", Datum.GCJ02: "GCJ-02"}


class CellError(Exception):
    """A cell that cannot be read as its column asks; ``str()`` is the reason."""


class CellType(enum.Enum):
    """How a column's cells are read and written."""

    TEXT = "text"
    CODE = "code"
    """A text that is absent (None) when empty."""
    INT = "int"
    FLOAT = "float"
    OPTIONAL_FLOAT = "optional_float"
    ENUM = "enum"
    GRADE = "grade"
    LEVEL = "level"
    LEVELS = "levels"
    LIST = "list"
    CONTACTS = "contacts"
    CHEMICALS = "chemicals"
    STEPS = "steps"
    RESOURCES = "resources"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a kind's sheet."""

    field: str
    """The field of :class:`RegistryItemInput` (or of the kind's details)."""
    header: str
    """The Chinese header the writer uses."""
    cell: CellType
    help: str
    """What goes in it (the template's 说明 sheet)."""
    in_details: bool = True
    required: bool = False
    labels: Mapping[str, str] | None = None
    """An enum column's Chinese label per value."""


RISK_LABELS: dict[str, str] = {
    RiskGrade.RED: "重大风险",
    RiskGrade.ORANGE: "较大风险",
    RiskGrade.YELLOW: "一般风险",
    RiskGrade.BLUE: "低风险",
}
TEAM_STATE_LABELS: dict[str, str] = {
    TeamState.STANDBY: "待命",
    TeamState.DEPLOYED: "出动中",
    TeamState.OFF_DUTY: "休整",
}
AVAILABILITY_LABELS: dict[str, str] = {
    Availability.AVAILABLE: "可联系",
    Availability.BUSY: "忙碌",
    Availability.UNAVAILABLE: "不可联系",
}
TARGET_LABELS: dict[str, str] = {
    TargetCategory.SCHOOL: "学校",
    TargetCategory.KINDERGARTEN: "幼儿园",
    TargetCategory.HOSPITAL: "医院",
    TargetCategory.NURSING_HOME: "养老院",
    TargetCategory.RESIDENTIAL: "居民区",
    TargetCategory.MARKET: "商场",
    TargetCategory.GOVERNMENT: "政府机关",
    TargetCategory.WATER_SOURCE: "饮用水源地",
    TargetCategory.OTHER: "其他",
}
_EXTRA_ALIASES = {
    "红": RiskGrade.RED.value,
    "橙": RiskGrade.ORANGE.value,
    "黄": RiskGrade.YELLOW.value,
    "蓝": RiskGrade.BLUE.value,
    "不可用": TeamState.OFF_DUTY.value,
    "集贸市场": TargetCategory.MARKET.value,
}

COMMON_COLUMNS = (
    Column("code", "代码", CellType.TEXT, "唯一代码：字母、数字和 _.:-，最长 64", False, True),
    Column("name", "名称", CellType.TEXT, "名称，最长 200 字", False, True),
    Column("jurisdiction", "辖区", CellType.TEXT, "辖区代码（如 330106）", False),
    Column("agency", "所属单位", CellType.TEXT, "所属单位代码（如 fire）", False),
    Column("address", "地址", CellType.TEXT, "地址（按原文保存）", False),
    Column("lat", "纬度", CellType.OPTIONAL_FLOAT, "纬度，度（与经度同填或同空）", False),
    Column("lon", "经度", CellType.OPTIONAL_FLOAT, "经度，度", False),
)
DATUM_FIELD = "datum"
DATUM_HEADER = "坐标系"
DATUM_HELP = (
    "WGS-84（GPS、天地图）或 GCJ-02（高德、腾讯，导入时转换为 WGS-84）；空：按命令的 --datum"
)
RETIRED_FIELD = "retired"
RETIRED_HEADER = "已注销"
RETIRED_HELP = "导出时标明已注销的条目；导入时忽略（注销在控制台办理）"

_CONTACTS_HELP = "联系人：姓名|职务|电话，多人用；分隔"
_DETAILS: dict[ItemKind, tuple[Column, ...]] = {
    ItemKind.ENTERPRISE: (
        Column("credit_code", "统一社会信用代码", CellType.TEXT, "18 位统一社会信用代码"),
        Column("industry", "行业", CellType.TEXT, "如 危险化学品生产、煤矿"),
        Column(
            "risk_grade", "风险等级", CellType.ENUM, "重大/较大/一般/低风险", labels=RISK_LABELS
        ),
        Column("employees", "从业人数", CellType.INT, "人数（整数）"),
        Column("contacts", "联系人", CellType.CONTACTS, _CONTACTS_HELP),
    ),
    ItemKind.HAZARD_SOURCE: (
        Column("grade", "危险源等级", CellType.GRADE, "一级…四级（或 1…4）", required=True),
        Column("enterprise", "所属企业", CellType.CODE, "所属企业的代码"),
        Column(
            "chemicals",
            "危险化学品",
            CellType.CHEMICALS,
            "名称|UN号|储量(吨)|CAS号，多种用；分隔（如 液氯|1017|50）",
        ),
        Column("sensors", "传感器", CellType.LIST, "传感器编号，用；分隔"),
        Column("cameras", "摄像头", CellType.LIST, "摄像头代码，用；分隔"),
    ),
    ItemKind.TEAM: (
        Column("team_type", "队伍类型", CellType.TEXT, "如 危化品救援、矿山救护", required=True),
        Column("members", "人数", CellType.INT, "队员人数（整数）"),
        Column("capabilities", "能力", CellType.LIST, "如 hazmat；rescue；medical"),
        Column("state", "状态", CellType.ENUM, "待命/出动中/休整", labels=TEAM_STATE_LABELS),
        Column("units", "出动单元", CellType.LIST, "所属出动单元代码，用；分隔"),
        Column("vehicles", "车辆", CellType.LIST, "车载终端号（JT/T 808 手机号），用；分隔"),
        Column("contacts", "联系人", CellType.CONTACTS, _CONTACTS_HELP),
    ),
    ItemKind.EQUIPMENT: (
        Column("category", "类别", CellType.TEXT, "如 防化服、堵漏器材、帐篷", required=True),
        Column("quantity", "数量", CellType.FLOAT, "数量（数字）"),
        Column("measure", "计量单位", CellType.TEXT, "套、台、吨、顶…"),
        Column("owner", "持有单位", CellType.TEXT, "队伍或企业代码，或库名"),
        Column("capabilities", "用途", CellType.LIST, "用途（与队伍能力同词），用；分隔"),
    ),
    ItemKind.SHELTER: (
        Column("capacity", "容纳人数", CellType.INT, "可容纳人数（整数）", required=True),
        Column("occupancy", "当前人数", CellType.INT, "当前安置人数（整数）"),
        Column("area_m2", "面积(平方米)", CellType.FLOAT, "有效面积，平方米"),
        Column("facilities", "设施", CellType.LIST, "如 供水；供电；医疗"),
        Column("contacts", "联系人", CellType.CONTACTS, _CONTACTS_HELP),
    ),
    ItemKind.EXPERT: (
        Column("specialties", "专业", CellType.LIST, "如 危险化学品；消防"),
        Column("organisation", "工作单位", CellType.TEXT, "工作单位"),
        Column("title", "职称", CellType.TEXT, "如 教授级高工"),
        Column(
            "availability",
            "可联系状态",
            CellType.ENUM,
            "可联系/忙碌/不可联系",
            labels=AVAILABILITY_LABELS,
        ),
        Column("contacts", "联系人", CellType.CONTACTS, _CONTACTS_HELP),
    ),
    ItemKind.TARGET: (
        Column(
            "category",
            "类别",
            CellType.ENUM,
            "学校/幼儿园/医院/养老院/居民区/商场/政府机关/饮用水源地/其他",
            required=True,
            labels=TARGET_LABELS,
        ),
        Column("population", "人数", CellType.INT, "通常在场人数（整数）"),
        Column("contacts", "联系人", CellType.CONTACTS, _CONTACTS_HELP),
    ),
    ItemKind.PLAN: (
        Column(
            "type_codes",
            "事件类型",
            CellType.LIST,
            "适用的事件类型代码，用；分隔（如 hazchem_leak）",
            required=True,
        ),
        Column("levels", "事件级别", CellType.LEVELS, "I；II；III；IV，空：所有级别"),
        Column("response_level", "响应级别", CellType.LEVEL, "I、II、III 或 IV"),
        Column("roles", "角色", CellType.LIST, "如 总指挥；现场指挥部；专家组"),
        Column(
            "steps",
            "处置步骤",
            CellType.STEPS,
            "编号|内容|责任角色|时限(分钟)，每步一行（或用；分隔）；一行一个预案",
        ),
        Column("resources", "所需资源", CellType.RESOURCES, "能力|数量，用；分隔（如 hazmat|2）"),
        Column("specialties", "专家专业", CellType.LIST, "所需专家专业，用；分隔"),
        Column("documents", "文档", CellType.LIST, "附件编号，用；分隔"),
    ),
}


def details_columns(kind: ItemKind) -> tuple[Column, ...]:
    """The columns of ``kind``'s details, in sheet order."""
    return _DETAILS[kind]


def kind_of_sheet(name: str) -> ItemKind | None:
    """The kind a sheet's name (Chinese or English) stands for, else None."""
    wanted = name.strip().lower()
    for kind, chinese in KIND_SHEET_NAMES.items():
        if wanted in (chinese, kind.value):
            return kind
    return None


def header_key(text: str) -> str:
    """How headers are compared: trimmed, lowercase, no spaces."""
    return "".join(text.split()).lower()


# ------------------------------------------------------------------------ reading cells


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # a code or phone typed into a number cell
    text = str(raw).strip()
    if text.startswith(TEXT_ESCAPE) and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise CellError(f"not a number: {raw!r}")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            raise CellError(f"not a number: {text[:40]!r}") from None
    if not math.isfinite(value):
        raise CellError("not a finite number")
    return value


def _whole(raw: object) -> int:
    value = _number(raw)
    if not value.is_integer():
        raise CellError(f"not a whole number: {raw!r}")
    return int(value)


def entries(raw: object) -> list[str]:
    """A list cell's entries: by line breaks when it has any, else by ``；``/``;``."""
    text = _text(raw)
    if not text:
        return []
    parts = text.splitlines() if "\n" in text else LIST_SEPARATORS.split(text)
    return [part.strip() for part in parts if part.strip()]


def _parts(entry: str, names: tuple[str, ...]) -> list[str]:
    parts = [part.strip() for part in PART_SEPARATORS.split(entry)]
    if len(parts) > len(names):
        raise CellError(f"{entry[:40]!r} has more than {len(names)} parts ({'|'.join(names)})")
    return parts + [""] * (len(names) - len(parts))


def _enum_value(raw: object, column: Column) -> str:
    text = _text(raw)
    labels = column.labels or {}
    for value, label in labels.items():
        if text.lower() == value or text == label:
            return value
    alias = _EXTRA_ALIASES.get(text)
    if alias is not None and alias in labels:
        return alias
    allowed = "、".join(f"{label}/{value}" for value, label in labels.items())
    raise CellError(f"unknown value {text[:40]!r} (one of {allowed})")


_GRADES = {"一": 1, "二": 2, "三": 3, "四": 4}
_ROMAN = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV"}


def _grade(raw: object) -> int:
    text = _text(raw).removesuffix("级")
    if text in _GRADES:
        return _GRADES[text]
    try:
        return _whole(text)
    except CellError:
        raise CellError(f"unknown grade {text[:20]!r} (一级…四级 or 1…4)") from None


def _level(text: str) -> str:
    text = text.strip().removesuffix("级")
    return _ROMAN.get(text, text.upper())


def _contact(entry: str) -> dict[str, object]:
    name, role, phone = _parts(entry, ("name", "role", "phone"))
    return {"name": name, "role": role, "phone": phone}


def _chemical(entry: str) -> dict[str, object]:
    name, un_number, quantity, cas = _parts(entry, ("name", "un_number", "quantity_t", "cas"))
    return {
        "name": name,
        "un_number": un_number,
        "cas": cas,
        "quantity_t": _number(quantity) if quantity else 0.0,
    }


def _step(entry: str) -> dict[str, object]:
    step_id, text, role, within = _parts(entry, ("id", "text", "role", "within_min"))
    step: dict[str, object] = {"id": step_id, "text": text, "role": role}
    if within:
        step["within_min"] = _number(within)
    return step


def _resource(entry: str) -> dict[str, object]:
    capability, quantity = _parts(entry, ("capability", "quantity"))
    return {"capability": capability, "quantity": _number(quantity) if quantity else 1.0}


_STRUCTURED: dict[CellType, Callable[[str], dict[str, object]]] = {
    CellType.CONTACTS: _contact,
    CellType.CHEMICALS: _chemical,
    CellType.STEPS: _step,
    CellType.RESOURCES: _resource,
}
ABSENT = object()
"""What :func:`read_cell` returns for an empty cell whose field keeps its default."""


_SIMPLE: dict[CellType, Callable[[object], object]] = {
    CellType.TEXT: _text,
    CellType.CODE: lambda raw: _text(raw) or ABSENT,
    CellType.INT: _whole,
    CellType.FLOAT: _number,
    CellType.OPTIONAL_FLOAT: _number,
    CellType.GRADE: _grade,
    CellType.LEVEL: lambda raw: _level(_text(raw)),
    CellType.LEVELS: lambda raw: [_level(entry) for entry in entries(raw)],
    CellType.LIST: entries,
}


def read_cell(column: Column, raw: object) -> object:
    """The value of one cell for ``column`` (:data:`ABSENT` when empty), or raise
    :class:`CellError` saying why it cannot be read."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ABSENT
    if isinstance(raw, str) and raw.startswith("="):
        raise CellError("a formula: type the value itself (formulas are not imported)")
    if isinstance(raw, str) and CONTROL_CHARACTERS.search(raw):
        raise CellError("holds control characters (NUL…): not text a person typed")
    if column.cell is CellType.ENUM:
        return _enum_value(raw, column)
    simple = _SIMPLE.get(column.cell)
    if simple is not None:
        return simple(raw)
    parse = _STRUCTURED[column.cell]
    return [parse(entry) for entry in entries(raw)]


def read_datum(raw: object) -> Datum | None:
    """A datum cell (``WGS-84``, ``wgs84``, ``GCJ-02``…); None when empty."""
    text = _text(raw).replace("-", "").replace("_", "").replace(" ", "").lower()
    if not text:
        return None
    try:
        return Datum(text)
    except ValueError:
        raise CellError(f"unknown datum {text[:20]!r} (WGS-84 or GCJ-02)") from None


# ------------------------------------------------------------------------ writing cells


class WriteError(Exception):
    """A value that a cell cannot hold without changing it on the way back."""


def _escaped(text: str) -> str:
    if text.startswith(_FORMULA_STARTS) or text.startswith(TEXT_ESCAPE):
        return TEXT_ESCAPE + text
    return text


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _joined_parts(parts: list[str]) -> str:
    for part in parts:
        if PART_SEPARATORS.search(part) or "\n" in part:
            raise WriteError(f"{part[:40]!r} holds a '|' or a line break")
    return "|".join(parts).rstrip("|")


def _joined(values: list[str], *, structured: bool) -> str:
    if any("\n" in value for value in values):
        raise WriteError("an entry holds a line break")
    lines = structured or any(LIST_SEPARATORS.search(value) for value in values)
    return ("\n" if lines else "；").join(values)


def _structured_entry(value: object) -> list[str]:
    match value:
        case Contact():
            return [value.name, value.role, value.phone]
        case ChemicalAmount():
            parts = [value.name, value.un_number, _plain_number(value.quantity_t)]
            return [*parts, value.cas] if value.cas else parts
        case PlanStep():
            within = "" if value.within_min is None else _plain_number(value.within_min)
            return [value.id, value.text, value.role, within]
        case ResourceNeed():
            return [value.capability, _plain_number(value.quantity)]
    raise WriteError(f"unexpected entry {value!r}")


def write_cell(column: Column, value: object) -> object:
    """The cell for ``value`` in ``column``: numbers stay numbers, the rest text."""
    if value is None:
        return None
    match column.cell:
        case CellType.INT | CellType.FLOAT | CellType.OPTIONAL_FLOAT:
            return value
        case CellType.GRADE:
            return f"{'一二三四'[int(str(value)) - 1]}级"
        case CellType.ENUM:
            return (column.labels or {}).get(str(value), str(value))
        case CellType.LIST | CellType.LEVELS if isinstance(value, list):
            return _escaped(_joined([str(v) for v in value], structured=False))
        case CellType.TEXT | CellType.CODE | CellType.LEVEL:
            return _escaped(str(value))
    if not isinstance(value, list):
        raise WriteError(f"unexpected value {value!r}")
    return _escaped(_joined([_joined_parts(_structured_entry(v)) for v in value], structured=True))


def view_row(kind: ItemKind, item: RegistryItemView, *, retired: bool) -> list[object]:
    """One item's cells in sheet order: the common fields, the datum, the details, then
    (``retired``) whether it is retired."""
    row: list[object] = []
    for column in (*COMMON_COLUMNS, None, *details_columns(kind)):
        if column is None:
            row.append(DATUM_LABELS[Datum.WGS84] if item.lat is not None else None)
            continue
        source: object = item.details if column.in_details else item
        try:
            row.append(write_cell(column, getattr(source, column.field)))
        except WriteError as exc:
            raise WriteError(f"{item.kind.value} {item.code}: {column.header}: {exc}") from None
    if retired:
        row.append("是" if item.retired else None)
    return row


def headers(kind: ItemKind, *, retired: bool) -> list[str]:
    """The header row of ``kind``'s sheet (as :func:`view_row` fills it)."""
    names = [c.header for c in COMMON_COLUMNS] + [DATUM_HEADER]
    names += [c.header for c in details_columns(kind)]
    return [*names, RETIRED_HEADER] if retired else names
