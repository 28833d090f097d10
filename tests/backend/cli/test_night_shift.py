"""The demo's scripted night shift against a real server: the scenario's device alarms
flow, the shift raises an incident from the tanker's SOS, tasks fire, police and 120, the
fire desk finishes while the incident stays open, and the police task goes overdue and
escalates on the server's own deadline runner. With the demo registry loaded, the shift
asks for the recommendation and decision support, and the fire desk ticks its plan step."""

from __future__ import annotations

import concurrent.futures
import contextlib
import secrets

from backend.cli import night_shift
from backend.cli.demo import DemoFeed, load_scenario, night_shift_of
from backend.registry.files import DEMO_REGISTRY_JSON, load_registry_json
from backend.server.embedded import ServerThread
from realtime.incident_states import EscalationCause, EscalationLevel, IncidentState, TaskState
from realtime.protocol import ChecklistResult, ChecklistView, MessageView, RingKind, Role, TaskView


def test_the_night_shift_ends_with_fire_done_police_escalated_and_the_incident_open() -> None:
    scenario = load_scenario()
    device_password = secrets.token_urlsafe(12)

    with ServerThread(
        users=[(scenario.device, device_password, Role.DEVICE)],
        seed_units=False,
        seed_sensors=True,
        seed_cameras=True,
        seed_registry=load_registry_json(),
        registry_source=DEMO_REGISTRY_JSON.name,
    ) as server:
        feed = DemoFeed(
            server.device_url,
            scenario.device,
            device_password,
            scenario,
            interval=0.05,
            loop_forever=False,
        )
        feed_future: concurrent.futures.Future[None] = server.submit(feed.run())
        shift = night_shift_of(server, pace=0.05)
        shift.overdue_in = 1.0
        shift.alarm_timeout = 30.0
        try:
            outcome = server.call(shift.run(), timeout=60)
        finally:
            feed_future.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError):
                feed_future.exception(timeout=5)
        officer = server.add_user("checker", "pw-checker-officer", Role.OFFICER)
        stored = server.call(server.server.incidents.get_incident(officer, outcome.incident.id))
        tasks = server.call(server.server.incidents.tasks_of(officer, outcome.incident.id))
        timeline = server.call(server.server.incidents.timeline(officer, outcome.incident.id))
        checklist = server.call(server.server.checklists.checklist(officer, outcome.incident.id))

    assert stored.state is IncidentState.RESPONDING, "fire finishing does not close it"
    assert stored.type_code == night_shift.INCIDENT_TYPE
    assert len(stored.alarm_ids) == 1, "raised from the tanker's SOS alarm"
    by_agency: dict[str, TaskView] = {task.agency: task for task in tasks}
    assert set(by_agency) == {"fire", "police", "health"}
    assert by_agency["fire"].state is TaskState.DONE
    assert by_agency["fire"].assignee_user == night_shift.FIRE_DESK
    assert by_agency["health"].state is TaskState.EN_ROUTE
    police = by_agency["police"]
    assert police.state is TaskState.SENT, "the police desk never accepted"
    assert police.escalation_level is EscalationLevel.AGENCY_SUPERVISOR
    assert [e.cause for e in police.escalations] == [EscalationCause.ACCEPT]
    assert outcome.escalation.kind == "task.escalated"
    assert outcome.tasks["police"].id == police.id
    # The desks talked in the incident's chat: the messages are in its timeline, by seq.
    posted = [e.message for e in timeline if isinstance(e.message, MessageView)]
    assert [m.text for m in posted] == [m.text for m in outcome.messages]
    assert len(posted) == 4
    assert {m.author for m in posted} == {night_shift.SUPERVISOR, night_shift.FIRE_DESK}
    assert {m.incident_id for m in posted} == {stored.id}
    assert_the_shift_used_the_registry(outcome, stored.id, checklist)


def assert_the_shift_used_the_registry(
    outcome: night_shift.ShiftOutcome, incident_id: int, checklist: ChecklistResult
) -> None:
    """The supervisor asked for the ranking and the rings of the open incident; the fire
    desk ticked its step of the plan."""
    recommendation = outcome.recommendation
    assert recommendation.incident_id == incident_id
    assert recommendation.plan_code == "P-HCT-01", "the demo's plan for tanker accidents"
    teams = [item for item in recommendation.items if item.kind == "team"]
    assert teams, "the demo registry's teams are ranked"
    assert teams[0].rank == 1
    assert teams[0].eta_min is not None
    support = outcome.support
    assert support.incident_id == incident_id
    assert [c.un_number for c in support.chemicals] == ["1005"]
    assert [ring.kind for ring in support.rings] == [RingKind.ISOLATION, RingKind.PROTECTIVE]
    assert support.rings[0].radius_m < support.rings[1].radius_m
    # The fire desk ticked the plan's fire step (侦检、堵漏): stored, by the fire desk.
    assert isinstance(outcome.ticked, ChecklistView)
    assert outcome.ticked.plan_code == "P-HCT-01"
    [plan] = [c for c in checklist.checklists if c.plan_code == "P-HCT-01"]
    done = [step for step in plan.steps if step.done]
    assert [(step.id, step.role, step.done_by) for step in done] == [
        ("s4", "fire", night_shift.FIRE_DESK)
    ]
