"""``dutydesk danger export`` writes the workbook of the whole area (a hostile
description stays text, never a formula; phones masked); ``dutydesk user add`` binds an
enterprise user to a registry enterprise and refuses otherwise, in one line."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from backend.cli.app import main
from backend.config import sqlite_url
from backend.dangers.service import DangerService
from backend.eventlog import log as eventlog
from backend.security import FieldCipher
from backend.storage import db
from tests.backend.dangers.conftest import ENT_A, OFFICER_SH, add_enterprises, finding

EVIL = '=HYPERLINK("http://x","点我")'


async def _seed(url: str, data_dir: Path) -> None:
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        await add_enterprises(sessions)
        cipher = FieldCipher.from_data_dir(data_dir)
        service = DangerService(sessions, eventlog.EventWriter(sessions, lambda _e: None), cipher)
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
        await service.report(
            ENT_A, finding(description=EVIL, deadline=deadline, name="张三", phone="13812345678")
        )
        await service.report(OFFICER_SH, finding("ENT-SH-A"))
    finally:
        await engine.dispose()


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    asyncio.run(_seed(sqlite_url(tmp_path), tmp_path))
    return ["--data-dir", str(tmp_path)]


def test_the_export(data: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book_path = tmp_path / "隐患.xlsx"
    assert main(["danger", "export", "--xlsx", str(book_path), *data]) == 0
    assert "2 hidden dangers" in capsys.readouterr().out
    book = openpyxl.load_workbook(book_path)
    listed = list(book["隐患清单"].iter_rows(values_only=True))
    assert len(listed) == 3
    cells = {cell.value: cell.data_type for row in book["隐患清单"].iter_rows() for cell in row}
    assert cells[EVIL] == "s", "text, never a formula"
    assert "138****5678" in cells
    assert "13812345678" not in repr(listed)
    by_area = list(book["按辖区统计"].iter_rows(values_only=True))
    assert sorted(row[1] for row in by_area[1:]) == ["310104", "330106"]
    # Only Hangzhou, and a period with nothing in it.
    assert main(["danger", "export", "--xlsx", str(book_path), "--under", "3301", *data]) == 0
    assert "1 hidden dangers" in capsys.readouterr().out
    old = ["--since", "2020-01-01", "--until", "2020-02-01"]
    assert main(["danger", "export", "--xlsx", str(book_path), *old, *data]) == 0
    assert "0 hidden dangers" in capsys.readouterr().out


def test_enterprise_users_are_bound(
    data: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUTYDESK_NEW_PASSWORD", "pw-enterprise-long")
    add = ["user", "add"]
    assert main([*add, "ent-a", "--role", "enterprise", "--enterprise", "ENT-HZ-A", *data]) == 0
    assert main([*add, "ent-x", "--role", "enterprise", "--enterprise", "NOPE", *data]) == 1
    assert "no enterprise 'NOPE' in the registry" in capsys.readouterr().err
    assert main([*add, "ent-y", "--role", "enterprise", *data]) == 1
    assert "must belong to an enterprise" in capsys.readouterr().err
    assert main([*add, "off", "--role", "officer", "--enterprise", "ENT-HZ-A", *data]) == 1
    assert "--enterprise is for users of role enterprise only" in capsys.readouterr().err
