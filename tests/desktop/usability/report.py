"""The table of clicks and keystrokes per task, from the scenarios' ``steps.json``.

    python -m tests.desktop.usability.report          # print the table
    python -m tests.desktop.usability.report --write  # put it in docs/user-guide.md

The table sits between two markers in the "操作步数 / Steps per task" section of the user
guide; tests/desktop/usability/test_report.py fails when it is out of step with the
figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tests.desktop.usability.steps import RESULTS

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "user-guide.md"
START = "<!-- steps-per-task:start (python -m tests.desktop.usability.report --write) -->"
END = "<!-- steps-per-task:end -->"


class Error(Exception):
    """The user guide has no place for the table."""


def table(results: dict[str, Any]) -> str:
    """The Markdown table of ``results`` (as ``steps.json`` holds them)."""
    lines = [
        "| 任务 / Task | 点击 / Clicks | 按键 / Keys | 输入字符 / Typed | 快捷键 / Shortcuts "
        "| 画面 / Screen |",
        "|---|---:|---:|---:|---|---|",
    ]
    for task in results.values():
        shortcuts = ", ".join(f"`{key}`" for key in task["shortcuts"]) or "–"
        picture = task["screenshot"]
        lines.append(
            f"| {task['title']} | {task['clicks']} | {task['keys']} | {task['typed']} "
            f"| {shortcuts} | [{picture}](images/{picture}) |"
        )
    return "\n".join(lines) + "\n"


def load() -> dict[str, Any]:
    """The figures of the last run of the scenarios."""
    results: dict[str, Any] = json.loads(RESULTS.read_text("utf-8"))
    return results


def with_table(guide: str, rendered: str) -> str:
    """``guide`` with the text between the markers replaced by ``rendered``."""
    try:
        head, rest = guide.split(START, 1)
        _old, tail = rest.split(END, 1)
    except ValueError as error:
        raise Error(f"the user guide lacks the markers {START!r} … {END!r}") from error
    return f"{head}{START}\n{rendered}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write it into the user guide."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--write", action="store_true", help="replace the table in docs/user-guide.md"
    )
    arguments = parser.parse_args(argv)
    rendered = table(load())
    if arguments.write:
        GUIDE.write_text(with_table(GUIDE.read_text("utf-8"), rendered), "utf-8")
    else:
        sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
