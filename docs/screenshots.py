"""Make the user guide's screenshots of the incident, task, shift and registry workplaces.

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py --out docs/images

Starts the demo's backend (an embedded server on a temporary database with the demo's road
layer, the demo scenario's alarms and the scripted night shift), waits until the night
shift has raised its incident and escalated the police task, sends the fire desk a second
task that goes overdue and is put under supervision, imports a small duty roster and seeds
a year of closed incidents (the assessment benchmark's generator, a few hundred of them).
Then the real console,
offscreen and in Chinese, logs in as the night shift's ``fire_desk`` (its task inbox, the
badge) and as its ``duty_supervisor`` (the incident workspace, the chat, the handover
dialog with a generated report, the roster panel, the assessment of 2026-11, the registry
panel on the teams — three fictional teams entered through the console when the demo
registry has none; the 车辆指令 dialog locking a simulated truck's doors, its confirmation
and the terminal's answer; an exercise it starts from the 演练 panel and joins, the drill window
and the panel) and saves one PNG of each. Names and texts are fixed; only times and
counts follow the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

# Run as a script from the checkout: the repository's packages (and bench/) come first.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.cli import demo_publishing  # noqa: E402
from backend.cli.demo import DEMO_OFFICER, DEMO_ROADS, DemoFeed, load_scenario  # noqa: E402
from backend.cli.demo_dangers import seed_demo_dangers  # noqa: E402
from backend.cli.night_shift import (  # noqa: E402
    FIRE_DESK,
    SHIFT_USERS,
    SUPERVISOR,
    NightShift,
    ShiftOutcome,
)
from backend.registry.files import load_registry_json  # noqa: E402
from backend.server.embedded import ServerThread  # noqa: E402
from bench.assessment import World, seed  # noqa: E402
from devices.jt808.simulator import SimulatedTruck  # noqa: E402
from realtime.client import DutyDeskClient  # noqa: E402
from realtime.incident_states import AssigneeKind, Deadline  # noqa: E402
from realtime.protocol import (  # noqa: E402
    EnterpriseDetails,
    Event,
    Role,
    SendTask,
    SetTaskDeadlines,
    Snapshot,
    SuperviseTask,
    TaskResult,
    TaskView,
    Welcome,
)

logger = logging.getLogger("screenshots")

ENTERPRISE_USER = "hxxc_safety"
"""The enterprise user of the pictures (华鑫新材料, of the demo registry)."""

PASSWORD = "screenshots-only"  # noqa: S105 - throw-away accounts on a temporary database
DEVICE_PASSWORD = "screenshots-device"  # noqa: S105
WINDOW_SIZE = (1440, 900)
WAIT_S = 30.0
BADGE_MARGIN = 12
BENCH_INCIDENTS = 600
BENCH_ID_OFFSET = 100_000
"""The generated incidents and tasks get ids far above the night shift's."""
ASSESSMENT_MONTH = (2026, 11)
ASSESSMENT_AREA = "3301"
"""The generator's city (Hangzhou): the assessment ranks its districts."""
BEIJING = dt.timezone(dt.timedelta(hours=8))


class Error(Exception):
    """A step of the screenshot run did not come about in time."""


# ---------------------------------------------------------------------- the backend


