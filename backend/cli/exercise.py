"""``dutydesk exercise``: start, list, steer, inject into and stop exercises (演练) on a
running server, as a trainer would from the console's exercise panel, and write a run's
score report (Excel, HTML).

A client of the server like the console: ``--server`` (or ``$DUTYDESK_SERVER``) names it,
``--user`` (or ``$DUTYDESK_USER``) the account; the password comes from
``$DUTYDESK_PASSWORD`` or is asked for (never an option: it would show in ``ps``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.cli.common import EXIT_OK, Error, Subparsers, add_action, out
from backend.exercises.report import Error as ReportError
from backend.exercises.report import export
from realtime.client import ClientError, CommandError, ConnectionState, DutyDeskClient
from realtime.protocol import (
    MAX_SPEED,
    Command,
    ControlAction,
    ControlExercise,
    Event,
    ExerciseResult,
    ExerciseRunView,
    ExerciseScoreResult,
    ExercisesResult,
    GetExerciseScore,
    InjectEvent,
    InjectKind,
    ListExercises,
    ListRecordings,
    RecordingsResult,
    Snapshot,
    StartExercise,
    StopExercise,
    Welcome,
)

SERVER_VARIABLE = "DUTYDESK_SERVER"
USER_VARIABLE = "DUTYDESK_USER"
PASSWORD_VARIABLE = "DUTYDESK_PASSWORD"  # noqa: S105 - the variable's name, not a password
DEFAULT_SERVER = "ws://127.0.0.1:8765/console"
ANSWER_TIMEOUT = 60.0


class _Quiet:
    """The console's events are not this command's business."""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """Ignored."""

    def on_welcome(self, welcome: Welcome) -> None:
        """Ignored."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Ignored."""

    def on_event(self, event: Event) -> None:
        """Ignored."""


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 1.0 <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"the speed must be 1 to {MAX_SPEED:g}")
    return value


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        metavar="URL",
        default=None,
        help=f"the server's console address (default: ${SERVER_VARIABLE}, else {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        default=None,
        help=f"the trainer's account (default: ${USER_VARIABLE}); the password comes from "
        f"${PASSWORD_VARIABLE} or is asked for",
    )
    parser.add_argument(
        "--ca-file",
        metavar="PEM",
        default=None,
        help="trust this certificate authority for a wss:// server with its own certificate",
    )


def add_parser(commands: Subparsers) -> None:
    """Register ``exercise`` and its actions."""
    exercise = commands.add_parser(
        "exercise",
        help="start, steer and stop exercises (演练) on a running server; their score reports",
        description="Exercises replay a recorded incident through the real pipeline into an "
        "isolated exercise (its own database, log, alarms and tasks). See docs/exercises.md.",
    )
    actions = exercise.add_subparsers(dest="exercise_command", metavar="ACTION", required=True)

    start = _action(
        actions,
        "start",
        summary="start a recording as a new exercise",
        description="Start a run.",
        func=_cmd_start,
        run=False,
    )
    start.add_argument("recording", metavar="RECORDING", help="the recording's name (see list)")
    start.add_argument(
        "--speed", type=_speed, default=1.0, help="replay speed, 1 to 64 (default: 1)"
    )
    start.add_argument(
        "--participants",
        metavar="USER,USER",
        default="",
        help="the users taking part (comma-separated; the trainer always is)",
    )
    start.add_argument("--title", default="", help="shown in every participant's banner")

    listing = _action(
        actions,
        "list",
        summary="the runs you may see, and the library's recordings",
        description="List exercise runs (newest first) and the recordings that can be run.",
        func=_cmd_list,
        run=False,
    )
    listing.add_argument("--active", action="store_true", help="only runs that have not ended")

    for action, text in (
        (ControlAction.PAUSE, "pause a run (its clock stands still)"),
        (ControlAction.RESUME, "resume a paused run"),
    ):
        _action(
            actions,
            action.value,
            summary=text,
            description=text[0].upper() + text[1:],
            func=_cmd_control,
            action=action,
        )

    seek = _action(
        actions,
        "seek",
        summary="jump forward to a position of the recording",
        description="Jump forward: the inputs in between are replayed at once, in order. "
        "Going back is refused.",
        func=_cmd_control,
        action=ControlAction.SEEK,
    )
    seek.add_argument("position", metavar="SECONDS", type=float, help="recorded seconds")

    speed = _action(
        actions,
        "speed",
        summary="change a run's speed",
        description="Change the replay speed (1 to 64).",
        func=_cmd_control,
        action=ControlAction.SPEED,
    )
    speed.add_argument("speed", metavar="N", type=_speed, help="the new speed, 1 to 64")

    inject = _action(
        actions,
        "inject",
        summary="inject an event into a running exercise",
        description="sensor_fails SENSOR, truck_sos PHONE, camera_drops CAMERA, "
        "task_declined TASK_ID (with --note as the reason).",
        func=_cmd_inject,
    )
    inject.add_argument("kind", choices=[kind.value for kind in InjectKind], help="what happens")
    inject.add_argument("target", metavar="TARGET", help="what it happens to")
    inject.add_argument("--note", default="", help="a declined task's reason")

    _action(
        actions,
        "stop",
        summary="end a run (its data is kept for the score)",
        description="End a run: its consoles are closed, its database kept.",
        func=_cmd_stop,
    )

    report = _action(
        actions,
        "report",
        summary="write a run's score as Excel and/or HTML",
        description="Ask for a run's score (exercise.score: its figures beside the original "
        "response in its recording and the earlier runs of the same recording, and every "
        "alarm) and write it as an Excel workbook (a summary sheet and an alarms sheet) "
        "and/or a self-contained printable HTML page, each whole or not at all. The user "
        "must see the run (its trainer, a participant, or a supervisor of its area). See "
        "docs/exercises.md, section Scoring.",
        func=_cmd_report,
    )
    report.add_argument("--xlsx", metavar="FILE", type=Path, help="write the Excel workbook here")
    report.add_argument("--html", metavar="FILE", type=Path, help="write the HTML page here")


