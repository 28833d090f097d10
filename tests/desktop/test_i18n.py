"""Translations: the .ts covers every string of the code, the .qm is its compilation,
and the console speaks Chinese when the translation is installed."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QApplication, QStatusBar
from pytestqt.qtbot import QtBot

from desktop import texts
from desktop.i18n import install_translators, translation_file
from desktop.resources import TRANSLATIONS_DIR
from desktop.service import ConsoleService
from desktop.status import StatusPanel
from realtime.client import ConnectionState, Refusal
from realtime.event_kinds import EventKind
from realtime.protocol import Role
from realtime.states import AlarmLevel, AlarmState

DESKTOP_DIR = Path(__file__).resolve().parents[2] / "desktop"
TS_FILE = TRANSLATIONS_DIR / "dutydesk_zh_CN.ts"
TOOLS_DIR = Path(sys.executable).parent


def tool(name: str) -> str:
    path = TOOLS_DIR / name
    assert path.exists(), f"{name} is missing from the virtual environment"
    return str(path)


def messages(ts_file: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(ts_file).getroot()
    found: dict[tuple[str, str], ET.Element] = {}
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            found[(name, message.findtext("source") or "")] = translation
    return found


def test_ts_file_covers_every_string_of_the_code(tmp_path: Path) -> None:
    refreshed = tmp_path / TS_FILE.name
    shutil.copy(TS_FILE, refreshed)
    sources = sorted(str(path) for path in DESKTOP_DIR.rglob("*.py"))
    subprocess.run(
        [
            tool("pyside6-lupdate"),
            "-silent",
            "-no-obsolete",
            "-locations",
            "none",
            *sources,
            "-ts",
            str(refreshed),
        ],
        check=True,
    )
    committed, current = messages(TS_FILE), messages(refreshed)
    assert sorted(set(current) - set(committed)) == [], "strings missing from the .ts"
    assert sorted(set(committed) - set(current)) == [], "strings no longer in the code"
    unfinished = [
        key for key, element in current.items() if element.get("type") or not element.text
    ]
    assert unfinished == []


def test_placeholders_survive_translation() -> None:
    for (context, source), translation in messages(TS_FILE).items():
        for placeholder in ("{count}", "{age}", "{alarm_id}", "{reason}", "{user}", "{action}"):
            assert (placeholder in source) == (placeholder in (translation.text or "")), (
                context,
                source,
            )


def test_qm_file_is_the_compiled_ts(tmp_path: Path) -> None:
    compiled = tmp_path / "fresh.qm"
    subprocess.run(
        [tool("pyside6-lrelease"), "-silent", str(TS_FILE), "-qm", str(compiled)], check=True
    )
    assert compiled.read_bytes() == translation_file("zh_CN").read_bytes(), (
        "resources/translations/dutydesk_zh_CN.qm is stale: run pyside6-lrelease "
        "(see resources/translations/README.md)"
    )


def test_chinese_is_used_when_installed(chinese: list[QTranslator]) -> None:
    assert chinese, "the Chinese translation did not load"
    assert texts.level_label(AlarmLevel.RED) == "红色"
    assert texts.state_label(AlarmState.NEW) == "待接警"
    assert texts.alarm_type_label("hazmat_leak") == "危化品泄漏"
    assert texts.format_duration(192) == "3分12秒"


def test_english_needs_no_translation_file(qapp: QApplication) -> None:
    assert install_translators(qapp, "en") == []
    assert texts.format_duration(192) == "3 min 12 s"


def english_event_kind_labels(qapp: QApplication) -> dict[EventKind, str]:
    assert install_translators(qapp, "en") == []
    return {kind: texts.event_kind_label(kind) for kind in EventKind}


def test_every_event_kind_has_an_english_label(qapp: QApplication) -> None:
    labels = english_event_kind_labels(qapp)
    unlabelled = [kind for kind, label in labels.items() if label == kind.value or not label]
    assert unlabelled == [], "event kinds shown as raw codes in the event log"
    assert len(set(labels.values())) == len(labels), "two kinds share a label"


def test_every_event_kind_has_a_chinese_label(qapp: QApplication) -> None:
    english = english_event_kind_labels(qapp)
    installed = install_translators(qapp, "zh_CN")
    try:
        assert installed, "the Chinese translation did not load"
        chinese = {kind: texts.event_kind_label(kind) for kind in EventKind}
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)
        install_translators(qapp, "en")
    untranslated = [
        kind
        for kind, label in chinese.items()
        if label in (kind.value, english[kind]) or not any("\u4e00" <= c <= "\u9fff" for c in label)
    ]
    assert untranslated == [], "event kinds without a Chinese label"
    assert chinese[EventKind.ALARM_LEVEL_CHANGED] == "级别变更"


@pytest.mark.gui
def test_status_bar_speaks_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    service = ConsoleService()
    status_bar = QStatusBar()
    qtbot.addWidget(status_bar)
    panel = StatusPanel(service, status_bar)
    service.on_state(ConnectionState.LIVE, "")
    assert panel.connection_label.text() == "已连接"
    service.on_state(ConnectionState.DISCONNECTED, "link lost")
    went_down = service.store.last_update
    assert went_down is not None
    service.store.mark_fresh(went_down - dt.timedelta(seconds=192))
    panel.refresh()
    assert panel.connection_label.text().startswith("已断开 – 数据 3分1")
    assert panel.connection_label.text().endswith("秒前")


def test_roles_and_agencies_are_named_in_chinese(chinese: list[QTranslator]) -> None:
    assert texts.role_label(Role.AGENCY) == "联动单位"
    assert texts.role_label(Role.VIEWER) == "只读查看"
    assert texts.role_label(Role.TRAINER) == "演练导调"
    assert texts.agency_label("fire") == "消防救援"
    assert texts.agency_label("health") == "卫健/120"
    # An agency the server added later: its name from agencies.list.
    assert texts.agency_label("water") == "water"
    texts.set_agency_names({"water": "水务"})
    try:
        assert texts.agency_label("water") == "水务"
    finally:
        texts.set_agency_names({})


def test_a_refused_login_is_explained_in_chinese(chinese: list[QTranslator]) -> None:
    assert texts.refusal_text(Refusal(429, None)) == (
        "本机或该用户登录失败次数过多，服务器暂时拒绝登录。"
    )
    assert texts.refusal_text(Refusal(503, 2.0)) == (
        "服务器繁忙或数据库暂不可用，尚未校验登录。请 2 秒后再试。"
    )
    assert texts.refusal_text(Refusal(418, None)) == "服务器拒绝了连接（HTTP 418）。"


def test_every_translation_context_is_one_the_console_looks_up() -> None:
    """A string translated as ``parent.tr(…)`` or ``self._window.tr(…)`` lands in a context
    named after the variable ("parent"), which Qt never asks for: the officer sees English.
    Every context must be a class of the console (``self.tr`` walks the class's bases) or a
    context the code names itself (``QCoreApplication.translate("Labels", …)``)."""
    console = Path(texts.__file__).parent
    sources = [path.read_text(encoding="utf-8") for path in console.rglob("*.py")]
    classes = {name for text in sources for name in re.findall(r"^\s*class (\w+)", text, re.M)}
    named = {
        name
        for text in sources
        for name in re.findall(r"(?:translate|QT_TRANSLATE_NOOP)\(\s*\"(\w+)\"", text)
    }
    tree = ET.parse(TRANSLATIONS_DIR / "dutydesk_zh_CN.ts")
    contexts = {context.findtext("name") or "" for context in tree.getroot().iter("context")}
    assert contexts - classes - named == set()
