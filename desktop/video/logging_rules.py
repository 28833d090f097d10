"""Keep QtMultimedia's start-up probes and FFmpeg's own chatter out of the logs.

Three things are quietened, nothing else:

- ``qt.multimedia.symbolsresolver`` warns, when QtMultimedia loads, that optional
  libraries are missing (``Couldn't load pipewire-0.3 library`` on machines without
  PipeWire). Playback does not need them, and the console's test suite fails on Qt
  warnings. The rule must be set before QtMultimedia is imported, so this package's
  ``__init__`` sets it.
- ``qt.multimedia.ffmpeg`` announces its FFmpeg version at the ``info`` level on every
  start; nobody at the console needs it.
- FFmpeg (inside Qt's multimedia back end) prints, at its ``info`` level, every opened
  stream's full URL to stderr — credentials included (``Input #0, rtsp, from
  'rtsp://user:password@…'``). :func:`limit_ffmpeg_log` lowers FFmpeg's own log level to
  errors, which name no URL; the console reports failures itself, with the URL masked.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path

import PySide6
from PySide6.QtCore import QLoggingCategory

logger = logging.getLogger(__name__)

QUIET_RULES = "qt.multimedia.symbolsresolver.warning=false\nqt.multimedia.ffmpeg.info=false"
"""Qt logging rules of the console (a user's ``QT_LOGGING_RULES`` still overrides them)."""
AV_LOG_ERROR = 16
"""FFmpeg's ``AV_LOG_ERROR`` level (``libavutil/log.h``)."""

_ffmpeg_log_limited = False


def quiet_multimedia_probes() -> None:
    """Silence QtMultimedia's optional-library probes (call before importing QtMultimedia).

    ``QLoggingCategory.setFilterRules`` replaces rules set by an earlier call of it; the
    console sets no others.
    """
    QLoggingCategory.setFilterRules(QUIET_RULES)


def limit_ffmpeg_log() -> bool:
    """Lower the log level of the FFmpeg that Qt loaded to errors; return whether it could.

    Call after the first ``QMediaPlayer`` exists (that loads FFmpeg) and before a stream is
    opened. Only an FFmpeg already in the process is touched (``RTLD_NOLOAD``); without
    one (another multimedia back end, another platform) nothing happens.
    """
    global _ffmpeg_log_limited  # noqa: PLW0603 - once per process, like FFmpeg's own level
    if _ffmpeg_log_limited:
        return True
    no_load = getattr(os, "RTLD_NOLOAD", None)
    if no_load is None:
        logger.debug("this platform cannot look up loaded libraries; FFmpeg logs as it likes")
        return False
    qt_libraries = Path(PySide6.__file__).resolve().parent / "Qt" / "lib"
    for candidate in sorted(qt_libraries.glob("libavutil.so.*")):
        try:
            avutil = ctypes.CDLL(str(candidate), mode=no_load | os.RTLD_LAZY)
        except OSError:
            continue
        avutil.av_log_set_level(ctypes.c_int(AV_LOG_ERROR))
        _ffmpeg_log_limited = True
        logger.debug("FFmpeg logs errors only (%s)", candidate.name)
        return True
    logger.debug("no FFmpeg loaded from %s; its log level is left alone", qt_libraries)
    return False
