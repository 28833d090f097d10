"""Orders to vehicle terminals through the server: a real server with its JT/T 808
gateway on 127.0.0.1, simulated trucks over TCP (2013 and 2019), real consoles.

Roles per order, the two steps of control orders (token single use, per user, expiring),
the vehicle's area by its latest fix (outside it: refused like a missing vehicle), the
audit event fanned out by area, offline terminals, timeouts and the per-user rate limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.errors import Error
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import EventRecord
from backend.vehicles import commands
from devices.jt808.framing import ProtocolVersion
from devices.jt808.gateway.orders import MAX_PENDING_ORDERS
from devices.jt808.messages import PositionAnswer
from devices.jt808.simulator import SimulatedTruck, TerminalClient, TruckPlan
from realtime.client import CommandError
from realtime.protocol import (
    ConfirmVehicleCommand,
    ErrorCode,
    Ping,
    Role,
    SendText,
    SendVehicleCommand,
    Subscribe,
    TextSent,
    VehicleCommandResult,
    VehicleCommandView,
)
from realtime.protocol.vehicle_commands import (
    CallBack,
    CommandOutcome,
    DoorControl,
    ParameterValue,
    QueryParameters,
    QueryPosition,
    SetParameters,
    TemporaryTracking,
    TextToDriver,
    VehicleControl,
    VehicleOrder,
)
from realtime.ratelimit import UserRateLimit
from tests.backend.conftest import USERS, Console, open_console
from tests.backend.server.test_wire_robustness import _recv, raw_console
from tests.devices.test_gateway import location

PHONE = "13912345678"
PLATE = "苏A·D8821"
UNKNOWN = "13000000000"


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[DutyDeskServer]:
    """A server with a JT/T 808 gateway on a free port and a Hangzhou officer."""
    srv = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=tmp_path,
            port=0,
            cipher=FieldCipher.generate(),
            jt808_listen=("127.0.0.1", 0),
            console_rate_per_second=1000.0,
            console_rate_burst=1000,
        )
    )
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    await srv.users.add_user("supervisor2", "pw-supervisor2", Role.SUPERVISOR)
    await srv.users.add_user("hz-officer", "pw-hz-officer", Role.OFFICER, jurisdiction="3301")
    await srv.registry.add("jt808", PHONE, "液氨槽车", plate=PLATE)
    yield srv
    await srv.close()


async def _truck(server: DutyDeskServer, version: ProtocolVersion) -> SimulatedTruck:
    truck = SimulatedTruck(PHONE, PLATE, TruckPlan(interval_s=1.0), version=version)
    await truck.connect("127.0.0.1", server.jt808_port)
    await truck.report()  # its latest fix places it (Shanghai)
    await _until(lambda: any(p.device == PHONE for p in server.hub.latest_positions()))
    return truck


def _doors_locked(truck: SimulatedTruck) -> bool:
    return truck.orders.doors_locked


async def _until(predicate: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110 - server state
            await asyncio.sleep(0.02)


async def _order(console: Console, order: VehicleOrder, device: str = PHONE) -> VehicleCommandView:
    result = await console.client.request(SendVehicleCommand(req="", device=device, order=order))
    assert isinstance(result, VehicleCommandResult)
    return result.command


async def _confirm(console: Console, token: str) -> VehicleCommandView:
    result = await console.client.request(ConfirmVehicleCommand(req="", token=token))
    assert isinstance(result, VehicleCommandResult)
    return result.command


async def _refused(console: Console, command: object) -> CommandError:
    with pytest.raises(CommandError) as refused:
        await console.client.request(command)  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize("version", [ProtocolVersion.V2013, ProtocolVersion.V2019])
async def test_query_then_a_confirmed_door_lock_reach_the_truck_and_the_log(
    server: DutyDeskServer, version: ProtocolVersion
) -> None:
    truck = await _truck(server, version)
    officer = await open_console(server)
    supervisor = await open_console(server, "supervisor1", "pw-supervisor1")
    other_supervisor = await open_console(server, "supervisor2", "pw-supervisor2")
    hangzhou = await open_console(server, "hz-officer", "pw-hz-officer")
    try:
        await officer.client.request(Subscribe(req="", topics=["positions"]))
        here = await _order(officer, QueryPosition())
        assert here.outcome is CommandOutcome.ANSWERED
        assert here.protocol == str(version.value)
        assert here.position is not None
        assert here.position.lat == pytest.approx(31.2304, abs=0.05)
        assert here.position.door_locked is False

        # Locking the doors: the officer may not; the supervisor gets a token first.
        refused = await _refused(
            officer,
            SendVehicleCommand(req="", device=PHONE, order=VehicleControl(door=DoorControl.LOCK)),
        )
        assert refused.code is ErrorCode.FORBIDDEN
        asked = await _order(supervisor, VehicleControl(door=DoorControl.LOCK))
        assert asked.outcome is CommandOutcome.CONFIRM_NEEDED
        assert asked.confirm_by is not None
        assert not _doors_locked(truck)  # nothing sent yet
        # Another supervisor cannot use it (refused like a missing one), nor can the officer.
        stolen = await _refused(other_supervisor, ConfirmVehicleCommand(req="", token=asked.token))
        assert stolen.code is ErrorCode.NOT_FOUND
        assert (await _refused(officer, ConfirmVehicleCommand(req="", token=asked.token))).code is (
            ErrorCode.FORBIDDEN
        )
        locked = await _confirm(supervisor, asked.token)
        assert locked.outcome is CommandOutcome.ANSWERED
        assert locked.position is not None
        assert locked.position.door_locked is True
        assert _doors_locked(truck)
        # Single use.
        again = await _refused(supervisor, ConfirmVehicleCommand(req="", token=asked.token))
        assert again.code is ErrorCode.NOT_FOUND

        # Both orders are in the log, seen by the readers of Shanghai, not by Hangzhou's.
        await officer.recorder.wait_for(
            lambda: len([e for e in officer.recorder.events if e.kind == "vehicle.command"]) >= 2
        )
        audited = [
            (e.actor, e.vehicle_command.order)
            for e in officer.recorder.events
            if isinstance(e.vehicle_command, VehicleCommandView)
        ]
        assert audited == [
            ("officer1", QueryPosition()),
            ("supervisor1", VehicleControl(door=DoorControl.LOCK)),
        ]
        # The log names the vehicle by its plate, as people do, beside the terminal.
        assert {
            (e.vehicle_command.plate, e.vehicle_command.device)
            for e in officer.recorder.events
            if isinstance(e.vehicle_command, VehicleCommandView)
        } == {(PLATE, PHONE)}
        assert locked.plate == PLATE
        await asyncio.sleep(0.2)
        assert not [e for e in hangzhou.recorder.events if e.kind == "vehicle.command"]
    finally:
        for console in (officer, supervisor, other_supervisor, hangzhou):
            await console.close()
        await truck.close()


async def test_a_vehicle_outside_the_area_is_refused_like_a_missing_one(
    server: DutyDeskServer,
) -> None:
    truck = await _truck(server, ProtocolVersion.V2013)
    hangzhou = await open_console(server, "hz-officer", "pw-hz-officer")
    try:
        outside = await _refused(
            hangzhou, SendVehicleCommand(req="", device=PHONE, order=QueryPosition())
        )
        missing = await _refused(
            hangzhou, SendVehicleCommand(req="", device=UNKNOWN, order=QueryPosition())
        )
        assert (outside.code, outside.message) == (missing.code, missing.message)
        assert outside.code is ErrorCode.FORBIDDEN
        assert truck.orders.orders == []
    finally:
        await hangzhou.close()
        await truck.close()


async def test_orders_by_role_and_checked_parameters(server: DutyDeskServer) -> None:
    truck = await _truck(server, ProtocolVersion.V2019)
    officer = await open_console(server)
    supervisor = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        tracking = await _order(officer, TemporaryTracking(interval_s=1, duration_s=1))
        assert (tracking.outcome, tracking.result) == (CommandOutcome.ANSWERED, "success")
        call = await _order(officer, CallBack(phone="02161234567"))
        assert call.result == "success"
        for order in (
            CallBack(phone="02161234567", listen=True),
            SetParameters(parameters=[ParameterValue(id=0x0029, value=10)]),
        ):
            refused = await _refused(officer, SendVehicleCommand(req="", device=PHONE, order=order))
            assert refused.code is ErrorCode.FORBIDDEN
        # A port of 0 or an unknown id never leaves the server.
        for bad, words in (
            (ParameterValue(id=0x0018, value=0), "must be 1..65535"),
            (ParameterValue(id=0x0013, value="gw example;rm"), "host name"),
            (ParameterValue(id=0x1234, value=1), "not one this platform sets"),
            (ParameterValue(id=0x0055, value="fast"), "is a number"),
            (ParameterValue(id=0x0083, value="苏A·🚚01"), "characters outside it"),
        ):
            refused = await _refused(
                supervisor,
                SendVehicleCommand(req="", device=PHONE, order=SetParameters(parameters=[bad])),
            )
            assert refused.code is ErrorCode.VALIDATION
            assert words in refused.message
        asked = await _order(
            supervisor,
            SetParameters(
                parameters=[
                    ParameterValue(id=0x0018, value=7019),
                    ParameterValue(id=0x0029, value=15),
                ]
            ),
        )
        done = await _confirm(supervisor, asked.token)
        assert (done.outcome, done.result) == (CommandOutcome.ANSWERED, "success")
        read = await _order(officer, QueryParameters(ids=[0x0018, 0x0029]))
        assert read.parameters == [
            ParameterValue(id=0x0018, value=7019),
            ParameterValue(id=0x0029, value=15),
        ]
        listening = await _order(supervisor, CallBack(phone="02161234567", listen=True))
        heard = await _confirm(supervisor, listening.token)
        assert heard.result == "success"
        assert [c.listen for c in truck.orders.calls] == [False, True]
    finally:
        await officer.close()
        await supervisor.close()
        await truck.close()


async def test_offline_timeout_and_rate_limit(server: DutyDeskServer) -> None:
    officer = await open_console(server)
    colleague = await open_console(server, "officer2", "pw-officer2")
    quiet = TerminalClient(PHONE)  # authenticates, reports, never answers an order
    try:
        offline = await _refused(
            officer, SendVehicleCommand(req="", device=UNKNOWN, order=QueryPosition())
        )
        assert offline.code is ErrorCode.DEVICE_OFFLINE

        await quiet.connect("127.0.0.1", server.jt808_port)
        await quiet.login(SimulatedTruck(PHONE, PLATE).register_message())
        server.vehicle_commands.reply_timeout = 0.3
        timed_out = await _order(officer, QueryPosition())
        assert timed_out.outcome is CommandOutcome.TIMEOUT
        await officer.recorder.wait_for(
            lambda: any(e.kind == "vehicle.command" for e in officer.recorder.events)
        )

        # Ten a minute: the eleventh (the two above count) is refused; a colleague is not.
        for _ in range(commands.ORDERS_PER_MINUTE - 2):
            await _refused(
                officer, SendVehicleCommand(req="", device=UNKNOWN, order=QueryPosition())
            )
        flood = await _refused(
            officer, SendVehicleCommand(req="", device=UNKNOWN, order=QueryPosition())
        )
        assert flood.code is ErrorCode.RATE_LIMITED
        other = await _refused(
            colleague, SendVehicleCommand(req="", device=UNKNOWN, order=QueryPosition())
        )
        assert other.code is ErrorCode.DEVICE_OFFLINE
    finally:
        await officer.close()
        await colleague.close()
        await quiet.close()


# --------------------------------------------------------------------------- the tokens


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


AT = dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC)


def test_a_token_expires_and_is_bound_to_its_user_terminal_and_order() -> None:
    clock = _Clock()
    tokens = commands.ConfirmationTokens(60, clock=clock)
    order = VehicleControl(door=DoorControl.UNLOCK)
    first = tokens.issue("supervisor1", PHONE, order, AT)
    assert first.confirm_by == AT + dt.timedelta(seconds=60)
    with pytest.raises(Error, match="not yours"):
        tokens.take(first.token, "supervisor2")
    taken = tokens.take(first.token, "supervisor1")  # still valid for its owner
    assert (taken.device, taken.order) == (PHONE, order)
    late = tokens.issue("supervisor1", "13800000001", order, AT)
    clock.now += 60
    with pytest.raises(Error, match="expired"):
        tokens.take(late.token, "supervisor1")
    assert len(tokens) == 0


def test_a_user_holds_a_bounded_number_of_tokens() -> None:
    clock = _Clock()
    tokens = commands.ConfirmationTokens(60, clock=clock)
    issued = []
    for _ in range(commands.MAX_TOKENS_PER_USER + 3):
        clock.now += 1
        issued.append(tokens.issue("supervisor1", PHONE, VehicleControl(door=DoorControl.LOCK), AT))
    assert len(tokens) == commands.MAX_TOKENS_PER_USER
    with pytest.raises(Error):
        tokens.take(issued[0].token, "supervisor1")  # the oldest went first
    tokens.take(issued[-1].token, "supervisor1")


def test_the_rate_limit_is_per_user_and_refills() -> None:
    clock = _Clock()
    limit = UserRateLimit(10, clock=clock)
    assert all(limit.allow("a") for _ in range(10))
    assert not limit.allow("a")
    assert limit.allow("b")
    clock.now += 6  # one order's worth of a minute
    assert limit.allow("a")
    assert not limit.allow("a")


def test_the_call_back_number_is_masked_for_the_log() -> None:
    masked = commands.masked(CallBack(phone="13812345678", listen=True))
    assert masked == CallBack(phone="138****5678", listen=True)
    assert commands.masked(QueryPosition()) == QueryPosition()


async def test_an_exercise_instance_never_orders_a_live_terminal(
    server: DutyDeskServer, tmp_path: Path
) -> None:
    from backend.exercises.clock import ExerciseClock
    from backend.exercises.instance import build_instance
    from realtime.protocol import ExerciseLabel, ExerciseState

    truck = await _truck(server, ProtocolVersion.V2013)
    label = ExerciseLabel(run_id="x1", title="演练", speed=1.0, state=ExerciseState.RUNNING)
    drill = build_instance(
        server,
        directory=tmp_path / "drill",
        label=label,
        clock=ExerciseClock(dt.datetime.now(dt.UTC), 1.0),
    )
    await drill.start()
    try:
        assert drill.vehicle_commands.sender is drill.jt808_gateway
        assert drill.jt808_gateway is not server.jt808_gateway
        with pytest.raises(Error) as refused:
            await drill.vehicle_commands.send("root", PHONE, QueryPosition(), "")
        assert refused.value.code is ErrorCode.DEVICE_OFFLINE
        assert truck.orders.orders == []
    finally:
        await drill.close()
        await truck.close()


async def test_an_order_cut_off_by_the_terminal_reconnecting_is_audited_as_unanswered(
    server: DutyDeskServer,
) -> None:
    """The order went out; the terminal reconnected before answering (its old connection
    is closed). It may have carried the order out: the console is told so, not that the
    terminal is not connected, and the order is in the log."""
    officer = await open_console(server)
    register = SimulatedTruck(PHONE, PLATE).register_message()
    first = TerminalClient(PHONE)  # receives the order, never answers
    second = TerminalClient(PHONE)
    try:
        await first.connect("127.0.0.1", server.jt808_port)
        await first.login(register)
        server.vehicle_commands.reply_timeout = 30.0  # the reconnect ends the wait, not this
        sent = asyncio.create_task(_order(officer, QueryPosition()))
        await _until(lambda: len(first.unsolicited) > 0)
        await second.connect("127.0.0.1", server.jt808_port)
        await second.login(register)
        async with asyncio.timeout(10):
            view = await sent
        assert (view.outcome, view.result) == (CommandOutcome.TIMEOUT, "connection_lost")
        await officer.recorder.wait_for(
            lambda: any(e.kind == "vehicle.command" for e in officer.recorder.events)
        )
    finally:
        await officer.close()
        await first.close()
        await second.close()


async def _answer(ws: Any, command: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(command))
    while (answer := await _recv(ws)).get("req") != command["req"]:
        pass
    return answer


async def test_a_resent_order_or_confirmation_gets_the_first_answer_and_acts_once(
    server: DutyDeskServer,
) -> None:
    """The client re-sends, with the same request id, a command whose answer a dropped
    link lost. A confirmation re-sent must not be told 'no such confirmation, send the
    order again' (the doors are locked already), nor may a re-sent order act twice."""
    truck = await _truck(server, ProtocolVersion.V2013)
    try:
        async with raw_console(server, "supervisor1", "pw-supervisor1") as ws:
            ask = {
                "type": "vehicle.command",
                "req": "ask-1",
                "device": PHONE,
                "order": {"type": "control", "door": "lock"},
            }
            token = (await _answer(ws, ask))["data"]["command"]["token"]
            confirm = {"type": "vehicle.confirm", "req": "confirm-1", "token": token}
            first = await _answer(ws, confirm)
            again = await _answer(ws, confirm)
            assert first["type"] == "result"
            assert again == first
            call = {
                "type": "vehicle.command",
                "req": "call-1",
                "device": PHONE,
                "order": {"type": "call_back", "phone": "02161234567"},
            }
            assert await _answer(ws, call) == await _answer(ws, call)
        assert [type(order).__name__ for order in truck.orders.orders] == [
            "VehicleControlOrder",
            "CallBackOrder",
        ]
    finally:
        await truck.close()


