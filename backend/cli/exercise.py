"""``dutydesk exercise``: exercises (演练) on a running server. ``exercise report`` asks
the server for a run's score (``exercise.score``, as the trainer's console does) and
writes it as an Excel workbook and/or a printable HTML page.

A client of the server, not of the database: the score needs the run's own database, the
recording and the earlier runs, which the server's exercise manager holds, and the server
checks that the user may see the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from backend.cli.common import EXIT_OK, Error, Subparsers, out
from backend.exercises.report import Error as ReportError
from backend.exercises.report import export
from realtime.client import ClientError, ConnectionState, DutyDeskClient
from realtime.protocol import (
    Event,
    ExerciseScore,
    ExerciseScoreResult,
    GetExerciseScore,
    Snapshot,
    Welcome,
)

DEFAULT_SERVER_URL = "ws://127.0.0.1:8765/console"
PASSWORD_ENV = "DUTYDESK_PASSWORD"  # noqa: S105 - the variable's name, not a secret

_EXAMPLES = """examples:
  dutydesk exercise report drill-0412 --user trainer1 --xlsx 演练评分.xlsx --html 演练评分.html
  DUTYDESK_PASSWORD=… dutydesk exercise report drill-0412 --server wss://zbt.example:8765/console \\
      --ca-file ca.pem --user trainer1 --html report.html
"""


def add_parser(commands: Subparsers) -> None:
    """Register ``exercise`` and its action ``report``."""
    exercise = commands.add_parser(
        "exercise",
        help="exercises (演练) on a running server: the score report",
        description="Exercises (演练) on a running server (see docs/exercises.md).",
    )
    actions = exercise.add_subparsers(dest="exercise_command", metavar="ACTION", required=True)
    report = actions.add_parser(
        "report",
        help="write a run's score as Excel and/or HTML",
        description="Ask a running server for an exercise run's score (exercise.score: the "
        "run's figures beside the original response in its recording and the earlier runs "
        "of the same recording, and every alarm) and write it as an Excel workbook (a "
        "summary sheet and an alarms sheet) and/or a self-contained printable HTML page. "
        "This is a client of the server (it logs in like a console; the user must be "
        "allowed to see the run: its trainer, a participant, or a supervisor of its area), "
        "not of the database. See docs/exercises.md, section Scoring.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("run_id", metavar="RUN_ID", help="the id of the exercise run")
    report.add_argument("--xlsx", metavar="FILE", type=Path, help="write the Excel workbook here")
    report.add_argument("--html", metavar="FILE", type=Path, help="write the HTML page here")
    report.add_argument(
        "--server",
        default=DEFAULT_SERVER_URL,
        metavar="URL",
        help="console endpoint of the server, ws://HOST:PORT/console (default: %(default)s)",
    )
    report.add_argument("--user", required=True, metavar="NAME", help="user name to log in as")
    report.add_argument(
        "--password-file",
        type=Path,
        metavar="PATH",
        help=f"file whose first line is the password (else ${PASSWORD_ENV} is used)",
    )
    report.add_argument(
        "--totp", default="", metavar="CODE", help="the second-factor code, if the user has one"
    )
    report.add_argument(
        "--ca-file", metavar="PEM", help="CA certificate that verifies a wss:// server"
    )
    report.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up when the server has not answered in this long (default: %(default)s)",
    )
    report.set_defaults(func=_cmd_report)


def _password(path: Path | None) -> str:
    if path is None:
        return os.environ.get(PASSWORD_ENV, "")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise Error(f"cannot read the password file {path}: {exc.strerror or exc}") from exc
    return lines[0] if lines else ""


class _Link:
    """Remembers why the link is not live (the one-shot client shows nothing else)."""

    def __init__(self) -> None:
        self.detail = ""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        if state is not ConnectionState.LIVE and detail:
            self.detail = detail

    def on_welcome(self, welcome: Welcome) -> None:
        pass

    def on_snapshot(self, snapshot: Snapshot) -> None:
        pass

    def on_event(self, event: Event) -> None:
        pass


async def fetch_score(
    url: str,
    run_id: str,
    *,
    username: str,
    password: str,
    totp: str = "",
    ca_file: str | None = None,
    timeout: float = 30.0,
) -> ExerciseScore:
    """Log in at ``url`` and return the score of ``run_id`` (``exercise.score``)."""
    link = _Link()
    client = DutyDeskClient(
        url,
        link,
        username=username,
        password=password,
        totp=totp,
        ca_file=ca_file,
        client_name="dutydesk-exercise-report",
    )
    session = asyncio.create_task(client.run(), name="exercise-report-session")
    try:
        answer = await client.request(GetExerciseScore(req="", run_id=run_id), timeout=timeout)
    except TimeoutError as exc:
        why = f" ({link.detail})" if link.detail else ""
        raise Error(f"no answer from {url} in {timeout:g} s{why}") from exc
    except ClientError as exc:
        raise Error(str(exc)) from exc
    finally:
        await client.close()
        await session
    if not isinstance(answer, ExerciseScoreResult):
        raise Error(f"the server answered {type(answer).__name__}, not a score")
    return answer.score


def _cmd_report(args: argparse.Namespace) -> int:
    if args.xlsx is None and args.html is None:
        raise Error("report: give --xlsx FILE and/or --html FILE")
    if not args.user.strip():
        raise Error("report: --user must name a user")
    password = _password(args.password_file)
    if not password:
        raise Error(f"report: give --password-file or set ${PASSWORD_ENV}")
    score = asyncio.run(
        fetch_score(
            args.server,
            args.run_id,
            username=args.user,
            password=password,
            totp=args.totp,
            ca_file=args.ca_file,
            timeout=args.timeout,
        )
    )
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