class _Listener:
    """Callbacks of a :class:`DutyDeskClient`: remembers the events it received."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = asyncio.Event()

    def on_state(self, *_args: object) -> None:
        """Connection states are of no interest here."""

    def on_welcome(self, _welcome: Welcome) -> None:
        """Nothing to do on login."""

    def on_snapshot(self, _snapshot: Snapshot) -> None:
        """Nothing to do with the alarms."""

    def on_event(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, found: Callable[[Event], bool]) -> None:
        """Wait until an event ``found`` accepts has arrived."""
        while not any(found(event) for event in self.events):
            self.changed.clear()
            await self.changed.wait()


async def second_fire_task(url: str, outcome: ShiftOutcome) -> None:
    """The centre sends fire a watch task; it goes overdue, escalates, and is supervised."""
    listener = _Listener()
    client = DutyDeskClient(url, listener, username=SUPERVISOR, password=PASSWORD)
    running = asyncio.create_task(client.run(), name="screenshots-centre")
    try:
        await client.wait_live(WAIT_S)
        sent = await client.request(
            SendTask(
                req="",
                incident_id=outcome.incident.id,
                assignee_kind=AssigneeKind.AGENCY,
                assignee_ref="fire",
                instructions="现场留守监护，防止复燃，每 30 分钟报告一次",
            )
        )
        if not isinstance(sent, TaskResult):
            raise Error(f"task.send answered {type(sent).__name__}")
        hurried = await client.request(
            SetTaskDeadlines(
                req="",
                task_id=sent.task.id,
                expected_version=sent.task.version,
                deadlines={Deadline.ACCEPT: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)},
                note="限时签收",
            )
        )
        if not isinstance(hurried, TaskResult):
            raise Error(f"task.set_deadlines answered {type(hurried).__name__}")
        await client.request(
            SuperviseTask(req="", task_id=sent.task.id, note="请立即签收并报告留守力量")
        )
        task_id = sent.task.id
        async with asyncio.timeout(WAIT_S):
            await listener.wait_for(
                lambda event: (
                    event.kind == "task.escalated"
                    and isinstance(event.task, TaskView)
                    and event.task.id == task_id
                )
            )
    finally:
        await client.close()
        await asyncio.gather(running, return_exceptions=True)


def roster_csv(today: dt.date) -> str:
    """Today's duty (Beijing time): a day and a night shift at the centre, the fire desk."""
    tomorrow = today + dt.timedelta(days=1)
    rows = ["date,jurisdiction,agency,position,username,start,end"]
    for position, username in (("leader", SUPERVISOR), ("officer", DEMO_OFFICER)):
        rows.append(f"{today},,,{position},{username},{today}T08:00+08:00,{today}T20:00+08:00")
        rows.append(f"{today},,,{position},{username},{today}T20:00+08:00,{tomorrow}T08:00+08:00")
    rows.append(f"{today},,fire,agency_desk,{FIRE_DESK},{today}T08:00+08:00,{tomorrow}T08:00+08:00")
    return "\n".join(rows) + "\n"


def assessment_world() -> World:
    """A year of closed incidents and their tasks, with ids clear of the live ones."""
    world = World(BENCH_INCIDENTS)
    closed = {row["id"] for row in world.incidents if row["state"] == "closed"}
    world.incidents = [row for row in world.incidents if row["id"] in closed]
    world.tasks = [row for row in world.tasks if row["incident_id"] in closed]
    kept = {row["id"] for row in world.tasks}
    world.escalations = [row for row in world.escalations if row["task_id"] in kept]
    world.supervisions = [row for row in world.supervisions if row["task_id"] in kept]
    for row in world.incidents:
        row["id"] += BENCH_ID_OFFSET
    for row in world.tasks:
        row["id"] += BENCH_ID_OFFSET
        row["incident_id"] += BENCH_ID_OFFSET
        # The generator's rungs are placeholders; the server reads only its own.
        row["escalation_level"] = "agency_desk" if row["agency"] else "town"
    for row in world.escalations:
        row["from_level"], row["to_level"] = "agency_desk", "agency_supervisor"
    for row in (*world.escalations, *world.supervisions):
        row["task_id"] += BENCH_ID_OFFSET
    return world


