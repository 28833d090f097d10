"""The server's library of recordings: the shipped scenarios, then ``data_dir/recordings``.

A shipped scenario is a directory of ``resources/scenarios`` holding a ``scenario.toml``;
it is compiled into a recording (:func:`backend.exercises.scenarios.build_scenario`) when
listed or loaded, and the result is kept while its files are unchanged. A saved recording
is a ``.ddrec`` file under :func:`recordings_dir`. Names are checked against
:data:`realtime.protocol.RecordingName` (no path separators, no way out of the folder).

One broken file never breaks the listing: it is left out with one warning in the log
(once per file version). :meth:`RecordingLibrary.load` refuses with one clear error.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import msgspec

from backend.exercises.recording import (
    MAX_RECORDING_BYTES,
    FeedInput,
    Jt808Input,
    LoggedEvent,
    ModbusInput,
    NmeaInput,
    Recording,
    RecordingError,
    decode_recording,
    encode_recording,
)
from backend.exercises.scenarios import SCENARIO_FILE, ScenarioError, build_scenario
from devices.jt808.errors import JT808Error
from devices.jt808.framing import decode_raw_frame
from realtime.event_kinds import EventKind
from realtime.protocol import RecordingInfo, RecordingName

logger = logging.getLogger(__name__)

SHIPPED_SCENARIOS: Final = Path(__file__).resolve().parents[2] / "resources" / "scenarios"
"""Where the shipped scenarios live (one directory each)."""
RECORDING_SUFFIX: Final = ".ddrec"


class Error(Exception):
    """Base of the library's errors."""


class UnknownRecordingError(Error):
    """No recording of that name in the library (or the name is not a valid one)."""


def recordings_dir(data_dir: Path) -> Path:
    """Where saved recordings live: ``data_dir/recordings``."""
    return data_dir / "recordings"


_name_check = msgspec.json.Decoder(RecordingName)


def valid_name(name: str) -> bool:
    """Whether ``name`` is a :data:`RecordingName` (letters, digits, ``._-``; no ``..``)."""
    try:
        _name_check.decode(msgspec.json.encode(name))
    except msgspec.ValidationError:
        return False
    return name not in {".", ".."}


