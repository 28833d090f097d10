"""The user guide's table of steps per task says what the scenarios measured."""

from __future__ import annotations

import pytest

from tests.desktop.usability.report import GUIDE, Error, load, table, with_table
from tests.desktop.usability.steps import TASK_ORDER


def test_the_guide_shows_the_measured_steps_of_every_task() -> None:
    results = load()
    assert list(results) == TASK_ORDER
    guide = GUIDE.read_text("utf-8")
    assert with_table(guide, table(results)) == guide, (
        "run: python -m tests.desktop.usability.report --write"
    )
    for task in results.values():
        assert (GUIDE.parent / "images" / task["screenshot"]).is_file()


def test_a_guide_without_the_markers_is_refused() -> None:
    with pytest.raises(Error, match="markers"):
        with_table("# guide\n", "| table |\n")
