"""A hidden danger's life: who may report it for which enterprise, each action by role,
the fields each needs, version checks and illegal steps; scope of list and get; the
responsible person's data encrypted at rest and masked where shown."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from backend.errors import Error, ForbiddenError, ValidationError
from backend.storage.danger_models import HiddenDangerRecord
from realtime.protocol import (
    ActOnDanger,
    DangerAction,
    DangerFilter,
    DangerSource,
    DangerState,
    ErrorCode,
)
from tests.backend.dangers.conftest import (
    ENT_A,
    ENT_B,
    OFFICER_HZ,
    OFFICER_SH,
    SUPERVISOR,
    T0,
    VIEWER_HZ,
    Env,
    finding,
)

DEADLINE = T0 + dt.timedelta(days=7)


def act(view_id: int, version: int, action: DangerAction, **fields: object) -> ActOnDanger:
    return ActOnDanger(req="", danger_id=view_id, version=version, action=action, **fields)  # type: ignore[arg-type]


async def test_an_enterprise_reports_for_itself_only(env: Env) -> None:
    mine = await env.service.report(ENT_A, finding())
    assert (mine.enterprise, mine.enterprise_name, mine.jurisdiction) == (
        "ENT-HZ-A",
        "西湖化工有限公司",
        "330106",
    )
    assert (mine.source, mine.state, mine.industry) == (
        DangerSource.SELF_INSPECTION,
        DangerState.REPORTED,
        "危险化学品生产",
    )
    # Another enterprise (even of the same district) is refused exactly like a missing one.
    refusals = []
    for code in ("ENT-HZ-B", "ENT-SH-A", "NO-SUCH"):
        with pytest.raises(ForbiddenError) as refused:
            await env.service.report(ENT_A, finding(code))
        refusals.append(str(refused.value))
    assert refusals == ["no such enterprise in your area"] * 3
    assert env.kinds() == ["danger.reported"]


async def test_an_officer_reports_for_the_enterprises_of_their_area(env: Env) -> None:
    assert (await env.service.report(OFFICER_HZ, finding("ENT-HZ-B"))).enterprise == "ENT-HZ-B"
    with pytest.raises(ForbiddenError, match="no such enterprise in your area"):
        await env.service.report(OFFICER_SH, finding("ENT-HZ-B"))


async def test_the_whole_life_by_role(env: Env) -> None:
    danger = await env.service.report(ENT_A, finding())
    with pytest.raises(ValidationError, match="assign needs deadline, responsible_name"):
        await env.service.act(ENT_A, act(danger.id, 1, DangerAction.ASSIGN))
    danger = await env.service.act(
        ENT_A,
        act(
            danger.id,
            1,
            DangerAction.ASSIGN,
            deadline=DEADLINE,
            responsible_name="张建国",
            responsible_phone="13812345678",
            measures="更换接地线并检测",
        ),
    )
    assert (danger.state, danger.deadline, danger.responsible_name) == (
        DangerState.ASSIGNED,
        DEADLINE,
        "张建国",
    )
    assert danger.responsible_phone == "138****5678"
    with pytest.raises(Error) as stale:
        await env.service.act(ENT_A, act(danger.id, 1, DangerAction.START))
    assert stale.value.code is ErrorCode.STALE_VERSION
    danger = await env.service.act(ENT_A, act(danger.id, 2, DangerAction.START))
    with pytest.raises(Error) as illegal:
        await env.service.act(OFFICER_HZ, act(danger.id, 3, DangerAction.VERIFY))
    assert illegal.value.code is ErrorCode.ILLEGAL_TRANSITION
    env.clock.advance(days=2)
    danger = await env.service.act(ENT_A, act(danger.id, 3, DangerAction.COMPLETE))
    assert danger.rectified_at == env.clock.now
    # The enterprise never verifies its own rectification; a viewer changes nothing.
    for who in (ENT_A, VIEWER_HZ):
        with pytest.raises(ForbiddenError, match=f"role {who.role} may not verify"):
            await env.service.act(who, act(danger.id, 4, DangerAction.VERIFY))
    with pytest.raises(ValidationError, match="reject needs note"):
        await env.service.act(OFFICER_HZ, act(danger.id, 4, DangerAction.REJECT))
    danger = await env.service.act(
        OFFICER_HZ, act(danger.id, 4, DangerAction.REJECT, note="接地电阻仍超标")
    )
    assert (danger.state, danger.rectified_at) == (DangerState.RECTIFYING, None)
    danger = await env.service.act(ENT_A, act(danger.id, 5, DangerAction.COMPLETE))
    danger = await env.service.act(OFFICER_HZ, act(danger.id, 6, DangerAction.VERIFY))
    assert danger.state is DangerState.VERIFIED
    assert [(s.action, s.state) for s in danger.history] == [
        ("report", DangerState.REPORTED),
        ("assign", DangerState.ASSIGNED),
        ("start", DangerState.RECTIFYING),
        ("complete", DangerState.RECTIFIED),
        ("reject", DangerState.RECTIFYING),
        ("complete", DangerState.RECTIFIED),
        ("verify", DangerState.VERIFIED),
    ]
    assert danger.history[4].note == "接地电阻仍超标"
    assert env.kinds() == ["danger.reported"] + ["danger.changed"] * 6


async def test_supervise_is_for_supervisors_of_an_overdue_danger(env: Env) -> None:
    danger = await env.service.report(
        ENT_A, finding(deadline=T0 + dt.timedelta(days=1), name="李工")
    )
    assert danger.state is DangerState.ASSIGNED  # reported with its deadline and person
    env.clock.advance(days=2)
    assert await env.service.check_deadlines() == 1
    danger = await env.service.get(ENT_A, danger.id)
    assert (danger.state, danger.overdue) == (DangerState.OVERDUE, True)
    later = env.clock.now + dt.timedelta(days=5)
    with pytest.raises(ForbiddenError, match="role officer may not supervise"):
        await env.service.act(
            OFFICER_HZ,
            act(
                danger.id,
                danger.version,
                DangerAction.SUPERVISE,
                note="挂牌",
                deadline=later,
            ),
        )
    supervised = await env.service.act(
        SUPERVISOR,
        act(
            danger.id,
            danger.version,
            DangerAction.SUPERVISE,
            note="挂牌督办",
            deadline=later,
        ),
    )
    assert (supervised.state, supervised.deadline) == (DangerState.SUPERVISED, later)
    done = await env.service.act(ENT_A, act(danger.id, supervised.version, DangerAction.COMPLETE))
    assert done.state is DangerState.RECTIFIED
    assert done.overdue, "once late, it stays counted late"


async def test_list_and_get_hold_the_scope(env: Env) -> None:
    a = await env.service.report(ENT_A, finding())
    b = await env.service.report(ENT_B, finding("ENT-HZ-B"))
    sh = await env.service.report(OFFICER_SH, finding("ENT-SH-A"))

    async def ids(who: object, spec: DangerFilter | None = None) -> list[int]:
        views, total = await env.service.list_dangers(who, spec or DangerFilter())  # type: ignore[arg-type]
        assert total == len(views)
        return [v.id for v in views]

    assert await ids(ENT_A) == [a.id]
    assert await ids(ENT_B) == [b.id]
    # Asking for another enterprise by filter gives nothing, not an error that tells.
    assert await ids(ENT_A, DangerFilter(enterprise="ENT-HZ-B")) == []
    assert await ids(OFFICER_HZ) == [b.id, a.id]
    assert await ids(OFFICER_SH) == [sh.id]
    assert await ids(SUPERVISOR) == [sh.id, b.id, a.id]
    for who, other in ((ENT_A, b.id), (ENT_B, a.id), (OFFICER_SH, a.id), (ENT_A, 999_999)):
        with pytest.raises(ForbiddenError, match="no such hidden danger in your area"):
            await env.service.get(who, other)
        with pytest.raises(ForbiddenError, match="no such hidden danger in your area"):
            await env.service.act(who, act(other, 1, DangerAction.START))


async def test_the_responsible_person_is_encrypted_at_rest_and_masked_in_the_log(
    env: Env,
) -> None:
    danger = await env.service.report(
        ENT_A, finding(deadline=DEADLINE, name="张建国", phone="13812345678")
    )
    assert (danger.responsible_name, danger.responsible_phone) == ("张建国", "138****5678")
    async with env.sessions() as session:
        row = await session.scalar(select(HiddenDangerRecord))
        assert row is not None
        assert "13812345678" not in row.responsible_enc
        assert "张建国" not in row.responsible_enc
        payloads = "".join((await session.scalars(text("SELECT payload FROM events"))).all())
    assert "13812345678" not in payloads
    assert "张建国" not in payloads
    assert "138****5678" in payloads


async def test_the_deadline_is_set_by_assign_and_supervise_only_and_lies_ahead(env: Env) -> None:
    """The deadline is what the danger is judged against (overdue, escalation, the on-time
    rate): an enterprise must not push its own out while starting or completing the work,
    and nobody may set one already past or years away."""
    deadline = T0 + dt.timedelta(days=1)
    danger = await env.service.report(ENT_A, finding(deadline=deadline, name="王工"))
    far = T0 + dt.timedelta(days=3650)
    for action in (DangerAction.START, DangerAction.COMPLETE):
        with pytest.raises(ValidationError, match=f"{action} takes no deadline"):
            await env.service.act(ENT_A, act(danger.id, danger.version, action, deadline=far))
    started = await env.service.act(ENT_A, act(danger.id, danger.version, DangerAction.START))
    assert started.deadline == deadline
    env.clock.advance(days=2)
    assert await env.service.check_deadlines() == 1  # the deadline held: overdue

    for bad, words in ((T0, "already past"), (far, "at most 366 days ahead")):
        with pytest.raises(ValidationError, match=words):
            await env.service.report(ENT_A, finding(deadline=bad, name="王工"))
        with pytest.raises(ValidationError, match=words):
            await env.service.act(
                SUPERVISOR,
                act(
                    danger.id,
                    started.version + 1,
                    DangerAction.SUPERVISE,
                    note="挂牌",
                    deadline=bad,
                ),
            )
    fresh = await env.service.report(ENT_A, finding())
    with pytest.raises(ValidationError, match="already past"):
        await env.service.act(
            ENT_A,
            act(fresh.id, 1, DangerAction.ASSIGN, deadline=env.clock.now, responsible_name="王工"),
        )