async def test_an_order_is_logged_even_when_its_console_goes_away_before_the_answer(
    server: DutyDeskServer,
) -> None:
    """A console closes while its order waits for the terminal (the link drops, or a user
    closes it on purpose): the order has gone out, so it is still logged with the answer."""
    quiet = TerminalClient(PHONE)  # answers the order by hand, below
    try:
        await quiet.connect("127.0.0.1", server.jt808_port)
        await quiet.login(SimulatedTruck(PHONE, PLATE).register_message())
        server.vehicle_commands.reply_timeout = 30.0
        async with raw_console(server, "supervisor1", "pw-supervisor1") as ws:
            await _answer(ws, {"type": "subscribe", "req": "s1", "topics": ["positions"]})
            await ws.send(
                json.dumps(
                    {
                        "type": "vehicle.command",
                        "req": "q1",
                        "device": PHONE,
                        "order": {"type": "query_position"},
                    }
                )
            )
            await _until(lambda: len(quiet.unsolicited) > 0)
        # A fix for the gone console: its session notices the closed socket and ends.
        await quiet.general(location())
        await _until(lambda: len(server.hub) == 0)
        order = quiet.unsolicited[-1]
        await quiet.send(PositionAnswer(reply_serial=order.header.serial, location=location()))

        async def logged() -> int:
            async with server.sessions() as session:
                count = await session.scalar(
                    select(func.count())
                    .select_from(EventRecord)
                    .where(EventRecord.kind == "vehicle.command")
                )
            return int(count or 0)

        async with asyncio.timeout(5):
            while await logged() == 0:  # noqa: ASYNC110 - the database, polled
                await asyncio.sleep(0.05)
    finally:
        await quiet.close()


