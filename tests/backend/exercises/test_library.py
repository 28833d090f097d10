"""The recording library: shipped scenarios first, then saved files; a broken file never
breaks the listing; names cannot leave the folder; saving is atomic."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from backend.exercises.library import (
    SHIPPED_SCENARIOS,
    Error,
    RecordingLibrary,
    UnknownRecordingError,
    recordings_dir,
)
from backend.exercises.recording import RecordingError, encode_recording
from backend.exercises.scenarios import build_scenario
from realtime.protocol import RecordingSource


def test_scenarios_come_first_then_saved_recordings_by_name(tmp_path: Path) -> None:
    library = RecordingLibrary(tmp_path)
    tanker = build_scenario(SHIPPED_SCENARIOS / "tanker-rollover")
    library.save(tanker, "b-night")
    library.save(tanker, "a-morning.ddrec")
    names = [info.name for info in library.list()]
    assert names == ["mine-methane", "tank-farm-leak", "tanker-rollover", "a-morning", "b-night"]
    scenario = library.list()[2]
    assert scenario.source is RecordingSource.SCENARIO
    assert scenario.sources
    assert scenario.duration_s == 180.0
    assert scenario.devices == 5  # three terminals, a receiver, the monitoring feed
    assert scenario.inputs == sum(1 for _ in tanker.device_inputs())
    assert (recordings_dir(tmp_path) / "a-morning.ddrec").is_file()
    assert encode_recording(library.load("a-morning")) == encode_recording(tanker)


def test_load_refuses_unknown_and_hostile_names(tmp_path: Path) -> None:
    library = RecordingLibrary(tmp_path)
    (tmp_path / "secret.ddrec").write_bytes(b"x")
    for name in ("nope", "../secret", "..", "a/b", "", "mine-methane/../x"):
        with pytest.raises(UnknownRecordingError):
            library.load(name)
    with pytest.raises(Error, match="valid recording name"):
        library.save(build_scenario(SHIPPED_SCENARIOS / "mine-methane"), "../escape")
    with pytest.raises(Error, match="shipped scenario"):
        library.save(build_scenario(SHIPPED_SCENARIOS / "mine-methane"), "mine-methane")


def test_a_broken_file_is_left_out_with_one_warning_and_refused_on_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = RecordingLibrary(tmp_path)
    folder = recordings_dir(tmp_path)
    folder.mkdir()
    (folder / "garbage.ddrec").write_bytes(b"not gzip at all")
    (folder / "empty.ddrec").write_bytes(gzip.compress(b"", mtime=0))
    library.save(build_scenario(SHIPPED_SCENARIOS / "mine-methane"), "good")
    with caplog.at_level(logging.WARNING, logger="backend.exercises.library"):
        names = [info.name for info in library.list()]
        library.list()  # cached: no second warning
    assert names[-1:] == ["good"]
    assert "garbage" not in names
    assert "empty" not in names
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    with pytest.raises(RecordingError, match="not gzip"):
        library.load("garbage")


def test_a_broken_scenario_is_left_out_and_the_others_still_listed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scenarios = tmp_path / "scenarios"
    (scenarios / "bad").mkdir(parents=True)
    (scenarios / "bad" / "scenario.toml").write_text("[scenario]\ntitle = 3\n", encoding="utf-8")
    (scenarios / "not-a-scenario").mkdir()
    library = RecordingLibrary(tmp_path, scenarios)
    library.save(build_scenario(SHIPPED_SCENARIOS / "mine-methane"), "kept")
    with caplog.at_level(logging.WARNING, logger="backend.exercises.library"):
        assert [info.name for info in library.list()] == ["kept"]
    assert "bad" in caplog.text
    with pytest.raises(RecordingError, match=r"scenario\.toml"):
        library.load("bad")


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    library = RecordingLibrary(tmp_path)
    library.save(build_scenario(SHIPPED_SCENARIOS / "mine-methane"), "x")
    assert library.load("x").header.title.startswith("煤矿")
    library.save(build_scenario(SHIPPED_SCENARIOS / "tank-farm-leak"), "x")
    assert library.load("x").header.title.startswith("储罐区")
    (recordings_dir(tmp_path) / "x.ddrec").unlink()
    with pytest.raises(UnknownRecordingError):
        library.load("x")
    assert not list(recordings_dir(tmp_path).glob(".*.tmp")), "no temporary file is left"
