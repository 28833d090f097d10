"""An exercise's score exported to files: the Excel workbook and the printable HTML page.

The writers themselves are :mod:`realtime.exercise_report` (Qt-free and database-free, so
the console makes the very same files from the ``exercise.score`` answer it holds); this
module writes them for the server side and the command line, each file whole or not at
all (written beside its target, then renamed over it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from realtime.exercise_report import build_workbook, render_html
from realtime.protocol import ExerciseScore


class Error(Exception):
    """A report cannot be written; ``str()`` names the file and says why."""


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    directory = path.parent if str(path.parent) else Path()
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise Error(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(handle)
    partial = Path(name)
    try:
        write(partial)
        os.replace(partial, path)
    except OSError as exc:
        raise Error(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def export(
    score: ExerciseScore,
    *,
    xlsx: Path | None = None,
    html: Path | None = None,
    generated_at: dt.datetime | None = None,
) -> list[Path]:
    """Write the score to ``xlsx`` and/or ``html`` (blocking: run it off the event loop);
    return the files written."""
    written: list[Path] = []
    if xlsx is not None:
        book = build_workbook(score)
        _write_atomically(xlsx, book.save)
        written.append(xlsx)
    if html is not None:
        page = render_html(score, generated_at=generated_at)
        _write_atomically(html, lambda partial: partial.write_text(page, encoding="utf-8"))
        written.append(html)
    return written