@contextlib.contextmanager
def demo_backend() -> Iterator[ServerThread]:
    """The demo's server with the night shift played, a second fire task and a roster."""
    scenario = load_scenario()
    users = [
        (DEMO_OFFICER, PASSWORD, Role.OFFICER),
        (scenario.device, DEVICE_PASSWORD, Role.DEVICE),
    ]
    # The demo registry's enterprises only: the hidden dangers' pictures need them, the
    # registry's picture shows its own sample teams.
    enterprises = [i for i in load_registry_json() if isinstance(i.details, EnterpriseDetails)]
    with ServerThread(
        users=users,
        seed_sensors=True,
        seed_cameras=True,
        seed_roads=DEMO_ROADS,
        jt808=True,
        seed_registry=enterprises,
    ) as server:
        for username, role, agency in SHIFT_USERS:
            server.add_user(username, PASSWORD, role, agency=agency)
        feed = DemoFeed(
            server.device_url,
            scenario.device,
            DEVICE_PASSWORD,
            scenario,
            interval=1.0,
            loop_forever=False,
        )
        feed_future = server.submit(feed.run())
        try:
            shift = NightShift(
                server.console_url, {name: PASSWORD for name, _, _ in SHIFT_USERS}, pace=0.5
            )
            outcome = server.call(shift.run(), timeout=180)
            logger.info("the night shift raised incident #%s", outcome.incident.id)
            server.call(second_fire_task(server.console_url, outcome), timeout=60)
            today = dt.datetime.now(BEIJING).date()
            server.call(server.server.roster.import_csv(roster_csv(today)))
            # The tanker's warning, drafted by the shift's supervisor, approved by another.
            server.add_user(demo_publishing.PUBLISHER, PASSWORD, Role.SUPERVISOR)
            server.call(
                demo_publishing.publish(
                    server.console_url,
                    (SUPERVISOR, PASSWORD),
                    (demo_publishing.PUBLISHER, PASSWORD),
                    after=0,
                ),
                timeout=60,
            )
            server.call(seed_demo_dangers(server.server))
            server.add_user(ENTERPRISE_USER, PASSWORD, Role.ENTERPRISE, enterprise="E-HXXC")
            yield server
        finally:
            feed_future.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError):
                feed_future.exception(timeout=5)


# ---------------------------------------------------------------------- the console


