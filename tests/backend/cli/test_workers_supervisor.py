"""The supervisor of ``dutydesk serve --workers`` (backend.cli.workers) without a database:
the workers' command line, what is refused before anything starts, and a worker that
refuses its options stops the supervisor at once with exit code 1 (restarting it would
fail the same way)."""

from __future__ import annotations

import sys

import pytest

from backend.cli.common import EXIT_FAILURE
from backend.cli.workers import Supervisor, refusal, worker_argv

PG = "postgresql://dutydesk:pw@db.internal/dutydesk"


def test_a_worker_runs_the_same_serve_without_workers_and_with_reuse_port() -> None:
    argv = ["--log-level", "DEBUG", "serve", "--workers", "3", "--port", "8765", "--workers=3"]
    assert worker_argv(argv) == [
        sys.executable,
        "-m",
        "backend",
        "--log-level",
        "DEBUG",
        "serve",
        "--port",
        "8765",
        "--reuse-port",
    ]


@pytest.mark.parametrize(
    ("url", "port", "jt808", "workers", "said"),
    [
        ("sqlite:////var/lib/dutydesk/dutydesk.db", 8765, None, 2, "--workers needs PostgreSQL"),
        (PG, 0, None, 2, "--workers needs fixed ports"),
        (PG, 8765, ("0.0.0.0", 0), 2, "--workers needs fixed ports"),
        (PG, 8765, None, 0, "--workers must be 1 or more"),
    ],
)
def test_what_cannot_work_is_refused_in_one_line(
    url: str, port: int, jt808: tuple[str, int] | None, workers: int, said: str
) -> None:
    reason = refusal(url, port, jt808, workers)
    assert reason is not None
    assert reason.startswith(said)
    assert "\n" not in reason


def test_one_worker_on_sqlite_and_several_on_postgresql_are_fine() -> None:
    assert refusal("sqlite:////tmp/x.db", 0, None, 1) is None
    assert refusal(PG, 8765, ("0.0.0.0", 7018), 4) is None


async def test_a_worker_that_refuses_its_options_stops_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor(2, ["serve", "--no-such-option"])
    assert await supervisor.run() == EXIT_FAILURE
    assert "refused its options (exit code 2)" in capsys.readouterr().err
