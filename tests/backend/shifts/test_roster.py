"""The duty roster: the CSV import (all or nothing, every bad row named), ``roster show``
and ``roster set``; ``roster.today`` scoped over a real server; the handover's incoming
officer taken from the next shift."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from backend.cli.app import main
from backend.server.app import DutyDeskServer
from backend.shifts.roster import RosterError
from realtime.protocol import (
    DraftHandover,
    HandoverResult,
    RosterPosition,
    RosterResult,
    RosterToday,
)
from tests.backend.conftest import open_console
from tests.backend.shifts.conftest import DISTRICT, TOWN, password

HEADER = "date,jurisdiction,agency,position,username,start,end\n"


def _user(data: list[str], tmp_path: Path, name: str, *extra: str) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    assert main(["user", "add", name, "--password-file", str(password_file), *extra, *data]) == 0


def test_import_is_all_or_nothing_and_names_every_bad_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    _user(data, tmp_path, "lead", "--role", "supervisor", "--jurisdiction", DISTRICT)
    _user(data, tmp_path, "duty", "--role", "officer", "--jurisdiction", DISTRICT)
    _user(data, tmp_path, "fire-d", "--role", "agency", "--agency", "fire")
    capsys.readouterr()
    good = tmp_path / "good.csv"
    good.write_text(
        "\ufeff"
        + HEADER
        + f"2026-12-05,{DISTRICT},,leader,lead,2026-12-05T08:00+08:00,2026-12-05T20:00+08:00\n"
        + f"2026-12-05,{DISTRICT},,officer,duty,2026-12-05T00:00Z,2026-12-05T12:00Z\n"
        + f"2026-12-05,{DISTRICT},fire,agency_desk,fire-d,2026-12-05T00:00Z,2026-12-05T12:00Z\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", str(good), *data]) == 0
    assert "imported 3 shift(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + f"2026-12-06,{DISTRICT},,officer,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + "2026-13-06,330106,,officer,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + "2026-12-06,33A106,,officer,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + f"2026-12-06,{DISTRICT},,captain,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + f"2026-12-06,{DISTRICT},,officer,ghost,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + f"2026-12-06,{DISTRICT},,officer,duty,2026-12-06T12:00Z,2026-12-06T00:00Z\n"
        + f"2026-12-06,{DISTRICT},,officer,duty,2026-12-06T00:00,2026-12-06T12:00Z\n"
        + "2026-12-06,330105,,officer,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n"
        + f"2026-12-06,{DISTRICT},,officer,duty\n"
        + f"2026-12-06,{DISTRICT},,officer,duty,2026-12-06T00:00Z,2026-12-06T12:00Z\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", str(bad), *data]) == 1
    errors = capsys.readouterr().err
    for line, words in [
        (3, "is not like"),
        (4, "not a region code"),
        (5, "is not one of"),
        (6, "no user 'ghost'"),
        (7, "must end after it starts"),
        (8, "has no offset"),
        (9, "not to this desk"),
        (10, "columns"),
        (11, "the same shift as line 2"),
    ]:
        assert any(
            row.strip().startswith(f"line {line}:") and words in row for row in errors.splitlines()
        ), (line, errors)
    assert "nothing imported" in errors
    assert main(["roster", "show", "--date", "2026-12-06", *data]) == 0
    assert "no one on the roster" in capsys.readouterr().out
    assert main(["roster", "show", "--date", "2026-12-05", *data]) == 0
    shown = capsys.readouterr().out
    assert "leader" in shown
    assert "fire-d" in shown
    assert "08:00 – 12-05 20:00 CST" in shown
    # Set adds one, and refuses a bad one with the reason.
    assert (
        main(
            [
                "roster",
                "set",
                "--date",
                "2026-12-06",
                "--jurisdiction",
                DISTRICT,
                "--position",
                "officer",
                "--user",
                "duty",
                "--start",
                "2026-12-06T08:00+08:00",
                "--end",
                "2026-12-06T20:00+08:00",
                *data,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "roster",
                "set",
                "--date",
                "2026-12-06",
                "--position",
                "agency_desk",
                "--user",
                "duty",
                "--start",
                "2026-12-06T08:00Z",
                "--end",
                "2026-12-06T09:00Z",
                *data,
            ]
        )
        == 1
    )
    assert "needs the agency" in capsys.readouterr().err
    assert main(["roster", "import", str(tmp_path / "missing.csv"), *data]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_a_file_with_another_header_is_refused() -> None:
    from backend.shifts.roster import parse_csv

    with pytest.raises(RosterError) as refused:
        parse_csv("day,desk\n2026-12-05,330106\n", {})
    assert "the header must be" in refused.value.message


async def test_today_is_scoped_and_the_next_shift_is_the_incoming_officer(
    grid: DutyDeskServer,
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date().isoformat()
    rows = [
        (
            DISTRICT,
            "",
            "leader",
            "district1",
            now - dt.timedelta(hours=2),
            now + dt.timedelta(hours=1),
        ),
        (
            DISTRICT,
            "",
            "officer",
            "district1",
            now - dt.timedelta(hours=8),
            now + dt.timedelta(minutes=5),
        ),
        (
            DISTRICT,
            "",
            "officer",
            "district2",
            now + dt.timedelta(minutes=5),
            now + dt.timedelta(hours=12),
        ),
        (TOWN, "", "officer", "town1", now - dt.timedelta(hours=1), now + dt.timedelta(hours=11)),
        (
            "330105",
            "",
            "officer",
            "neighbour",
            now - dt.timedelta(hours=1),
            now + dt.timedelta(hours=11),
        ),
        (
            DISTRICT,
            "fire",
            "agency_desk",
            "fire_desk",
            now - dt.timedelta(hours=1),
            now + dt.timedelta(hours=1),
        ),
    ]
    text = HEADER + "".join(
        f"{today},{area},{agency},{position},{user},{start.isoformat()},{end.isoformat()}\n"
        for area, agency, position, user, start, end in rows
    )
    assert await grid.roster.import_csv(text) == 6

    town = await open_console(grid, "town1", password("town1"))
    district = await open_console(grid, "district1", password("district1"))
    fire = await open_console(grid, "fire_desk", password("fire_desk"))
    try:
        seen = await town.client.request(RosterToday(req=""))
        assert isinstance(seen, RosterResult)
        assert [(e.username, e.on_duty) for e in seen.entries] == [("town1", True)]
        wide = await district.client.request(RosterToday(req=""))
        assert isinstance(wide, RosterResult)
        names = {(e.username, e.position, e.on_duty) for e in wide.entries}
        assert ("district2", RosterPosition.OFFICER, False) in names
        assert ("district1", RosterPosition.LEADER, True) in names
        assert "neighbour" not in {e.username for e in wide.entries}
        desk = await fire.client.request(RosterToday(req=""))
        assert isinstance(desk, RosterResult)
        assert [e.username for e in desk.entries] == ["fire_desk"]

        draft = await district.client.request(DraftHandover(req=""))
        assert isinstance(draft, HandoverResult)
        assert draft.handover.incoming == "district2"
        assert draft.handover.shift_start == now - dt.timedelta(hours=2)
    finally:
        for console in (town, district, fire):
            await console.close()
