"""Weather warnings from CAP alerts over a real server (SQLite and PostgreSQL): the
hazard sources inside an area (polygon, circle, geocode) and inside the importer's area
get a warning with the alert's level; an Update replaces, a Cancel ends, expiry ends;
bad CAP is refused clearly and raises nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path

import pytest

from backend.cap.codec import encode_alert
from backend.cap.model import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    Category,
    Certainty,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
)
from backend.early_warning.service import WEATHER_IMPORTS_PER_MINUTE, HazardSource
from backend.early_warning.weather import covers, level_of
from backend.early_warning.weather_dir import WeatherFolder
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.client import CommandError
from realtime.protocol import (
    ErrorCode,
    ImportWeather,
    ListWarnings,
    WarningsResult,
    WeatherImported,
)
from realtime.protocol.early_warning import WarningLevel, WarningSource, WarningState
from tests.backend.conftest import open_console
from tests.backend.early_warning.conftest import HS_LAT, HS_LON, PASSWORD
from tests.backend.early_warning.test_trend_warnings import WHOLE_AREA

SENDER = "weather@example.invalid"


def _square(lat: float, lon: float, half: float = 0.05) -> tuple[tuple[float, float], ...]:
    return (
        (lat - half, lon - half),
        (lat - half, lon + half),
        (lat + half, lon + half),
        (lat + half, lon - half),
        (lat - half, lon - half),
    )


def _info(
    severity: Severity = Severity.SEVERE,
    *,
    area: CapArea | None = None,
    expires: dt.datetime | None = None,
    parameters: tuple[tuple[str, str], ...] = (),
) -> CapInfo:
    return CapInfo(
        categories=(Category.MET,),
        event="暴雨",
        urgency=Urgency.EXPECTED,
        severity=severity,
        certainty=Certainty.LIKELY,
        headline="区气象台发布暴雨预警",
        expires=expires or dt.datetime.now(dt.UTC) + dt.timedelta(hours=6),
        parameters=parameters,
        areas=(area or CapArea("城东片区", polygons=(_square(HS_LAT, HS_LON),)),),
    )


def _alert(
    identifier: str,
    *infos: CapInfo,
    msg_type: MsgType = MsgType.ALERT,
    references: tuple[str, ...] = (),
) -> str:
    sent = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return encode_alert(
        CapAlert(
            identifier=identifier,
            sender=SENDER,
            sent=sent,
            status=Status.ACTUAL,
            msg_type=msg_type,
            scope=Scope.PUBLIC,
            references=tuple(CapReference(SENDER, r, sent) for r in references),
            infos=infos,
        )
    ).decode()


HS = HazardSource("HS", "罐区", "330106001", 30.25, 120.15, ())


def test_coverage_by_polygon_circle_and_geocode() -> None:
    assert covers(CapArea("a", polygons=(_square(30.25, 120.15),)), HS)
    assert not covers(CapArea("a", polygons=(_square(31.25, 120.15),)), HS)
    assert covers(CapArea("a", circles=((30.26, 120.15, 2.0),)), HS)  # ~1.1 km away
    assert not covers(CapArea("a", circles=((30.30, 120.15, 2.0),)), HS)  # ~5.6 km
    assert covers(CapArea("a", geocodes=(("GB/T 2260", "330106"),)), HS)
    assert covers(CapArea("a", geocodes=(("GB/T 2260", "330100"),)), HS)
    assert not covers(CapArea("a", geocodes=(("GB/T 2260", "330105"),)), HS)
    assert not covers(CapArea("a", geocodes=(("GB/T 2260", "not-a-code"),)), HS)


def test_level_from_severity_or_the_level_parameter() -> None:
    assert level_of(_info(Severity.EXTREME)) is WarningLevel.RED
    assert level_of(_info(Severity.SEVERE)) is WarningLevel.ORANGE
    assert level_of(_info(Severity.MODERATE)) is WarningLevel.YELLOW
    assert level_of(_info(Severity.MINOR)) is WarningLevel.BLUE
    assert level_of(_info(Severity.UNKNOWN)) is WarningLevel.BLUE
    named = _info(Severity.MINOR, parameters=(("预警级别", "红色"),))
    assert level_of(named) is WarningLevel.RED


async def test_an_alert_warns_the_hazard_sources_it_covers_then_update_and_cancel(
    warned: DutyDeskServer,
) -> None:
    officer = await open_console(warned, "officer1", "pw-officer1")
    outsider = await open_console(warned, "town2", PASSWORD)
    try:
        imported = await officer.client.request(
            ImportWeather(req="", cap_xml=_alert("W-1", _info(Severity.MODERATE)))
        )
        assert isinstance(imported, WeatherImported)
        assert imported.alert.event == "暴雨"
        (warning,) = imported.warnings
        assert warning.source is WarningSource.WEATHER
        assert warning.hazard_source == "HS-1", "HS-2 lies outside the polygon"
        assert warning.level is WarningLevel.YELLOW
        assert warning.weather is not None
        assert warning.weather.identifier == "W-1"
        assert "一号储罐区" in warning.title

        again = await officer.client.request(
            ImportWeather(req="", cap_xml=_alert("W-1", _info(Severity.MODERATE)))
        )
        assert isinstance(again, WeatherImported)
        assert [w.id for w in again.warnings] == [warning.id], "a re-import merges"
        assert again.warnings[0].count == 2

        updated = await officer.client.request(
            ImportWeather(
                req="",
                cap_xml=_alert(
                    "W-2", _info(Severity.EXTREME), msg_type=MsgType.UPDATE, references=("W-1",)
                ),
            )
        )
        assert isinstance(updated, WeatherImported)
        (changed,) = updated.warnings
        assert changed.id == warning.id
        assert changed.level is WarningLevel.RED
        assert changed.weather is not None
        assert changed.weather.identifier == "W-2"

        cancelled = await officer.client.request(
            ImportWeather(
                req="", cap_xml=_alert("W-3", msg_type=MsgType.CANCEL, references=("W-2",))
            )
        )
        assert isinstance(cancelled, WeatherImported)
        (ended,) = cancelled.warnings
        assert ended.id == warning.id
        assert ended.state is WarningState.CLEARED
        await officer.recorder.wait_for(
            lambda: any(e.kind == "warning.ended" for e in officer.recorder.events)
        )
        kinds = [
            e.kind for e in officer.recorder.events if e.kind.startswith(("warning", "weather"))
        ]
        assert kinds.count("warning.raised") == 1
        assert kinds.count("weather.imported") == 4
        assert not [e for e in outsider.recorder.events if e.kind.startswith("warning.")]
    finally:
        await officer.close()
        await outsider.close()


async def test_only_the_hazard_sources_of_the_importers_area(warned: DutyDeskServer) -> None:
    officer = await open_console(warned, "town2", PASSWORD)
    try:
        # Covers both hazard sources (by geocode), town2 sees HS-2 only.
        area = CapArea("全区", geocodes=(("GB/T 2260", "330106"),))
        imported = await officer.client.request(
            ImportWeather(req="", cap_xml=_alert("W-9", _info(area=area)))
        )
        assert isinstance(imported, WeatherImported)
        assert [w.hazard_source for w in imported.warnings] == ["HS-2"]
    finally:
        await officer.close()


async def test_a_users_flood_of_imports_is_refused_without_slowing_another(
    warned: DutyDeskServer,
) -> None:
    budget = WEATHER_IMPORTS_PER_MINUTE
    flooder = await open_console(warned, "officer1", "pw-officer1")
    other = await open_console(warned, "town2", PASSWORD)
    try:
        for number in range(budget):
            await flooder.client.request(
                ImportWeather(req="", cap_xml=_alert(f"F-{number}", _info(Severity.MINOR)))
            )
        # The budget is the user's, not the connection's: a second console of his shares it.
        again = await open_console(warned, "officer1", "pw-officer1")
        try:
            for console in (flooder, again):
                with pytest.raises(CommandError) as refused:
                    await console.client.request(
                        ImportWeather(req="", cap_xml=_alert("F-more", _info(Severity.MINOR)))
                    )
                assert refused.value.code is ErrorCode.RATE_LIMITED
                assert "a minute per user" in refused.value.message
        finally:
            await again.close()
        # Another user imports as usual, and the refused one raised nothing.
        imported = await other.client.request(
            ImportWeather(req="", cap_xml=_alert("W-other", _info(Severity.MINOR)))
        )
        assert isinstance(imported, WeatherImported)
        listed = await flooder.client.request(ListWarnings(req=""))
        assert isinstance(listed, WarningsResult)
        identifiers = {w.weather.identifier for w in listed.warnings if w.weather is not None}
        assert "F-0" in identifiers
        assert "F-more" not in identifiers
    finally:
        await flooder.close()
        await other.close()


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("<alert>not closed", "not a CAP 1.2 alert"),
        ("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><alert/>", "not a CAP 1.2 alert"),
        ("<html/>", "not a CAP 1.2 alert"),
    ],
)
async def test_bad_cap_is_refused_and_raises_nothing(
    warned: DutyDeskServer, document: str, words: str
) -> None:
    officer = await open_console(warned, "officer1", "pw-officer1")
    try:
        with pytest.raises(CommandError) as refused:
            await officer.client.request(ImportWeather(req="", cap_xml=document))
        assert refused.value.code is ErrorCode.VALIDATION
        assert words in refused.value.message
        listed = await officer.client.request(ListWarnings(req=""))
        assert isinstance(listed, WarningsResult)
        assert listed.warnings == []
    finally:
        await officer.close()


async def test_expired_alerts_are_refused_and_warnings_end_at_expiry(
    warned: DutyDeskServer,
) -> None:
    officer = await open_console(warned, "officer1", "pw-officer1")
    try:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        with pytest.raises(CommandError) as refused:
            await officer.client.request(
                ImportWeather(req="", cap_xml=_alert("OLD", _info(expires=past)))
            )
        assert "expired" in refused.value.message
        soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
        imported = await officer.client.request(
            ImportWeather(req="", cap_xml=_alert("SOON", _info(expires=soon)))
        )
        assert isinstance(imported, WeatherImported)
        assert len(imported.warnings) == 1
        await asyncio.sleep((soon - dt.datetime.now(dt.UTC)).total_seconds() + 0.1)
        await warned.early_warnings.housekeeping()
        listed = await officer.client.request(ListWarnings(req="", include_ended=True))
        assert isinstance(listed, WarningsResult)
        assert [(w.state, w.note) for w in listed.warnings] == [
            (WarningState.CLEARED, "气象预警已过期")
        ]
    finally:
        await officer.close()


async def test_alerts_dropped_into_the_weather_folder_are_imported_or_set_aside(
    warned: DutyDeskServer, tmp_path: Path
) -> None:
    folder = tmp_path / "cap-in"
    folder.mkdir()
    (folder / "a-good.xml").write_text(_alert("DIR-1", _info()), encoding="utf-8")
    (folder / "b-bad.xml").write_text("<alert>", encoding="utf-8")
    (folder / "notes.txt").write_text("not an alert", encoding="utf-8")
    for path in folder.iterdir():
        _written_a_minute_ago(path)
    watcher = WeatherFolder(folder, warned.early_warnings)
    assert await watcher.scan() == 1
    assert (folder / "imported" / "a-good.xml").is_file()
    assert (folder / "refused" / "b-bad.xml").is_file()
    reason = (folder / "refused" / "b-bad.xml.reason.txt").read_text(encoding="utf-8")
    assert "not a CAP 1.2 alert" in reason
    assert (folder / "notes.txt").is_file(), "only *.xml is taken"
    assert await watcher.scan() == 0, "nothing twice"
    warnings = await warned.early_warnings.list(WHOLE_AREA, include_ended=False, since=None)
    assert [(w.hazard_source, w.weather.identifier if w.weather else "") for w in warnings] == [
        ("HS-1", "DIR-1")
    ]


def _written_a_minute_ago(path: Path) -> None:
    a_minute_ago = time.time() - 60
    os.utime(path, (a_minute_ago, a_minute_ago))


async def test_a_weather_alert_still_being_written_is_left_for_the_next_scan(
    warned: DutyDeskServer, tmp_path: Path
) -> None:
    # A feed that writes in place: the first half of the alert is there, the rest comes.
    folder = tmp_path / "cap-in"
    folder.mkdir()
    whole = _alert("DIR-2", _info())
    arriving = folder / "rain.xml"
    arriving.write_text(whole[: len(whole) // 2], encoding="utf-8")
    watcher = WeatherFolder(folder, warned.early_warnings, settle=5.0)
    assert await watcher.scan() == 0
    assert arriving.is_file(), "not refused while it may still be written"
    assert not (folder / "refused").exists()
    arriving.write_text(whole, encoding="utf-8")
    _written_a_minute_ago(arriving)
    assert await watcher.scan() == 1
    assert (folder / "imported" / "rain.xml").read_text(encoding="utf-8") == whole


async def test_an_alert_name_dropped_again_does_not_overwrite_the_archived_one(
    warned: DutyDeskServer, tmp_path: Path
) -> None:
    folder = tmp_path / "cap-in"
    folder.mkdir()
    watcher = WeatherFolder(folder, warned.early_warnings)
    texts = [_alert(f"DIR-{n}", _info()) for n in (3, 4, 5)]
    for text in texts:
        (folder / "latest.xml").write_text(text, encoding="utf-8")
        _written_a_minute_ago(folder / "latest.xml")
        assert await watcher.scan() == 1
    archived = [
        folder / "imported" / name for name in ("latest.xml", "latest.2.xml", "latest.3.xml")
    ]
    assert [path.read_text(encoding="utf-8") for path in archived] == texts
    # Refused ones keep their own reason beside them.
    for _ in range(2):
        (folder / "latest.xml").write_text("<alert>", encoding="utf-8")
        _written_a_minute_ago(folder / "latest.xml")
        assert await watcher.scan() == 0
    assert (folder / "refused" / "latest.2.xml.reason.txt").is_file()
    assert (folder / "refused" / "latest.xml.reason.txt").is_file()


async def test_a_server_given_a_weather_folder_imports_what_lies_there_when_it_starts(
    db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "cap-in"
    folder.mkdir()
    (folder / "night.xml").write_text(_alert("DIR-6", _info()), encoding="utf-8")
    _written_a_minute_ago(folder / "night.xml")
    config = ServerConfig(
        db_url=db_url,
        data_dir=tmp_path / "data",
        port=0,
        cipher=FieldCipher.generate(),
        weather_dir=folder,
    )
    server = DutyDeskServer(config)
    await server.start()
    try:
        for _ in range(100):
            if (folder / "imported" / "night.xml").is_file():
                break
            await asyncio.sleep(0.1)
        assert (folder / "imported" / "night.xml").is_file(), "scanned when the server started"
    finally:
        await server.close()