async def test_orders_waiting_for_a_silent_truck_do_not_hold_up_the_consoles_other_work(
    server: DutyDeskServer,
) -> None:
    """An officer orders a truck that does not answer (its reply timeout is seconds) and
    meanwhile acknowledges an alarm: the acknowledgement is answered at once, the order
    when the terminal answers; a console has at most four such orders waiting."""
    quiet = TerminalClient(PHONE)  # authenticates, never answers an order by itself
    try:
        await quiet.connect("127.0.0.1", server.jt808_port)
        await quiet.login(SimulatedTruck(PHONE, PLATE).register_message())
        server.vehicle_commands.reply_timeout = 30.0
        async with raw_console(server, "supervisor1", "pw-supervisor1") as ws:
            for number in range(4):
                order = {"type": "query_position"}
                await ws.send(
                    json.dumps(
                        {"type": "vehicle.command", "req": f"q{number}", "device": PHONE}
                        | {"order": order}
                    )
                )
            await _until(lambda: len(quiet.unsolicited) == 4)
            # Other work is answered while the four orders wait (for 30 s each).
            async with asyncio.timeout(10):
                created = await _answer(
                    ws,
                    {
                        "type": "alarm.create",
                        "req": "a1",
                        "alarm_type": "fire",
                        "level": "red",
                        "title": "仓库烟感报警",
                    },
                )
            assert created["type"] == "result", created
            # A fifth is refused (not queued behind the four).
            fifth = await _answer(
                ws,
                {
                    "type": "vehicle.command",
                    "req": "q4",
                    "device": PHONE,
                    "order": {"type": "query_position"},
                },
            )
            assert (fifth["type"], fifth["code"]) == ("error", "rate_limited"), fifth
            # The terminal answers one of the orders (which one of the four went out as
            # which serial is the server's business): that order's answer comes at once.
            some_order = quiet.unsolicited[2]
            await quiet.send(
                PositionAnswer(reply_serial=some_order.header.serial, location=location())
            )
            async with asyncio.timeout(10):  # the others wait for their 30 s
                while (answered := await _recv(ws)).get("req") not in {"q0", "q1", "q2", "q3"}:
                    pass
            assert answered["type"] == "result", answered
            assert answered["data"]["command"]["outcome"] == "answered"
    finally:
        await quiet.close()


