"""The live server's exercises (``server.exercises``): start a run from a recording into
its own instance, steer it (pause, resume, seek, speed), inject events, stop it, and keep
every run in ``exercise_runs`` so ended runs stay listed and scored after a restart.

Each run is an isolated :mod:`~backend.exercises.instance` fed by a
:class:`~backend.exercises.replay.Replayer`. The live log gets only the run's life cycle
(``exercise.*`` events carrying :class:`ExerciseRunView`), which the trainer, the
participants and supervisors of the area receive. Consoles taking part are routed here
from the live port (:meth:`ExerciseManager.admit`, :meth:`ExerciseManager.handle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http
import logging
import secrets
import shutil
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import Error as Refusal
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.exercises import instance as instances
from backend.exercises import store
from backend.exercises.clock import Error as ClockError
from backend.exercises.clock import ExerciseClock
from backend.exercises.injections import inject
from backend.exercises.library import RecordingLibrary, UnknownRecordingError
from backend.exercises.recording import LoggedEvent, Recording, RecordingError
from backend.exercises.replay import Error as ReplayError
from backend.exercises.replay import Replayer, recorded_auth_codes, terminal_phones
from backend.exercises.runs import Run, replayer_principal
from backend.registry.sessions import EXERCISE_CONSOLE
from backend.registry.users import Login
from backend.runtime.clock import running_on, set_for_this_task
from backend.server.console import run_console
from backend.server.device_feed import serve_feed
from realtime.event_kinds import EventKind
from realtime.protocol import (
    CLOSE_EXERCISE_ENDED,
    ControlAction,
    ControlExercise,
    ErrorCode,
    Event,
    ExerciseLabel,
    ExerciseRunView,
    ExerciseState,
    InjectEvent,
    Role,
    ScoreFigures,
    StartExercise,
    exercise_console_path,
)

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)


DEVICE_SUFFIX = "/device"
CONSOLE_SUFFIX = "/console"
ENDED_STATES = frozenset({ExerciseState.FINISHED, ExerciseState.STOPPED})
REPLAY_FEED_RATE = 5000.0
"""Messages per second the replayer's feed may send (a 64× replay of a busy recording)."""
ALARM_COUNT_INTERVAL = 3.0
"""Wall seconds between looks at an open run's alarm count: a change is announced (one
``exercise.changed``) at most this often, so the 演练 panel's count follows the run."""


def _refused(run_id: str) -> Refusal:
    return authz.hidden(f"exercise {run_id}")


