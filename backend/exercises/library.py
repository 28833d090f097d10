"""The server's library of recordings (minimal stand-in: ``data_dir/recordings/*.ddrec``;
the scenarios lane replaces it with the full library and the shipped scenarios)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

from backend.exercises.recording import (
    DEVICE_INPUTS,
    MAX_RECORDING_BYTES,
    LoggedEvent,
    Recording,
    RecordingError,
    decode_recording,
    encode_recording,
)
from realtime.event_kinds import EventKind
from realtime.protocol import RecordingInfo

SHIPPED_SCENARIOS: Final = Path(__file__).resolve().parents[2] / "resources" / "scenarios"
SUFFIX: Final = ".ddrec"


class Error(Exception):
    """Base of the library's errors."""


class UnknownRecordingError(Error):
    """No recording of that name in the library."""


def recordings_dir(data_dir: Path) -> Path:
    """Where the server keeps recordings."""
    return data_dir / "recordings"


def info_of(name: str, recording: Recording) -> RecordingInfo:
    """What the library lists about ``recording``."""
    header = recording.header
    devices: set[str] = set()
    inputs = alarms = 0
    for entry in recording.entries:
        if isinstance(entry, DEVICE_INPUTS):
            inputs += 1
        elif isinstance(entry, LoggedEvent) and entry.event.get("kind") == EventKind.ALARM_RAISED:
            alarms += 1
    devices.update(f"{d.kind}:{d.identity}" for d in recording.registry.devices)
    devices.update(f"sensor:{s.sensor_id}" for s in recording.registry.sensors)
    return RecordingInfo(
        name=name,
        title=header.title,
        source=header.source,
        description=header.description,
        window_from=header.window_from,
        window_to=header.window_to,
        duration_s=recording.duration_s,
        devices=len(devices),
        inputs=inputs,
        alarms=alarms,
        masked=header.masked,
        sources=list(header.sources),
    )


class RecordingLibrary:
    """Lists, loads and saves the recordings of ``data_dir/recordings``."""

    def __init__(self, data_dir: Path, scenarios_dir: Path = SHIPPED_SCENARIOS) -> None:
        self.directory = recordings_dir(data_dir)
        self.scenarios_dir = scenarios_dir

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise UnknownRecordingError(f"no recording {name!r}")
        return self.directory / (name if name.endswith(SUFFIX) else name + SUFFIX)

    def list(self) -> list[RecordingInfo]:
        """Every readable recording (those that cannot be read are left out)."""
        infos: list[RecordingInfo] = []
        if not self.directory.is_dir():
            return infos
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                infos.append(info_of(path.stem, self.load(path.stem)))
            except (Error, RecordingError, OSError):
                continue
        return infos

    def load(self, name: str) -> Recording:
        """Read the recording ``name``; raise :class:`UnknownRecordingError` or
        :class:`RecordingError`."""
        path = self._path(name)
        try:
            if path.stat().st_size > MAX_RECORDING_BYTES:
                mib = MAX_RECORDING_BYTES // (1024 * 1024)
                raise RecordingError(f"the recording {name!r} is larger than {mib} MiB")
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise UnknownRecordingError(f"no recording {name!r}") from exc
        except OSError as exc:
            raise RecordingError(f"cannot read the recording {name!r}: {exc.strerror}") from exc
        return decode_recording(data)

    def save(self, recording: Recording, name: str) -> RecordingInfo:
        """Write ``recording`` as ``name`` (atomically: a reader sees all of it or none)."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = encode_recording(recording)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return info_of(path.stem, recording)