async def test_texts_are_limited_per_user_and_per_terminal_with_a_clear_refusal(
    server: DutyDeskServer,
) -> None:
    """A script sending texts is stopped at the user's budget (others unaffected); a
    terminal with as many texts awaiting its answer as the gateway holds refuses more as
    rate_limited, not as an internal error."""
    texts = server.vehicle_commands
    note = TextToDriver(text="注意")
    for _ in range(commands.TEXTS_PER_MINUTE):
        with pytest.raises(Error) as offline:
            await texts.send_text("officer1", note, UNKNOWN, "")
        assert offline.value.code is ErrorCode.DEVICE_OFFLINE
    with pytest.raises(Error) as flood:
        await texts.send_text("officer1", note, UNKNOWN, "")
    assert flood.value.code is ErrorCode.RATE_LIMITED
    with pytest.raises(Error) as other:
        await texts.send_text("officer2", note, UNKNOWN, "")
    assert other.value.code is ErrorCode.DEVICE_OFFLINE

    stop = TextToDriver(text="请立即停车", emergency=True)
    quiet = TerminalClient(PHONE)
    quiet.answer_texts = False  # at first
    try:
        await quiet.connect("127.0.0.1", server.jt808_port)
        await quiet.login(SimulatedTruck(PHONE, PLATE).register_message())
        assert server.jt808_gateway is not None
        server.jt808_gateway.reply_timeout = 2.0
        users = [f"dispatcher{n}" for n in range(MAX_PENDING_ORDERS)]
        waiting = [asyncio.create_task(texts.send_text(user, stop, PHONE, "")) for user in users]
        await _until(lambda: len(quiet.texts) == MAX_PENDING_ORDERS)
        with pytest.raises(Error) as full:
            await texts.send_text("officer2", stop, PHONE, "")
        assert full.value.code is ErrorCode.RATE_LIMITED
        unconfirmed = await asyncio.gather(*waiting)
        assert {view.outcome for view in unconfirmed} == {CommandOutcome.TIMEOUT}
        # The terminal is not cut off: once it answers, a text is confirmed.
        quiet.answer_texts = True
        confirmed = await texts.send_text("officer2", stop, PHONE, "")
        assert (confirmed.outcome, confirmed.result) == (CommandOutcome.ANSWERED, "success")
    finally:
        await quiet.close()