class ExerciseManager:
    """Every exercise run of the live server."""

    def __init__(self, server: DutyDeskServer) -> None:
        self._server = server
        self.library = RecordingLibrary(server.config.data_dir)
        """The recordings that can be run."""
        self._runs: dict[str, Run] = {}
        # Weak: a handshake refused after admission never reaches :meth:`handle`.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, tuple[Run, Login | None]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = asyncio.Lock()
        self._origins: dict[str, dt.datetime] = {}
        """Every kept run's clock origin (its start, a whole second), for :meth:`origin`."""
        self.alarm_count_interval = ALARM_COUNT_INTERVAL
        """Wall seconds between looks at an open run's alarm count."""

    @property
    def exercises_dir(self) -> Path:
        """Where the runs' own databases are kept."""
        return self._server.config.data_dir / "exercises"

    # ------------------------------------------------------------------ life cycle

    async def open(self) -> None:
        """At the server's start: runs left active by a stopped server are stopped."""
        async with self._server.sessions.begin() as session:
            ended = await store.end_left_over(session, dt.datetime.now(dt.UTC))
            rows = await store.list_rows(session, include_ended=True)
        self._origins = {row.run_id: row.started_at for row in rows}
        if ended:
            logger.info("exercise runs left running by the last server stopped: %s", ended)

    async def close(self) -> None:
        """At the server's stop: stop every active run (its data is kept)."""
        for run in list(self._runs.values()):
            if run.active:
                await self._end(run, ExerciseState.STOPPED, "the server stopped")

    # ------------------------------------------------------------------ commands

    async def start(self, principal: Principal, request: StartExercise) -> ExerciseRunView:
        """Start ``request.recording`` as a new isolated exercise."""
        recording = await self._load(request.recording)
        header = recording.header
        if not authz.can_see_recording(principal, header.source, header.area):
            # Refused like a missing one: the answer never tells what lies outside.
            raise Refusal(ErrorCode.NOT_FOUND, f"no recording {request.recording!r}")
        participants = await self._participants(principal, request.participants)
        # A whole second: JT/T 808 device times have no fractions, so every device time
        # moved onto the exercise clock stays exact (the same alarms at every speed).
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        run_id = f"ex{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        directory = self.exercises_dir / run_id
        clock = ExerciseClock(now, request.speed)
        row = store.RunRecord(
            run_id=run_id,
            recording=request.recording,
            title=(request.title.strip() or recording.header.title)[:200],
            trainer=principal.username,
            participants=participants,
            jurisdiction=principal.jurisdiction,
            speed=request.speed,
            state=ExerciseState.PREPARING,
            started_at=now,
            duration_s=recording.duration_s,
            database=str(directory / instances.DATABASE_NAME),
        )
        run = Run(row, recording, clock, directory, context=running_on(clock))
        self._runs[run_id] = run
        self._origins[run_id] = now
        try:
            await self._prepare(run)
        except (instances.Error, instances.StartError, OSError, RecordingError) as exc:
            logger.warning("exercise %s could not start: %s", run_id, exc)
            await self._close_instance(run)
            self._runs.pop(run_id, None)
            self._origins.pop(run_id, None)
            async with self._server.sessions.begin() as session:
                await store.delete_row(session, run_id)
            with contextlib.suppress(OSError):
                shutil.rmtree(directory)
            raise ValidationError(f"the exercise cannot start: {exc}") from exc
        row.state = ExerciseState.RUNNING
        await self._save_and_announce(run, EventKind.EXERCISE_STARTED, principal.username)
        clock.resume()
        run.task = asyncio.create_task(self._drive(run), name=f"exercise-{run_id}")
        run.counter = asyncio.create_task(self._count(run), name=f"exercise-{run_id}-alarms")
        logger.info(
            "exercise %s started by %s: %s at %gx",
            run_id,
            principal.username,
            row.recording,
            row.speed,
        )
        return self._view(run)

    async def control(self, principal: Principal, request: ControlExercise) -> ExerciseRunView:
        """Pause, resume, seek forward or change the speed of a run."""
        run = self._active(principal, request.run_id)
        clock, replayer, instance = run.clock, run.replayer, run.instance
        if replayer is None or instance is None or run.row.state in ENDED_STATES:
            raise ValidationError(f"exercise {run.run_id} has ended")
        note = ""
        try:
            match request.action:
                case ControlAction.PAUSE:
                    clock.pause()
                    run.row.state = ExerciseState.PAUSED
                case ControlAction.RESUME:
                    clock.resume()
                    run.row.state = ExerciseState.RUNNING
                case ControlAction.SEEK:
                    if request.position_s is None:
                        raise ValidationError("seek needs position_s")
                    if request.position_s > run.row.duration_s:
                        raise ValidationError(
                            f"the recording is {run.row.duration_s:.0f} s long; "
                            f"cannot seek to {request.position_s:g} s"
                        )
                    replayer.seek(request.position_s)
                    note = f"seek {request.position_s:g} s"
                case ControlAction.SPEED:
                    if request.speed is None:
                        raise ValidationError("speed needs speed")
                    clock.set_speed(request.speed)
                    run.row.speed = request.speed
                    instances.follow_speed(instance, self._server.config, request.speed)
                    note = f"speed {request.speed:g}"
        except ClockError as exc:
            raise ValidationError(str(exc)) from exc
        replayer.changed()
        await self._save_and_announce(
            run, EventKind.EXERCISE_CHANGED, principal.username, note or request.action.value
        )
        return self._view(run)

    async def inject(self, principal: Principal, request: InjectEvent) -> ExerciseRunView:
        """Add an event to a running exercise (through its own paths)."""
        run = self._active(principal, request.run_id)
        if run.instance is None or run.replayer is None or run.row.state in ENDED_STATES:
            raise ValidationError(f"exercise {run.run_id} has ended")
        what = await run.on_clock(inject(run.instance, run.replayer, request))
        run.row.injected += 1
        await self._save_and_announce(run, EventKind.EXERCISE_INJECTED, principal.username, what)
        return self._view(run)

    async def stop(self, principal: Principal, run_id: str) -> ExerciseRunView:
        """End a run: its instance closes, its database is kept for the score."""
        run = self._active(principal, run_id)
        await self._end(run, ExerciseState.STOPPED, f"stopped by {principal.username}")
        return self._view(run)

    async def list_runs(self, principal: Principal, include_ended: bool) -> list[ExerciseRunView]:
        """The runs the principal may see, newest first."""
        async with self._server.sessions() as session:
            rows = await store.list_rows(session, include_ended=include_ended)
        views = [self._row_view(row) for row in rows]
        return [view for view in views if authz.can_see_exercise(principal, view)]

    async def view(self, principal: Principal, run_id: str) -> ExerciseRunView:
        """One run (refused like a missing one when out of scope)."""
        run = self._runs.get(run_id)
        if run is not None:
            view = self._view(run)
        else:
            async with self._server.sessions() as session:
                row = await store.get_row(session, run_id)
            if row is None:
                raise _refused(run_id)
            view = self._row_view(row)
        if not authz.can_see_exercise(principal, view):
            raise _refused(run_id)
        return view

    # ------------------------------------------------------------------ for scoring

    async def run_events(self, run_id: str) -> list[Event]:
        """The run's whole log in ``seq`` order (also after it ended)."""
        run = self._runs.get(run_id)
        if run is not None and run.instance is not None:
            return await _all_events(run.instance.sessions)
        async with self._server.sessions() as session:
            row = await store.get_row(session, run_id)
        if row is None:
            raise _refused(run_id)
        return await store.read_kept_events(Path(row.database))

    async def original_events(self, run_id: str) -> list[Event]:
        """The recording's original response (its logged events), decoded."""
        run = self._runs.get(run_id)
        if run is not None:
            recording = run.recording
        else:
            async with self._server.sessions() as session:
                row = await store.get_row(session, run_id)
            if row is None:
                raise _refused(run_id)
            recording = await self._load(row.recording)
        events: list[Event] = []
        for entry in recording.entries:
            if isinstance(entry, LoggedEvent):
                try:
                    events.append(msgspec.convert(entry.event, Event))
                except msgspec.ValidationError as exc:
                    raise ValidationError(
                        f"the recording's logged event is unusable: {exc}"
                    ) from exc
        return events

    async def earlier_runs(
        self, recording: str, before_run: str
    ) -> list[tuple[str, dt.datetime, float, ScoreFigures | None]]:
        """Earlier runs of ``recording`` (newest first) with their figures if made."""
        async with self._server.sessions() as session:
            return await store.earlier_runs(session, recording, before_run)

    async def record_figures(self, run_id: str, figures: ScoreFigures) -> None:
        """Keep a run's figures (for later runs' comparisons)."""
        async with self._server.sessions.begin() as session:
            await store.set_figures(session, run_id, msgspec.to_builtins(figures))
        run = self._runs.get(run_id)
        if run is not None:
            run.row.figures = msgspec.to_builtins(figures)

    def origin(self, run_id: str) -> dt.datetime:
        """The exercise clock's start (for a run of this process)."""
        run = self._runs.get(run_id)
        if run is not None:
            return run.clock.origin
        origin = self._origins.get(run_id)
        if origin is None:
            raise _refused(run_id)
        return origin

    def replay_figures(self, run_id: str) -> tuple[int, float]:
        """(inputs sent, p99 send lag in wall seconds) of a run's replay."""
        run = self._runs.get(run_id)
        if run is None or run.replayer is None:
            raise _refused(run_id)
        figures = run.replayer.figures
        return figures.sent, figures.lag_p99()

    def instance_of(self, run_id: str) -> DutyDeskServer | None:
        """The run's open instance (``None`` once stopped)."""
        run = self._runs.get(run_id)
        return run.instance if run is not None else None

    async def wait_ended(self, run_id: str) -> None:
        """Wait until the replay of a run of this process has ended."""
        run = self._runs.get(run_id)
        if run is not None and run.task is not None:
            await asyncio.shield(run.task)

    # ------------------------------------------------------------------ routing

    async def admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """The handshake of an exercise path: the console (the live gatekeeper
        authenticates; the route checks the scope) or the replayer's device feed."""
        path = request.path.split("?", 1)[0]
        rest = path.removeprefix(exercise_console_path("")[: -len(CONSOLE_SUFFIX)])
        run_id, _, kind = rest.partition("/")
        run = self._runs.get(run_id)
        if kind == "console" and run is not None and run.instance is not None:
            refusal = await self._server.identity.gatekeeper.admit(
                connection, request, console=True
            )
            if refusal is None:
                login = self._server.identity.gatekeeper.login_of(connection)
                self._admitted[connection] = (run, login)
            return refusal
        if kind == "device" and run is not None and run.instance is not None:
            offered = request.headers.get("Authorization", "")
            if secrets.compare_digest(offered.encode(), f"Bearer {run.feed_token}".encode()):
                self._admitted[connection] = (run, None)
                return None
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "not the exercise's replayer\n")
        if run is not None:
            return connection.respond(http.HTTPStatus.GONE, f"exercise {run_id} has ended\n")
        return connection.respond(http.HTTPStatus.NOT_FOUND, f"no exercise endpoint {path}\n")

    def admitted(self, connection: ServerConnection) -> bool:
        """Whether ``connection`` came in on an exercise path."""
        return connection in self._admitted

    async def handle(self, connection: ServerConnection) -> None:
        """Serve a connection :meth:`admit` let in, on the run's instance."""
        run, login = self._admitted.pop(connection)
        instance = run.instance
        if instance is None:
            await connection.close(CLOSE_EXERCISE_ENDED, "the exercise has ended")
            return
        set_for_this_task(run.clock)
        run.connections.add(connection)
        try:
            await self._serve(run, instance, connection, login)
        finally:
            run.connections.discard(connection)

    async def _serve(
        self,
        run: Run,
        instance: DutyDeskServer,
        connection: ServerConnection,
        login: Login | None,
    ) -> None:
        if login is None:
            await serve_feed(
                instance, connection, replayer_principal(run), rate_per_second=REPLAY_FEED_RATE
            )
            return
        if not authz.can_see_exercise(login.principal, self._view(run)):
            logger.warning(
                "exercise console refused for %s: not taking part in %s",
                login.principal.username,
                run.run_id,
            )
            await connection.close(
                CloseCode.POLICY_VIOLATION, "you are not taking part in this exercise"
            )
            return
        await run_console(instance, connection, login, EXERCISE_CONSOLE)

    # ------------------------------------------------------------------ inside

    async def _load(self, name: str) -> Recording:
        try:
            return await asyncio.to_thread(self.library.load, name)
        except UnknownRecordingError as exc:
            raise Refusal(ErrorCode.NOT_FOUND, str(exc)) from exc
        except RecordingError as exc:
            raise ValidationError(f"the recording {name!r} cannot be used: {exc}") from exc

    async def _participants(self, principal: Principal, names: list[str]) -> list[str]:
        wanted = [name.strip() for name in names if name.strip()]
        if not wanted:
            return []
        known = {user.username: user for user in await self._server.users.list_users()}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise ValidationError(f"no such users: {', '.join(sorted(set(unknown)))}")
        devices = [name for name in wanted if known[name].role is Role.DEVICE]
        if devices:
            raise ValidationError(f"device accounts cannot take part: {', '.join(devices)}")
        return list(dict.fromkeys(wanted))

    async def _prepare(self, run: Run) -> None:
        """Build, start and seed the instance; open the replay."""
        label = self._label(run)
        instance = instances.build_instance(
            self._server, directory=run.directory, label=label, clock=run.clock
        )
        run.instance = instance
        async with self._server.sessions.begin() as session:
            await store.save(session, run.row)
        await run.on_clock(instance.start())
        codes = recorded_auth_codes(run.recording)
        # The unlisted terminals first: seeding sets every terminal's code.
        phones = terminal_phones(run.recording)
        await run.on_clock(instances.add_unlisted_terminals(instance, run.recording, phones))
        await run.on_clock(instances.seed(instance, run.recording.registry, codes))
        scheme = "wss" if self._server.config.tls_cert is not None else "ws"
        run.replayer = Replayer(
            run.recording,
            run.clock,
            jt808_address=("127.0.0.1", instance.jt808_port),
            feed_url=f"{scheme}://127.0.0.1:{self._server.port}"
            f"{exercise_console_path(run.run_id).removesuffix(CONSOLE_SUFFIX)}{DEVICE_SUFFIX}",
            feed_token=run.feed_token,
            auth_codes=codes,
        )

    async def _drive(self, run: Run) -> None:
        replayer = run.replayer
        if replayer is None:
            return
        try:
            await replayer.run()
        except (ReplayError, OSError) as exc:
            logger.warning("exercise %s: the replay stopped: %s", run.run_id, exc)
            await self._end(run, ExerciseState.STOPPED, f"the replay stopped: {exc}", drive=False)
            return
        if run.row.state not in ENDED_STATES:
            run.row.state = ExerciseState.FINISHED
            run.row.ended_at = dt.datetime.now(dt.UTC)
            await self._save_and_announce(run, EventKind.EXERCISE_ENDED, "exercise", "finished")

    async def _count(self, run: Run) -> None:
        """While the run's instance is open, announce its alarm count when it changed (at
        most every :attr:`alarm_count_interval`): one query of its own small database."""
        while True:
            await asyncio.sleep(self.alarm_count_interval)
            instance = run.instance
            if instance is None:
                return
            try:
                count = await store.count_alarms(instance.sessions)
                if count != run.row.alarms:
                    await self._save_and_announce(
                        run, EventKind.EXERCISE_CHANGED, "exercise", f"alarms {count}"
                    )
            except (SQLAlchemyError, OSError) as exc:
                # The count waits for the next look (or the run's end); the run goes on.
                logger.warning("exercise %s: alarm count not updated: %s", run.run_id, exc)

    async def _end(self, run: Run, state: ExerciseState, note: str, *, drive: bool = True) -> None:
        async with self._lock:
            if run.instance is None:
                return
            if run.counter is not None:
                run.counter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run.counter
            if drive and run.task is not None and not run.task.done():
                run.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run.task
            finished = run.row.state is ExerciseState.FINISHED
            # A finished run stays open to its participants until stopped: now it is.
            run.row.state = state
            if not finished:
                run.row.ended_at = dt.datetime.now(dt.UTC)
            run.clock.pause()
            run.row.position_s = run.clock.position()
            run.row.alarms = await self._count_alarms(run)
            for connection in list(run.connections):
                await connection.close(CLOSE_EXERCISE_ENDED, f"the exercise has ended: {note}")
            await self._close_instance(run)
            await self._save_and_announce(
                run,
                EventKind.EXERCISE_CHANGED if finished else EventKind.EXERCISE_ENDED,
                "exercise",
                note,
            )

    async def _close_instance(self, run: Run) -> None:
        instance, run.instance = run.instance, None
        if run.replayer is not None:
            await run.replayer.close()
        if instance is not None:
            await run.on_clock(instance.close())

    async def _count_alarms(self, run: Run) -> int:
        if run.instance is None:
            return run.row.alarms
        return await store.count_alarms(run.instance.sessions)

    async def _save_and_announce(
        self, run: Run, kind: EventKind, actor: str, note: str = ""
    ) -> None:
        """Save the run's row and put its life-cycle event in the live log."""
        row = run.row
        row.position_s = run.clock.position()
        if run.instance is not None:
            row.alarms = await store.count_alarms(run.instance.sessions)
            run.instance.hub.mark = self._label(run)
        view = self._view(run)

        async def work(session: AsyncSession, events: list[Event]) -> None:
            await store.save(session, row)
            events.append(
                await eventlog.append(session, kind=kind, actor=actor, note=note, exercise_run=view)
            )

        await self._server.writer.run(work)

    def _label(self, run: Run) -> ExerciseLabel:
        row = run.row
        return ExerciseLabel(
            run_id=row.run_id, title=row.title, speed=row.speed, state=ExerciseState(row.state)
        )

    def _view(self, run: Run) -> ExerciseRunView:
        view = self._row_view(run.row)
        if run.active:
            view.position_s = run.clock.position()
            view.exercise_time = run.clock()
        return view

    @staticmethod
    def _row_view(row: store.RunRecord) -> ExerciseRunView:
        return store.view_of(row)

    def _active(self, principal: Principal, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None or not authz.can_see_exercise(principal, self._view(run)):
            raise _refused(run_id)
        if not run.active:
            raise ValidationError(f"exercise {run_id} has ended")
        return run


async def _all_events(sessions: Callable[[], Any]) -> list[Event]:
    return await store.all_events(sessions)
