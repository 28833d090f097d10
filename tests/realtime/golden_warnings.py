"""Golden samples of the early-warning wire (``warning.*``, ``sensor.projection``,
``weather.import``, their answers and the ``warning.*`` event), merged into
:mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    ActOnWarning,
    EarlyWarningView,
    Event,
    GetProjection,
    ImportWeather,
    ListWarnings,
    ProjectionResult,
    WarningResult,
    WarningsResult,
    WeatherImported,
)
from realtime.protocol.early_warning import (
    FitMethod,
    TrendProjection,
    WarningAction,
    WarningLevel,
    WarningSource,
    WarningState,
    WeatherAlert,
)

_AT = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)


def _later(seconds: int) -> dt.datetime:
    return _AT + dt.timedelta(seconds=seconds)


_PROJECTION = TrendProjection(
    sensor="ch4-0001",
    unit="%",
    method=FitMethod.THEIL_SEN,
    window_s=300,
    points=60,
    at=_AT,
    slope_per_min=0.06,
    fitted_from_at=_later(-295),
    fitted_from_value=0.405,
    fitted_to_at=_later(300),
    fitted_to_value=1.0,
    horizon_s=600,
    level="orange",
    level_value=1.0,
    crossing_at=_later(300),
)

_WEATHER = WeatherAlert(
    identifier="CN-DEMO-20261205-0001",
    sender="demo-weather@example.invalid",
    sent=_AT,
    event="暴雨",
    headline="区气象台发布暴雨橙色预警",
    severity="Severe",
    onset=_AT,
    expires=_later(6 * 3600),
    area="城东片区",
)

_TREND = EarlyWarningView(
    id=11,
    version=2,
    source=WarningSource.TREND,
    level=WarningLevel.ORANGE,
    state=WarningState.ACTIVE,
    title="东山煤矿回风巷甲烷 趋势预警：约 5 分 00 秒后达到橙色报警值",
    detail="近 300 秒 60 个读数，变化 +0.06 %/分，报警值 1 %",
    jurisdiction="330106",
    hazard_source="HS-0001",
    sensors=["ch4-0001"],
    raised_at=_later(-60),
    updated_at=_AT,
    count=1,
    predicted_at=_later(300),
    projection=_PROJECTION,
)

_WEATHER_WARNING = EarlyWarningView(
    id=12,
    version=1,
    source=WarningSource.WEATHER,
    level=WarningLevel.ORANGE,
    state=WarningState.ACKNOWLEDGED,
    title="暴雨橙色预警：一号储罐区",
    jurisdiction="330106",
    hazard_source="HS-0002",
    raised_at=_AT,
    updated_at=_AT,
    weather=_WEATHER,
    acknowledged_by="officer1",
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "ListWarnings": ListWarnings(req="w1", include_ended=True, since=_AT),
    "ActOnWarning": ActOnWarning(
        req="w2", warning_id=11, version=2, action=WarningAction.CLOSE, note="现场已核实"
    ),
    "GetProjection": GetProjection(req="w3", sensor="ch4-0001", horizon_s=600),
    "ImportWeather": ImportWeather(req="w4", cap_xml="<alert>…</alert>"),
}

RESULTS: dict[str, msgspec.Struct] = {
    "warnings": WarningsResult(warnings=[_TREND, _WEATHER_WARNING]),
    "warning": WarningResult(warning=_TREND),
    "projection": ProjectionResult(sensor="ch4-0001", projection=_PROJECTION),
    "weather_imported": WeatherImported(alert=_WEATHER, warnings=[_WEATHER_WARNING]),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "WarningEvent": Event(
        seq=30, at=_AT, kind="warning.raised", actor="early-warning", early_warning=_TREND
    ),
    "WeatherWarningEndedEvent": Event(
        seq=31,
        at=_later(60),
        kind="warning.ended",
        actor="early-warning",
        note="气象预警已解除",
        early_warning=msgspec.structs.replace(
            _WEATHER_WARNING, state=WarningState.CLEARED, ended_at=_later(60)
        ),
    ),
}