def write_atomically(path: Path, recording: Recording) -> None:
    """Write ``recording`` to ``path``: a temporary file beside it (a name of its own, so
    two writers never share one), flushed to disk, then renamed over ``path`` — a reader
    never sees half a recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(encode_recording(recording))
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def info_of(name: str, recording: Recording) -> RecordingInfo:
    """What the library says of ``recording`` under ``name``."""
    header = recording.header
    devices: set[str] = set()
    inputs = 0
    alarms = 0
    for entry in recording.entries:
        if isinstance(entry, LoggedEvent):
            if entry.event.get("kind") == EventKind.ALARM_RAISED:
                alarms += 1
            continue
        identity = _device_of(entry)
        if identity is None:
            continue
        inputs += 1
        devices.add(identity)
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
        area=header.area,
    )


_feed_fields = msgspec.json.Decoder(dict[str, object])


def _device_of(entry: object) -> str | None:
    """The device an input came from (``None``: not a device input)."""
    match entry:
        case Jt808Input():
            try:
                header, _body = decode_raw_frame(entry.data)
            except JT808Error:
                return f"jt808:connection-{entry.connection}"
            return f"jt808:{header.phone.lstrip('0')}"
        case FeedInput():
            try:
                fields = _feed_fields.decode(entry.text)
            except msgspec.DecodeError:
                return f"feed:{entry.account}"
            device = fields.get("device") or fields.get("sensor") or entry.account
            return f"feed:{device}"
        case NmeaInput():
            return f"nmea:{entry.device}"
        case ModbusInput():
            return f"modbus:{entry.sensor}"
    return None


_Stamp = tuple[tuple[str, int, int], ...]


class _Cached(msgspec.Struct):
    stamp: _Stamp
    recording: Recording | None
    info: RecordingInfo | None
    error: str = ""


class RecordingLibrary:
    """The recordings a trainer may start: shipped scenarios first, then saved files.

    Compiled scenarios and decoded files are cached by their files' size and mtime, so
    listing twice does not compile or read twice.
    """

    def __init__(self, data_dir: Path, scenarios_dir: Path = SHIPPED_SCENARIOS) -> None:
        self.data_dir = data_dir
        self.scenarios_dir = scenarios_dir
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        """The server lists and loads in worker threads (``asyncio.to_thread``)."""

    @property
    def recordings_dir(self) -> Path:
        """Where :meth:`save` writes."""
        return recordings_dir(self.data_dir)

    def list(self) -> list[RecordingInfo]:
        """Every usable recording: shipped scenarios (by name), then saved files (by name).

        A broken one is left out and logged once (a warning) per file version.
        """
        found: list[RecordingInfo] = []
        for name, _path in [*self._scenarios(), *self._files()]:
            cached = self._read(name)
            if cached is not None and cached.info is not None:
                found.append(cached.info)
        return found

    def load(self, name: str) -> Recording:
        """The recording ``name``.

        Raises :class:`UnknownRecordingError` when there is none of that name and
        :class:`~backend.exercises.recording.RecordingError` when it cannot be used.
        """
        if not valid_name(name):
            raise UnknownRecordingError(f"no recording {name!r}")
        cached = self._read(name)
        if cached is None:
            raise UnknownRecordingError(f"no recording {name!r}")
        if cached.recording is None:
            raise RecordingError(f"recording {name!r} cannot be used: {cached.error}")
        return cached.recording

    def save(self, recording: Recording, name: str) -> RecordingInfo:
        """Write ``recording`` as ``recordings_dir/<name>.ddrec`` atomically (a temporary
        file renamed over it) and return its info. ``name`` may end in ``.ddrec``; it must
        not be a shipped scenario's name."""
        stem = name.removesuffix(RECORDING_SUFFIX)
        if not valid_name(stem):
            raise Error(f"{name!r} is not a valid recording name (letters, digits, . _ -)")
        if self._scenario_path(stem) is not None:
            raise Error(f"{stem!r} is the name of a shipped scenario")
        target = self.recordings_dir / f"{stem}{RECORDING_SUFFIX}"
        write_atomically(target, recording)
        with self._lock:
            self._cache.pop(stem, None)
        info = info_of(stem, recording)
        logger.info("recording %s saved (%d inputs)", target, info.inputs)
        return info

    # ------------------------------------------------------------------ internals

    def _scenarios(self) -> Iterator[tuple[str, Path]]:
        if not self.scenarios_dir.is_dir():
            return
        for path in sorted(self.scenarios_dir.iterdir()):
            if (path / SCENARIO_FILE).is_file() and valid_name(path.name):
                yield path.name, path

    def _files(self) -> Iterator[tuple[str, Path]]:
        folder = self.recordings_dir
        if not folder.is_dir():
            return
        shipped = {name for name, _path in self._scenarios()}
        for path in sorted(folder.glob(f"*{RECORDING_SUFFIX}")):
            stem = path.name.removesuffix(RECORDING_SUFFIX)
            if path.is_file() and valid_name(stem) and stem not in shipped:
                yield stem, path

    def _scenario_path(self, name: str) -> Path | None:
        path = self.scenarios_dir / name
        return path if (path / SCENARIO_FILE).is_file() else None

    def _read(self, name: str) -> _Cached | None:
        with self._lock:
            return self._read_unlocked(name)

    def _read_unlocked(self, name: str) -> _Cached | None:
        scenario = self._scenario_path(name)
        path = scenario or self.recordings_dir / f"{name}{RECORDING_SUFFIX}"
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            self._cache.pop(name, None)
            return None
        cached = self._cache.get(name)
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            recording = build_scenario(path) if scenario is not None else _read_file(path)
        except (RecordingError, ScenarioError, OSError) as exc:
            logger.warning("recording %s is unusable and left out: %s", path, exc)
            cached = _Cached(stamp=stamp, recording=None, info=None, error=str(exc))
        else:
            cached = _Cached(stamp=stamp, recording=recording, info=info_of(name, recording))
        self._cache[name] = cached
        return cached


def _stamp(path: Path) -> _Stamp:
    """Size and mtime of a file, or of every file of a scenario directory."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not files and not path.exists():
        raise FileNotFoundError(path)
    stamps = []
    for file in files:
        stat = file.stat()
        stamps.append((str(file), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def _read_file(path: Path) -> Recording:
    if path.stat().st_size > MAX_RECORDING_BYTES:  # refused before reading it into memory
        mib = MAX_RECORDING_BYTES // (1024 * 1024)
        raise RecordingError(f"the recording {path.stem!r} is larger than {mib} MiB")
    return decode_recording(path.read_bytes())