async def test_a_text_to_a_driver_is_in_the_event_log_for_the_vehicles_area(
    server: DutyDeskServer,
) -> None:
    """A text is an instruction to a driver: it is logged like an order (who, what, the
    terminal's answer), and fanned out to the readers of the vehicle's area only."""
    truck = await _truck(server, ProtocolVersion.V2013)  # in Shanghai
    officer = await open_console(server)
    hangzhou = await open_console(server, "hz-officer", "pw-hz-officer")
    try:
        sent = await officer.client.request(
            SendText(req="", device=PHONE, text="前方封路，请绕行", emergency=True)
        )
        assert isinstance(sent, TextSent)
        assert sent.acknowledged
        await officer.recorder.wait_for(
            lambda: any(e.kind == "vehicle.command" for e in officer.recorder.events)
        )
        event = next(e for e in officer.recorder.events if e.kind == "vehicle.command")
        assert event.actor == "officer1"
        view = event.vehicle_command
        assert isinstance(view, VehicleCommandView)
        assert view.order == TextToDriver(text="前方封路，请绕行", emergency=True, tts=True)
        assert (view.outcome, view.result, view.plate) == (
            CommandOutcome.ANSWERED,
            "success",
            PLATE,
        )
        assert truck.client is not None
        assert [t.text for t in truck.client.texts] == ["前方封路，请绕行"]
        # The Hangzhou officer does not see a Shanghai vehicle's text.
        await _ping(hangzhou)
        assert not any(e.kind == "vehicle.command" for e in hangzhou.recorder.events)
    finally:
        await officer.close()
        await hangzhou.close()
        await truck.close()


async def _ping(console: Console) -> None:
    """A round trip: the events committed before it have reached the console."""
    await console.client.request(Ping(req=""))
