"""Overdue and escalation: each exactly once, even with two instances checking at the
same moment; the rungs at the documented times (major: its area at once, the level above
after 3 days; general: after 3 and 7 days); the leased checker runs on one instance."""

from __future__ import annotations

import asyncio
import datetime as dt

from backend.dangers.deadlines import DangerDeadlines
from backend.runtime.leases import Leases
from realtime.protocol import DangerAction, DangerGrade, DangerState
from tests.backend.dangers.conftest import ENT_A, T0, Env, finding
from tests.backend.dangers.test_life_cycle import act


async def _check_twice_at_once(env: Env) -> int:
    other = env.second_instance()
    counts = await asyncio.gather(env.service.check_deadlines(), other.check_deadlines())
    return sum(counts)


async def test_overdue_and_each_rung_exactly_once_across_two_instances(env: Env) -> None:
    major = await env.service.report(
        ENT_A, finding(grade=DangerGrade.MAJOR, deadline=T0 + dt.timedelta(days=1), name="王")
    )
    general = await env.service.report(
        ENT_A, finding(deadline=T0 + dt.timedelta(days=1), name="李")
    )
    no_deadline = await env.service.report(ENT_A, finding())
    assert await _check_twice_at_once(env) == 0  # nothing due yet
    env.clock.advance(days=1, seconds=1)
    assert await _check_twice_at_once(env) == 2  # both overdue, once each
    assert await _check_twice_at_once(env) == 1  # the major one: its area at once
    assert await _check_twice_at_once(env) == 0
    env.clock.advance(days=3)
    # major → the level above; general → its area
    assert await _check_twice_at_once(env) == 2
    env.clock.advance(days=4)
    assert await _check_twice_at_once(env) == 1  # general → the level above (7 days)
    env.clock.advance(days=30)
    assert await _check_twice_at_once(env) == 0  # the top stays the top
    kinds = env.kinds()
    assert kinds.count("danger.overdue") == 2
    assert kinds.count("danger.escalated") == 4
    for danger, rungs in ((major, ["area", "above"]), (general, ["area", "above"])):
        view = await env.service.get(ENT_A, danger.id)
        assert (view.state, view.overdue, view.escalated_to) == (DangerState.OVERDUE, True, "above")
        assert [s.note for s in view.history if s.action == "escalate"] == rungs
    assert (await env.service.get(ENT_A, no_deadline.id)).state is DangerState.REPORTED
    escalations = [e for e in env.published if e.kind == "danger.escalated"]
    assert [e.note for e in escalations] == ["area", "above", "area", "above"]


async def test_a_rectified_danger_is_never_overdue(env: Env) -> None:
    danger = await env.service.report(
        ENT_A, finding(deadline=T0 + dt.timedelta(hours=1), name="王")
    )

    started = await env.service.act(ENT_A, act(danger.id, 1, DangerAction.START))
    await env.service.act(ENT_A, act(danger.id, started.version, DangerAction.COMPLETE))
    env.clock.advance(days=30)
    assert await env.service.check_deadlines() == 0


async def test_the_checker_runs_under_its_lease(env: Env) -> None:
    await env.service.report(ENT_A, finding(deadline=T0 + dt.timedelta(hours=1), name="王"))
    env.clock.advance(hours=2)
    leases = Leases(env.engine)
    checker = DangerDeadlines(env.service, interval=3600, lease=leases.lease("dangers test"))
    try:
        assert await checker.run_once()
    finally:
        await checker.stop()
        await leases.close()
    assert env.kinds()[-1] == "danger.overdue"
