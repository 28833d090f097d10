"""The Excel workbook of ``danger.export`` and ``dutydesk danger export``: one sheet per
grouping of the statistics and one listing the dangers the filter selects (the
responsible person's phone masked), with Chinese headers."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from backend.dangers import labels
from realtime.protocol import DangerGroup, DangerStatsRow, HiddenDangerView

SHEET_OF_GROUP: Mapping[DangerGroup, str] = {
    DangerGroup.ENTERPRISE: "按企业统计",
    DangerGroup.INDUSTRY: "按行业统计",
    DangerGroup.JURISDICTION: "按辖区统计",
}
DANGERS_SHEET = "隐患清单"
STATS_HEADERS = (
    "排名",
    "编码",
    "名称",
    "隐患总数",
    "重大隐患",
    "未销号",
    "逾期",
    "已整改",
    "整改率",
    "按期整改率",
)
DANGER_HEADERS = (
    "编号",
    "企业",
    "行业",
    "辖区",
    "来源",
    "类别",
    "等级",
    "状态",
    "部位",
    "隐患描述",
    "整改措施",
    "整改期限",
    "责任人",
    "责任人电话",
    "发现时间",
    "上报人",
    "整改完成",
    "验收时间",
    "逾期",
    "督办",
)
LOCAL = dt.timezone(dt.timedelta(hours=8))
"""Times in the workbook are Beijing time (Excel has no time zones)."""


def _local(at: dt.datetime | None) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at is not None else ""


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What Excel would take for a formula: enterprises write the descriptions (hostile
input), so such a cell is forced to text."""


def _append(sheet: Worksheet, values: Sequence[object]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_STARTS):
            cell.data_type = "s"  # text, never a formula Excel would run


def _stats_sheet(sheet: Worksheet, rows: Sequence[DangerStatsRow]) -> None:
    sheet.append(STATS_HEADERS)
    for row in rows:
        _append(
            sheet,
            (
                row.rank,
                row.key,
                row.name,
                row.total,
                row.major,
                row.open,
                row.overdue,
                row.rectified,
                row.rectification_rate,
                row.on_time_rate,
            ),
        )
        for column in ("I", "J"):
            sheet[f"{column}{sheet.max_row}"].number_format = "0.0%"


def _dangers_sheet(sheet: Worksheet, dangers: Sequence[HiddenDangerView]) -> None:
    sheet.append(DANGER_HEADERS)
    for d in dangers:
        _append(
            sheet,
            (
                d.id,
                d.enterprise_name or d.enterprise,
                d.industry,
                d.jurisdiction,
                labels.SOURCE[d.source],
                labels.CATEGORY[d.category],
                labels.GRADE[d.grade],
                labels.STATE[d.state],
                d.place,
                d.description,
                d.measures,
                _local(d.deadline),
                d.responsible_name,
                d.responsible_phone,
                _local(d.found_at),
                d.reported_by,
                _local(d.rectified_at),
                _local(d.verified_at),
                "是" if d.overdue else "",
                labels.RUNG.get(d.escalated_to, d.escalated_to),
            ),
        )


def workbook(
    stats: Mapping[DangerGroup, Sequence[DangerStatsRow]], dangers: Sequence[HiddenDangerView]
) -> bytes:
    """The .xlsx bytes."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for group, sheet_name in SHEET_OF_GROUP.items():
        _stats_sheet(book.create_sheet(sheet_name), stats.get(group, ()))
    _dangers_sheet(book.create_sheet(DANGERS_SHEET), dangers)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
