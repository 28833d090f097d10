"""danger.stats against a hand-built set, the Excel export opened and read back, and
inspections with their findings (scope held by each)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from backend.dangers import export
from backend.errors import ForbiddenError, ValidationError
from realtime.protocol import (
    DangerAction,
    DangerFilter,
    DangerGrade,
    DangerGroup,
    DangerSource,
    InspectionInput,
)
from tests.backend.dangers.conftest import (
    ENT_A,
    ENT_B,
    OFFICER_HZ,
    OFFICER_SH,
    SUPERVISOR,
    T0,
    Env,
    finding,
)
from tests.backend.dangers.test_life_cycle import act

DAY = dt.timedelta(days=1)


async def _rectify(env: Env, danger_id: int, *, verify: bool) -> None:
    view = await env.service.get(SUPERVISOR, danger_id)
    if view.state == "assigned":
        view = await env.service.act(SUPERVISOR, act(danger_id, view.version, DangerAction.START))
    view = await env.service.act(SUPERVISOR, act(danger_id, view.version, DangerAction.COMPLETE))
    if verify:
        await env.service.act(SUPERVISOR, act(danger_id, view.version, DangerAction.VERIFY))


async def _world(env: Env) -> None:
    """ENT-HZ-A: 4 dangers (1 major); 2 rectified on time (1 verified), 1 rectified late,
    1 open and overdue. ENT-HZ-B: 1 danger, rectified on time and verified. ENT-SH-A: 1
    open, no deadline."""
    a = [
        await env.service.report(ENT_A, finding(deadline=T0 + 2 * DAY, name="甲")),
        await env.service.report(ENT_A, finding(deadline=T0 + 2 * DAY, name="甲")),
        await env.service.report(
            ENT_A, finding(grade=DangerGrade.MAJOR, deadline=T0 + DAY, name="乙")
        ),
        await env.service.report(ENT_A, finding(deadline=T0 + DAY, name="丙")),
    ]
    b = await env.service.report(ENT_B, finding("ENT-HZ-B", deadline=T0 + 2 * DAY, name="丁"))
    await env.service.report(OFFICER_SH, finding("ENT-SH-A"))
    await _rectify(env, a[0].id, verify=True)
    await _rectify(env, a[1].id, verify=False)
    await _rectify(env, b.id, verify=True)
    env.clock.advance(days=1, hours=12)  # a[2] and a[3] are late now
    await _rectify(env, a[2].id, verify=False)


async def test_the_figures_per_enterprise_industry_and_jurisdiction(env: Env) -> None:
    await _world(env)
    rows = await env.service.stats(SUPERVISOR, DangerGroup.ENTERPRISE)
    figures = {
        r.key: (r.total, r.major, r.open, r.overdue, r.rectified, r.rectification_rate, r.rank)
        for r in rows
    }
    assert figures == {
        "ENT-HZ-B": (1, 0, 0, 0, 1, 1.0, 1),
        "ENT-HZ-A": (4, 1, 3, 2, 3, 0.75, 2),
        "ENT-SH-A": (1, 0, 1, 0, 0, 0.0, 3),
    }
    assert [r.key for r in rows] == ["ENT-HZ-B", "ENT-HZ-A", "ENT-SH-A"]
    on_time = {r.key: r.on_time_rate for r in rows}
    assert on_time == {"ENT-HZ-B": 1.0, "ENT-HZ-A": round(2 / 3, 4), "ENT-SH-A": 1.0}
    by_area = await env.service.stats(OFFICER_HZ, DangerGroup.JURISDICTION)
    assert [(r.key, r.total) for r in by_area] == [("330106", 5)]
    by_industry = await env.service.stats(OFFICER_HZ, DangerGroup.INDUSTRY)
    assert {r.key: r.total for r in by_industry} == {"危险化学品生产": 4, "烟花爆竹": 1}
    # An enterprise's statistics hold only itself.
    assert [r.key for r in await env.service.stats(ENT_B, DangerGroup.ENTERPRISE)] == ["ENT-HZ-B"]
    # The period is by report time.
    assert await env.service.stats(SUPERVISOR, DangerGroup.ENTERPRISE, since=T0 + DAY) == []


async def test_the_workbook_holds_the_figures_and_masked_phones(env: Env) -> None:
    await _world(env)
    await env.service.report(
        ENT_A, finding(deadline=T0 + 9 * DAY, name="张建国", phone="13812345678")
    )
    filename, content = await env.service.export(OFFICER_HZ, DangerFilter())
    assert filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == [*export.SHEET_OF_GROUP.values(), export.DANGERS_SHEET]
    by_enterprise = list(book["按企业统计"].iter_rows(values_only=True))
    assert by_enterprise[0] == export.STATS_HEADERS
    assert [(r[1], r[3], r[6], r[8]) for r in by_enterprise[1:]] == [
        ("ENT-HZ-B", 1, 0, 1.0),
        ("ENT-HZ-A", 5, 2, 0.6),
    ]
    dangers = list(book[export.DANGERS_SHEET].iter_rows(values_only=True))
    assert dangers[0] == export.DANGER_HEADERS
    assert len(dangers) == 1 + 6  # Shanghai's is outside the officer's area
    text = repr(dangers)
    assert "138****5678" in text
    assert "13812345678" not in text
    assert "ENT-SH-A" not in text
    assert "徐汇冶金厂" not in text
    assert {row[7] for row in dangers[1:]} <= {"已交办", "已整改", "已验收", "已上报"}
    # An enterprise's export holds only itself.
    _name, mine = await env.service.export(ENT_B, DangerFilter())
    rows = list(openpyxl.load_workbook(io.BytesIO(mine))[export.DANGERS_SHEET].values)
    assert [row[1] for row in rows[1:]] == ["之江烟花爆竹仓库"]


async def test_an_inspection_records_its_findings_as_dangers(env: Env) -> None:
    inspection = InspectionInput(
        enterprise="ENT-HZ-B",
        inspected_at=T0,
        inspectors=["执法一", "执法二"],
        summary="年度执法检查",
        findings=[finding("ENT-HZ-B"), finding("ENT-HZ-B", grade=DangerGrade.MAJOR)],
    )
    view, found = await env.service.record_inspection(OFFICER_HZ, inspection)
    assert view.dangers == [d.id for d in found]
    assert {(d.source, d.inspection_id) for d in found} == {(DangerSource.INSPECTION, view.id)}
    assert env.kinds() == ["inspection.recorded", "danger.reported", "danger.reported"]
    assert [i.id for i in await env.service.list_inspections(ENT_B)] == [view.id]
    assert await env.service.list_inspections(ENT_A) == []
    assert await env.service.list_inspections(OFFICER_SH) == []
    with pytest.raises(ForbiddenError, match="no such enterprise in your area"):
        await env.service.record_inspection(OFFICER_SH, inspection)
    mixed = InspectionInput(
        enterprise="ENT-HZ-B", inspected_at=T0, inspectors=["执法一"], findings=[finding()]
    )
    with pytest.raises(ValidationError, match="one inspection covers one enterprise"):
        await env.service.record_inspection(OFFICER_HZ, mixed)
    assert len(env.kinds()) == 3, "nothing of a refused inspection is stored"