async def until(what: str, found: Callable[[], object], timeout: float = WAIT_S) -> None:
    """Wait (letting Qt and the client run) until ``found()`` is true."""
    deadline = time.monotonic() + timeout
    while not found():
        if time.monotonic() > deadline:
            raise Error(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def save(widget: Any, path: Path, region: Any = None) -> None:
    """Save a PNG of ``widget`` (shown), or of a ``region`` (QRect) of it, to ``path``."""
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - Qt only once the app runs

    QApplication.processEvents()
    picture = widget.grab() if region is None else widget.grab(region)
    if not picture.save(str(path), "PNG"):
        raise Error(f"cannot save {path}")
    logger.info("saved %s", path)


@contextlib.asynccontextmanager
async def logged_in(
    server: ServerThread,
    username: str,
    settings: Any,
    ready: Callable[[Any], object] | None = None,
) -> Any:
    """A console session logged in as ``username``, its main window shown and filled
    (``ready(window)`` true; default: its incidents read)."""
    from desktop.app import ConsoleSession  # noqa: PLC0415
    from desktop.service import ConsoleService  # noqa: PLC0415
    from desktop.sounder import AlarmSounder  # noqa: PLC0415

    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    session = ConsoleSession(
        ConsoleService(), AlarmSounder(use_audio=False), settings, done, idle_lock_seconds=0
    )
    session.login_unattended(server.console_url, username, PASSWORD)
    try:
        window = session.main_window
        assert window is not None  # noqa: S101 - login_unattended opens it
        window.resize(*WINDOW_SIZE)
        if ready is None:
            await until(f"{username}'s incidents", lambda: window.incidents.desk.board.incidents)
        else:
            await until(f"{username}'s window", lambda: ready(window))
        yield window
    finally:
        await session.close()


async def shoot_fire_desk(server: ServerThread, out: Path, settings: Any) -> None:
    """The fire desk: its inbox with the overdue, supervised watch task; the badge."""
    async with logged_in(server, FIRE_DESK, settings) as window:
        board = window.incidents.desk.board
        await until("the fire desk's badge", lambda: board.badge().urgent)
        window.incidents.panel.show_task_list()
        await asyncio.sleep(1.5)  # a tick of the countdowns
        save(window, out / "console-task-inbox.png")
        from PySide6.QtCore import QRect  # noqa: PLC0415

        # The right end of the status bar: the badge beside the connection and the user.
        bar = window.statusBar()
        left = max(window.task_badge.geometry().left() - BADGE_MARGIN, 0)
        save(bar, out / "console-badge.png", QRect(left, 0, bar.width() - left, bar.height()))


def widen_right_column(window: Any, dock: Any) -> None:
    """Give the right column (where ``dock`` is) half the window."""
    from PySide6.QtCore import Qt  # noqa: PLC0415 - Qt only once the app runs

    window.resizeDocks([dock], [window.width() // 2], Qt.Orientation.Horizontal)


async def shoot_centre(server: ServerThread, out: Path, settings: Any) -> None:
    """The command centre: workspace, chat, handover, roster, assessment."""
    async with logged_in(server, SUPERVISOR, settings) as window:
        panel = window.incidents.panel
        if not window.open_first_incident():
            raise Error("no incident to open")
        workspace = panel.workspace
        await until("the incident's tasks", lambda: len(workspace.task_ids()) >= 4)
        await until("the timeline", lambda: workspace.timeline_list.count() > 0)
        # Working an incident, the officer drags the right column wide (the default
        # layout gives the queue and the map the room): the picture shows it so.
        widen_right_column(window, window.incidents.dock)
        workspace.focus_map()
        await asyncio.sleep(1.5)
        save(window, out / "console-incident.png")

        workspace.tabs.setCurrentIndex(2)
        chat = workspace.chat_panel
        await until("the chat", lambda: chat is not None and chat.model.rowCount() >= 4)
        await asyncio.sleep(1.0)
        save(window.incidents.dock, out / "console-chat.png")

        shift = window.shift_actions
        handover = shift.open_handover()
        handover.notes_edit.setPlainText(
            "槽车泄漏事件仍在处置：公安任务已升级，消防留守任务督办中。"
        )
        handover.draft()
        await until("the handover report", lambda: shift.desk.current is not None)
        save(handover, out / "console-handover.png")
        handover.close()

        roster = shift.open_roster()
        await until("the roster", lambda: shift.desk.roster)
        save(roster, out / "console-roster.png")
        roster.close()

        await asyncio.wrap_future(server.submit(seed(server.server.sessions, assessment_world())))
        dialog = window.assessment.open()
        dialog.year_spin.setValue(ASSESSMENT_MONTH[0])
        dialog.number_spin.setValue(ASSESSMENT_MONTH[1])
        dialog.under_edit.setText(ASSESSMENT_AREA)
        dialog.refresh()
        await until("the assessment", lambda: dialog.assessment is not None, timeout=60)
        save(dialog, out / "console-assessment.png")
        dialog.close()

        await shoot_registry(window, out)
        await shoot_vehicle_command(server, window, out)


TRUCK = ("13900000000", "苏A·D00000")
"""The simulated truck the vehicle-command pictures order (fictional)."""


async def shoot_vehicle_command(server: ServerThread, window: Any, out: Path) -> None:
    """The 车辆指令 dialog: the door lock's confirmation, then the terminal's answer."""
    phone, plate = TRUCK
    truck = SimulatedTruck(phone, plate)

    async def connect() -> None:
        await server.server.registry.add("jt808", phone, "液氨槽车", plate=plate)
        await truck.connect("127.0.0.1", server.jt808_port)
        await truck.report()

    await asyncio.wrap_future(server.submit(connect()))
    try:
        vehicles = window.vehicle_list
        vehicles.load_devices()
        await until("the truck in the list", lambda: vehicles.select_device(phone))
        dialog = vehicles.open_command_dialog()
        dialog.choose("control")
        dialog.send()
        await until("the confirmation", lambda: dialog.confirm_box is not None)
        await asyncio.sleep(0.5)
        save(dialog.confirm_box, out / "console-vehicle-confirm.png")
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - Qt only once the app runs

        dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
        await until("the terminal's answer", lambda: dialog.answer_table.rowCount() > 0)
        await asyncio.sleep(0.5)
        save(dialog, out / "console-vehicle-command.png")
        dialog.close()
    finally:
        await asyncio.wrap_future(server.submit(truck.close()))


SAMPLE_TEAMS = (
    ("T-XH-01", "西湖区危化品救援队", "330106", "危化品救援", 24, ["hazmat", "decontamination"]),
    ("T-XH-02", "西湖区水域救援队", "330106", "水域救援", 16, ["water_rescue", "rescue"]),
    ("T-SC-01", "上城区综合救援队", "330102", "综合性消防救援", 40, ["firefighting", "rescue"]),
)
"""Teams the registry shot adds through the console when the demo registry has none
(fictional)."""


async def shoot_registry(window: Any, out: Path) -> None:
    """The registry panel (台账) on the teams, one selected with its history."""
    from realtime.protocol import (  # noqa: PLC0415
        Contact,
        ItemKind,
        RegistryItemInput,
        TeamDetails,
    )

    registry = window.registry
    registry.show_kind(ItemKind.TEAM)
    desk = registry.desk
    await until("the registry's teams", lambda: ItemKind.TEAM in desk.state.loaded_kinds)
    if not desk.state.items(ItemKind.TEAM):
        for number, (code, name, area, kind, members, abilities) in enumerate(SAMPLE_TEAMS):
            details = TeamDetails(
                team_type=kind,
                members=members,
                capabilities=abilities,
                contacts=[Contact(name="王队长", role="队长", phone="13800005678")],
            )
            item = RegistryItemInput(
                code=code,
                name=name,
                jurisdiction=area,
                agency="fire",
                lat=30.26 - 0.02 * number,
                lon=120.13 + 0.03 * number,
                details=details,
            )
            desk.save(item, None, "台账录入")
        await until("the sample teams", lambda: len(desk.state.items(ItemKind.TEAM)) >= 3)
        first = desk.state.items(ItemKind.TEAM)[0]
        if not isinstance(first.details, TeamDetails):
            raise Error("the first team has no team details")
        changed = msgspec.structs.replace(first.details, members=first.details.members + 4)
        desk.save(
            RegistryItemInput(
                code=first.code,
                name=first.name,
                jurisdiction=first.jurisdiction,
                agency=first.agency,
                lat=first.lat,
                lon=first.lon,
                details=changed,
            ),
            first.version,
            "人员补充",
        )
        await until("the change", lambda: desk.state.item(ItemKind.TEAM, first.code) != first)
    panel = registry.panel
    panel.select(desk.state.items(ItemKind.TEAM)[0].code)
    await until("the item's history", panel.history_rows)
    registry.dock.setFloating(True)
    registry.dock.resize(1100, 620)
    await asyncio.sleep(1.0)
    save(registry.dock, out / "console-registry.png")
    registry.dock.setFloating(False)


EXERCISE_TITLE = "槽车泄漏夜班演练"
EXERCISE_SPEED = 4.0


EXERCISE_SCENARIO = "tanker-rollover"
"""The shipped scenario the drill picture shows: a tanker, like :data:`EXERCISE_TITLE`."""


def ensure_recording(server: ServerThread) -> str:
    """The recording the exercise shot starts: the shipped :data:`EXERCISE_SCENARIO`; a
    small one of a truck and a methane sensor when the library does not ship it."""
    from backend.exercises.library import RecordingLibrary  # noqa: PLC0415

    library = RecordingLibrary(server.data_dir)
    if any(info.name == EXERCISE_SCENARIO for info in library.list()):
        return EXERCISE_SCENARIO
    from tests.backend.exercises.helpers import small_recording  # noqa: PLC0415

    return library.save(small_recording(duration_s=600.0), "night_drill").name


async def shoot_dangers(server: ServerThread, out: Path, settings: Any) -> None:
    """The bureau's 隐患 board (the overdue danger selected) and an enterprise's workplace."""
    async with logged_in(server, SUPERVISOR, settings) as window:
        window.dangers.show()
        panel = window.dangers.panel
        await until("the hidden dangers", lambda: panel.table.rowCount() >= 6)
        panel.table.selectRow(0)
        await until("the detail", lambda: panel.selected is not None and panel.selected.history)
        window.dangers.dock.setFloating(True)
        window.dangers.dock.resize(1200, 640)
        await asyncio.sleep(1.0)
        save(window.dangers.dock, out / "console-dangers.png")
        panel.tabs.setCurrentIndex(2)
        await until("the ranking", lambda: panel.stats.rowCount() > 0)
        await asyncio.sleep(0.5)
        save(window.dangers.dock, out / "console-danger-stats.png")
        window.dangers.dock.setFloating(False)

    def workplace_ready(window: Any) -> bool:
        place = window.dangers.workplace
        return place is not None and place.board.table.rowCount() > 0

    async with logged_in(server, ENTERPRISE_USER, settings, ready=workplace_ready) as window:
        await asyncio.sleep(1.0)
        save(window, out / "console-enterprise.png")


async def shoot_exercise(server: ServerThread, out: Path, settings: Any) -> None:
    """The supervisor starts an exercise from the 演练 panel, joins it, and the drill
    window (banner, orange frame, the exercise's alarms) is saved beside the panel."""
    from desktop.exercises.window import WindowExercises  # noqa: PLC0415

    name = ensure_recording(server)
    async with logged_in(server, SUPERVISOR, settings) as window:
        exercises = window.findChild(WindowExercises)
        if exercises is None:
            raise Error("the window has no exercises panel")
        panel, runs = exercises.panel, exercises.desk.runs
        exercises.show_panel()
        await until("the recordings", lambda: panel.select_recording(name))
        exercises.desk.start(
            name, speed=EXERCISE_SPEED, participants=[FIRE_DESK], title=EXERCISE_TITLE
        )
        await until("the run", lambda: len(runs) > 0)
        run = runs.runs()[0]
        panel.select_run(run.run_id)
        exercises.join(run)
        await until("the drill window", lambda: exercises.drill_window(run.run_id) is not None)
        drill = exercises.drill_window(run.run_id)
        drill.resize(*WINDOW_SIZE)
        await until("the exercise's alarms", drill.queue_alarm_ids, timeout=90)
        # The panel's count follows the run's alarms within a few seconds.
        await until(
            "the panel's alarm count",
            lambda: runs.runs()[0].alarms >= len(drill.queue_alarm_ids()),
        )
        await asyncio.sleep(2.0)
        save(drill, out / "console-exercise.png")
        exercises.dock.setFloating(True)
        exercises.dock.resize(1100, 520)
        await asyncio.sleep(1.0)
        save(exercises.dock, out / "console-exercise-panel.png")
        exercises.dock.setFloating(False)
        exercises.desk.stop(run.run_id)
        await until("the run's end", lambda: runs.runs()[0].ended_at is not None)


async def shoot_warnings(server: ServerThread, out: Path, settings: Any) -> None:
    """The 预警 dock (the demo's weather alert over the chemical park and the drifting
    methane sensor's trend warning) and that sensor's trend with its dashed projection."""
    from backend.cli import demo_warnings  # noqa: PLC0415
    from backend.registry.files import load_registry_json  # noqa: PLC0415
    from realtime.client import basic_auth_header  # noqa: PLC0415
    from realtime.protocol import EnterpriseDetails, HazardSourceDetails  # noqa: PLC0415

    wanted = (EnterpriseDetails, HazardSourceDetails)
    items = [item for item in load_registry_json() if isinstance(item.details, wanted)]
    backend = server.server
    await asyncio.wrap_future(
        server.submit(backend.registry_items.import_items(items, by="demo", source="demo"))
    )
    await asyncio.wrap_future(server.submit(demo_warnings.register_drift_sensor(backend)))
    await asyncio.wrap_future(server.submit(backend.early_warnings.housekeeping()))
    await asyncio.wrap_future(server.submit(demo_warnings.import_sample_weather(backend)))
    scenario = load_scenario()
    drift = server.submit(
        demo_warnings.run_drift(
            server.device_url, basic_auth_header(scenario.device, DEVICE_PASSWORD)
        )
    )
    try:
        async with logged_in(server, DEMO_OFFICER, settings) as window:
            warnings = window.warnings
            warnings.show()
            await until("the warnings", lambda: warnings.panel.table.rowCount() >= 4)
            warnings.dock.setFloating(True)
            warnings.dock.resize(1100, 300)
            await asyncio.sleep(1.0)
            save(warnings.dock, out / "console-warnings.png")
            warnings.dock.setFloating(False)
            trends = window.trends_panel
            await until("the sensors", lambda: demo_warnings.DRIFT_SENSOR in trends.sensors)
            window.show_sensor_trends([demo_warnings.DRIFT_SENSOR])
            overlay = trends.projections
            await until(
                "the projection", lambda: demo_warnings.DRIFT_SENSOR in overlay.items, timeout=60
            )
            window.trends_dock.setFloating(True)
            window.trends_dock.resize(1100, 520)
            await asyncio.sleep(1.5)
            save(window.trends_dock, out / "console-trend-projection.png")
            window.trends_dock.setFloating(False)
    finally:
        drift.cancel()
        with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError):
            drift.exception(timeout=5)


async def shoot_publishing(server: ServerThread, out: Path, settings: Any) -> None:
    """信息发布 with the tanker's warning and its receipts (the supervisor who drafted it:
    the approve button greyed), and the fire desk's 收到的通知 with it opened."""
    async with logged_in(server, SUPERVISOR, settings) as window:
        panel = window.publishing.open_publishing()
        panel.resize(1200, 640)
        await until("the notices", lambda: panel.notices)
        panel.table.selectRow(0)
        await until("the receipts", lambda: panel.receipts)
        await asyncio.sleep(0.5)
        save(panel, out / "console-publishing.png")
        panel.close()
    async with logged_in(server, FIRE_DESK, settings) as window:
        inbox = window.publishing.open_inbox()
        inbox.resize(900, 520)
        await until("the inbox", lambda: inbox.items)
        inbox.table.selectRow(0)
        await asyncio.sleep(0.8)
        save(inbox, out / "console-inbox.png")
        inbox.close()


def run_console(server: ServerThread, out: Path) -> None:
    """Run both console sessions on one Qt application, in Chinese."""
    import qasync  # noqa: PLC0415
    from PySide6.QtCore import QSettings  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from desktop.i18n import install_translators  # noqa: PLC0415

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    install_translators(app, "zh_CN")
    with tempfile.TemporaryDirectory(prefix="dutydesk-shots-") as folder:
        # Fresh settings: no saved layout or language of the user's own console.
        settings = QSettings(str(Path(folder) / "console.ini"), QSettings.Format.IniFormat)

        async def both() -> None:
            await shoot_fire_desk(server, out, settings)
            await shoot_centre(server, out, settings)
            await shoot_dangers(server, out, settings)
            await shoot_exercise(server, out, settings)
            await shoot_warnings(server, out, settings)
            await shoot_publishing(server, out, settings)

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(both())
        finally:
            loop.close()
            asyncio.set_event_loop(None)


def main(argv: list[str] | None = None) -> int:
    """Make the screenshots; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python docs/screenshots.py",
        description="Make the user guide's screenshots of the incident workspace, the task "
        "inbox and its badge, the chat, the handover dialog, the duty roster, the "
        "assessment, the registry panel, the vehicle command dialog (车辆指令), an exercise "
        "(演练), the early warnings (预警) and publishing (信息发布), with the real console "
        "(offscreen, in Chinese) against the demo's backend and night shift. Takes about a "
        "minute.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "images",
        metavar="FOLDER",
        help="where to write the PNGs (default: docs/images of this checkout)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    try:
        with demo_backend() as server:
            run_console(server, out)
    except (Error, TimeoutError) as exc:
        logger.error("screenshots: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
