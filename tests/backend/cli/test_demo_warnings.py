"""The demo's early warnings: the sample weather alert covers the chemical park's hazard
sources, the drifting methane sensor raises a trend warning within seconds; and
``dutydesk weather import`` imports the sample through the database."""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from pathlib import Path

import pytest

from backend.authz.principal import Principal
from backend.cli.app import main
from backend.cli.demo import demo_server
from backend.cli.demo_warnings import (
    DRIFT_SENSOR,
    SAMPLE_ALERT,
    import_sample_weather,
    register_drift_sensor,
    run_drift,
)
from realtime.client import basic_auth_header
from realtime.protocol import EarlyWarningView, Role
from realtime.protocol.early_warning import WarningSource

DEVICE = ("demo-feed", "pw-demo-feed-1", Role.DEVICE)
WHOLE_AREA = Principal(0, "t", "t", Role.OFFICER, None, "")


def test_the_demo_raises_a_weather_and_a_trend_warning() -> None:
    with demo_server([DEVICE]) as server:
        service = server.server.early_warnings
        server.call(register_drift_sensor(server.server))
        server.call(service.housekeeping())
        assert server.call(import_sample_weather(server.server)) == 3
        drift = server.submit(run_drift(server.device_url, basic_auth_header(DEVICE[0], DEVICE[1])))
        try:
            deadline = time.monotonic() + 20
            trend: list[EarlyWarningView] = []
            while not trend and time.monotonic() < deadline:
                time.sleep(0.3)
                warnings = server.call(service.list(WHOLE_AREA, include_ended=False, since=None))
                trend = [w for w in warnings if w.source is WarningSource.TREND]
        finally:
            drift.cancel()
            with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError):
                drift.exception(timeout=5)
        weather = [w for w in warnings if w.source is WarningSource.WEATHER]
        assert {w.hazard_source for w in weather} == {"HS-JBHG-A", "HS-JBHG-B", "HS-GLYY-3"}
        assert [w.sensors for w in trend] == [[DRIFT_SENSOR]]
        assert trend[0].hazard_source == "HS-DSKY-1203"
        assert trend[0].jurisdiction == "320116"


def test_the_weather_command_imports_and_refuses_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path)]
    # No hazard sources in a new database: imported, nothing to warn.
    expired = SAMPLE_ALERT.read_text(encoding="utf-8")
    stale = tmp_path / "stale.xml"
    stale.write_text(expired, encoding="utf-8")
    assert main(["weather", "import", str(stale), *data]) == 1
    assert "expired" in capsys.readouterr().err
    bad = tmp_path / "bad.xml"
    bad.write_text("<alert>", encoding="utf-8")
    assert main(["weather", "import", str(bad), *data]) == 1
    assert "not a CAP 1.2 alert" in capsys.readouterr().err
    assert main(["weather", "import", str(tmp_path / "missing.xml"), *data]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_the_serve_options_set_the_warning_settings(tmp_path: Path) -> None:
    from backend.cli.app import build_parser
    from backend.cli.weather import serve_config
    from realtime.protocol.early_warning import FitMethod

    args = build_parser([]).parse_args(
        [
            "serve",
            "--data-dir",
            str(tmp_path),
            "--warning-horizon",
            "900",
            "--warning-fit",
            "least_squares",
            "--warning-dwell",
            "30",
        ]
    )
    settings = serve_config(args)["early_warning"]
    assert (settings.horizon_s, settings.method, settings.dwell_s) == (
        900.0,
        FitMethod.LEAST_SQUARES,
        30.0,
    )
    assert settings.window_s == 300.0
    with pytest.raises(SystemExit):
        build_parser([]).parse_args(["serve", "--warning-horizon", "-5"])