def _action(
    actions: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    func: Callable[[argparse.Namespace], int],
    run: bool = True,
    **defaults: object,
) -> argparse.ArgumentParser:
    """An action that talks to the server; with ``run``, its first argument is the run."""
    parser = add_action(
        actions,
        name,
        summary=summary,
        description=description,
        func=func,
        options=_client_options,
    )
    parser.set_defaults(**defaults)
    if run:
        parser.add_argument("run_id", metavar="RUN", help="the run's id")
    return parser


def _credentials(args: argparse.Namespace) -> tuple[str, str, str]:
    server = args.server or os.environ.get(SERVER_VARIABLE) or DEFAULT_SERVER
    user = args.user or os.environ.get(USER_VARIABLE)
    if not user:
        raise Error(f"name the trainer's account with --user or ${USER_VARIABLE}")
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = getpass.getpass(f"password of {user}: ")
    return server, user, password


def _ask(args: argparse.Namespace, *commands: Command) -> list[Any]:
    """Log in, send the commands in order, return their answers (or raise :class:`Error`)."""
    server, user, password = _credentials(args)

    async def run() -> list[Any]:
        client = DutyDeskClient(
            server,
            _Quiet(),
            username=user,
            password=password,
            ca_file=args.ca_file,
            client_name="dutydesk-exercise",
            backoff_max=2.0,
        )
        task = asyncio.create_task(client.run())
        try:
            return [await client.request(command, timeout=ANSWER_TIMEOUT) for command in commands]
        except CommandError as exc:
            raise Error(exc.message) from exc
        except ClientError as exc:
            raise Error(str(exc)) from exc
        except TimeoutError as exc:
            raise Error(f"no answer from {server} within {ANSWER_TIMEOUT:g} s") from exc
        finally:
            await client.close()
            with contextlib.suppress(ClientError):
                await task

    return asyncio.run(run())


def _show(run: ExerciseRunView) -> None:
    out(
        f"{run.run_id}  {run.state.value:<9} {run.speed:g}x  "
        f"{run.position_s:.0f}/{run.duration_s:.0f} s  alarms {run.alarms}  "
        f"injected {run.injected}  {run.recording}  「{run.title}」  trainer {run.trainer}"
        + (f"  participants {','.join(run.participants)}" if run.participants else "")
    )


def _run_of(answer: Any) -> ExerciseRunView:
    if not isinstance(answer, ExerciseResult):
        raise Error(f"unexpected answer {type(answer).__name__}")
    return answer.run


def _cmd_start(args: argparse.Namespace) -> int:
    participants = [name.strip() for name in args.participants.split(",") if name.strip()]
    (answer,) = _ask(
        args,
        StartExercise(
            req="",
            recording=args.recording,
            speed=args.speed,
            participants=participants,
            title=args.title,
        ),
    )
    run = _run_of(answer)
    _show(run)
    out(f"participants connect to {run.console_path}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    runs, recordings = _ask(
        args, ListExercises(req="", include_ended=not args.active), ListRecordings(req="")
    )
    if not isinstance(runs, ExercisesResult) or not isinstance(recordings, RecordingsResult):
        raise Error("unexpected answer")
    out(f"runs: {len(runs.runs)}")
    for run in runs.runs:
        _show(run)
    out(f"recordings: {len(recordings.recordings)}")
    for info in recordings.recordings:
        out(
            f"{info.name}  {info.source.value}  {info.duration_s:.0f} s  "
            f"{info.devices} devices  {info.inputs} inputs  「{info.title}」"
        )
    return EXIT_OK


def _cmd_control(args: argparse.Namespace) -> int:
    action: ControlAction = args.action
    command = ControlExercise(
        req="",
        run_id=args.run_id,
        action=action,
        speed=args.speed if action is ControlAction.SPEED else None,
        position_s=args.position if action is ControlAction.SEEK else None,
    )
    (answer,) = _ask(args, command)
    _show(_run_of(answer))
    return EXIT_OK


def _cmd_inject(args: argparse.Namespace) -> int:
    (answer,) = _ask(
        args,
        InjectEvent(
            req="",
            run_id=args.run_id,
            kind=InjectKind(args.kind),
            target=args.target,
            note=args.note,
        ),
    )
    _show(_run_of(answer))
    return EXIT_OK


def _cmd_stop(args: argparse.Namespace) -> int:
    (answer,) = _ask(args, StopExercise(req="", run_id=args.run_id))
    _show(_run_of(answer))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    if args.xlsx is None and args.html is None:
        raise Error("report: give --xlsx FILE and/or --html FILE")
    (answer,) = _ask(args, GetExerciseScore(req="", run_id=args.run_id))
    if not isinstance(answer, ExerciseScoreResult):
        raise Error(f"unexpected answer {type(answer).__name__}")
    score = answer.score
    try:
        written = export(score, xlsx=args.xlsx, html=args.html)
    except ReportError as exc:
        raise Error(str(exc)) from exc
    figures = score.figures
    out(
        f"{score.run_id}: score {figures.score:.1f}; {figures.alarms} alarms, "
        f"{figures.missed} missed, {figures.late} late; {figures.tasks_overdue} tasks overdue"
    )
    for path in written:
        out(f"written: {path}")
    return EXIT_OK
