"""The demo's hidden dangers (隐患): the board the demo opens on shows one of each life
stage — rectifying, overdue and escalated, under supervision, reported, verified, and one
found by an inspection — seeded through the real service and its rules."""

from __future__ import annotations

from backend.authz.principal import Principal
from backend.cli.demo import demo_server
from backend.cli.demo_dangers import seed_demo_dangers
from realtime.protocol import DangerFilter, Role
from realtime.protocol.dangers import DangerState

WHOLE_AREA = Principal(0, "t", "t", Role.SUPERVISOR, None, "")


def test_the_demo_board_shows_every_stage_of_a_hidden_danger() -> None:
    with demo_server([]) as server:
        service = server.server.dangers.service
        assert server.call(seed_demo_dangers(server.server)) == 6
        dangers, total = server.call(service.list_dangers(WHOLE_AREA, DangerFilter()))
    assert total == 6
    states = sorted(danger.state for danger in dangers)
    assert states == sorted(
        [
            DangerState.RECTIFYING,
            DangerState.OVERDUE,
            DangerState.SUPERVISED,
            DangerState.REPORTED,
            DangerState.VERIFIED,
            DangerState.ASSIGNED,  # the inspection's finding, with its deadline
        ]
    )
    (overdue,) = [danger for danger in dangers if danger.state is DangerState.OVERDUE]
    assert overdue.escalated_to, "the major one is escalated"
