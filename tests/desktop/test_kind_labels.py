"""Every alarm type the backend can raise and every event kind it writes has a name in
both languages: collected from the backend's own tables (the sensor rules, the vehicle
rules, the JT/T 808 alarm bits of both editions, the catalogue, the demo scenario and the
phone report's menu), so a new rule or bit cannot reach the queue as a raw code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from backend.cli.demo import load_scenario
from backend.incidents.catalogue import load_catalogue
from backend.sensors.rules.config import RuleKey
from backend.vehicles.rules.decisions import RuleHit, RuleKind
from desktop import texts
from desktop.alarm_types import known_alarm_types
from desktop.i18n import install_translators
from devices.jt808.bits import ALARM_BITS_2013, ALARM_BITS_2019
from realtime.event_kinds import EventKind
from realtime.states import AlarmLevel

T = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)


def vehicle_rule_type(kind: RuleKind, key: str = "") -> str:
    """The alarm type a vehicle rule hit raises, as the rule engine names it."""
    hit = RuleHit(
        vehicle="v",
        rule_id="r",
        alarm_key=key or kind.value,
        kind=kind,
        level=AlarmLevel.RED,
        title="",
        started_at=T,
        at=T,
        lat=None,
        lon=None,
        detail={},
    )
    return hit.alarm_type


def backend_alarm_types() -> set[str]:
    """Every alarm type code the backend can put on an alarm."""
    bits = set(ALARM_BITS_2013.values()) | set(ALARM_BITS_2019.values())
    types = {f"sensor_{key.value}" for key in RuleKey}  # backend/sensors/service.py
    types |= {vehicle_rule_type(kind) for kind in RuleKind if kind is not RuleKind.TERMINAL_ALARM}
    types |= {vehicle_rule_type(RuleKind.TERMINAL_ALARM, bit) for bit in bits}
    types |= {f"vehicle_{bit}" for bit in bits}  # the JT/T 808 ingest
    types |= {code for item in load_catalogue().items() for code in item.alarm_types}
    types |= {incident.alarm_type for incident in load_scenario().incidents}
    types |= set(texts.MANUAL_ALARM_TYPES)
    return types


def labels_in(
    app: QApplication, language: str, codes: Iterable[str], label: Callable[[str], str]
) -> dict[str, str]:
    installed = install_translators(app, language)
    try:
        assert installed or language == "en", "the Chinese translation did not load"
        return {code: label(code) for code in codes}
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def unnamed(app: QApplication, codes: Iterable[str], label: Callable[[str], str]) -> Iterator[str]:
    codes = sorted(codes)
    english = labels_in(app, "en", codes, label)
    chinese = labels_in(app, "zh_CN", codes, label)
    for code in codes:
        if english[code] in ("", code) or not english[code].isascii():
            yield f"{code}: no English name ({english[code]!r})"
        if chinese[code] in (code, english[code]) or not has_chinese(chinese[code]):
            yield f"{code}: no Chinese name ({chinese[code]!r})"


def test_the_enumeration_finds_the_known_sources() -> None:
    types = backend_alarm_types()
    # One of each origin, so a broken collector cannot pass by finding nothing.
    assert {"sensor_threshold_high", "vehicle_geofence_exit", "vehicle_emergency"} <= types
    assert {"vehicle_collision_rollover", "fire", "gas_overlimit"} <= types


def test_every_alarm_type_the_backend_raises_is_named_in_both_languages(
    qapp: QApplication,
) -> None:
    types = backend_alarm_types()
    assert sorted(unnamed(qapp, types, texts.alarm_type_label)) == []
    # And the console names nothing the backend cannot raise (a stale table).
    assert sorted(known_alarm_types() - types - {"gas_leak", "sos", "overspeed"}) == []


def test_every_event_kind_is_named_in_both_languages(qapp: QApplication) -> None:
    assert sorted(unnamed(qapp, [kind.value for kind in EventKind], texts.event_kind_label)) == []


@pytest.mark.parametrize("source", ["manual", "device"])
def test_every_alarm_source_is_named_in_both_languages(qapp: QApplication, source: str) -> None:
    assert list(unnamed(qapp, [source], texts.source_label)) == []


def test_an_unknown_code_is_shown_as_it_came(qapp: QApplication) -> None:
    labels_in(qapp, "en", [], texts.alarm_type_label)
    assert texts.alarm_type_label("sensor_new_rule") == "Sensor alarm: new_rule"
    assert texts.alarm_type_label("brand_new") == "brand_new"
