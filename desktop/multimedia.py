"""The one door to QtMultimedia: imported lazily, and quiet when there is no sound server.

The console must start without QtMultimedia (it ships in ``PySide6-Addons`` and needs
``libpulse``): :func:`load_multimedia` imports it on first use and returns None, with a
reason the officer can read, when it cannot load. Video and sound are then switched off
and the status bar says so; everything else works.

Qt's PulseAudio back end prints ``PulseAudioService: pa_context_connect() failed`` on
every start of a machine without a sound server, through Qt's *default* logging category
(no ``qt.multimedia.*`` rule reaches it). :func:`install_audio_message_filter` installs a
Qt message handler that drops exactly those ``PulseAudioService:`` lines and reports once,
in our log, that sound is unavailable; every other Qt message goes on as before.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
from collections.abc import Callable
from types import ModuleType

from PySide6.QtCore import (
    QMessageLogContext,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)

from desktop.video.logging_rules import quiet_multimedia_probes

logger = logging.getLogger(__name__)

AUDIO_SERVER_PREFIX = "PulseAudioService:"
"""How Qt's PulseAudio back end starts every message it prints."""

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]


class Error(Exception):
    """QtMultimedia is not available."""


@dataclasses.dataclass(frozen=True, slots=True)
class Multimedia:
    """The loaded QtMultimedia modules."""

    multimedia: ModuleType
    """``PySide6.QtMultimedia``."""
    widgets: ModuleType
    """``PySide6.QtMultimediaWidgets``."""


_loaded: Multimedia | None = None
_failure = ""
_tried = False
_audio_filter: AudioMessageFilter | None = None


class AudioMessageFilter:
    """A Qt message handler that drops the PulseAudio back end's lines and notes them once."""

    def __init__(self, previous: MessageHandler | None) -> None:
        self.previous = previous
        """The handler installed before this one (None: Qt's own)."""
        self.dropped = 0
        """How many ``PulseAudioService:`` lines were dropped."""

    @property
    def sound_server_missing(self) -> bool:
        """Whether Qt said it could not reach a sound server."""
        return self.dropped > 0

    def __call__(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        """Drop the audio server's lines; hand every other message on."""
        if message.startswith(AUDIO_SERVER_PREFIX):
            if not self.dropped:
                logger.warning(
                    "sound is unavailable: no sound server answers (%s); alarms use the "
                    "system bell",
                    message.removeprefix(AUDIO_SERVER_PREFIX).strip(),
                )
            self.dropped += 1
            return
        if self.previous is not None:
            self.previous(kind, context, message)
        else:
            # What Qt's own handler would have written.
            sys.stderr.write(qFormatLogMessage(kind, context, message) + "\n")


def install_audio_message_filter() -> AudioMessageFilter:
    """Install the :class:`AudioMessageFilter` (once per process) and return it."""
    global _audio_filter  # noqa: PLW0603 - one Qt message handler per process
    if _audio_filter is None:
        _audio_filter = AudioMessageFilter(None)
        previous = qInstallMessageHandler(_audio_filter)
        _audio_filter.previous = previous
    return _audio_filter


def load_multimedia() -> Multimedia | None:
    """Import QtMultimedia on first use; None when it cannot load (see :func:`failure`)."""
    global _loaded, _failure, _tried  # noqa: PLW0603 - a module is loaded once per process
    if _tried:
        return _loaded
    _tried = True
    quiet_multimedia_probes()
    install_audio_message_filter()
    try:
        _loaded = Multimedia(
            multimedia=importlib.import_module("PySide6.QtMultimedia"),
            widgets=importlib.import_module("PySide6.QtMultimediaWidgets"),
        )
    except ImportError as exc:  # also a missing libpulse.so.0 under the module
        _failure = str(exc) or type(exc).__name__
        logger.warning("QtMultimedia cannot load (%s): video and sound are off", _failure)
    return _loaded


def multimedia_available() -> bool:
    """Whether QtMultimedia loads (importing it if not done yet)."""
    return load_multimedia() is not None


def failure() -> str:
    """Why QtMultimedia could not load (empty when it loaded or was not tried)."""
    return _failure


def require_multimedia() -> Multimedia:
    """Return QtMultimedia, or raise :class:`Error` saying why it is missing."""
    loaded = load_multimedia()
    if loaded is None:
        raise Error(_failure)
    return loaded


def forget_for_tests() -> None:
    """Try the import again on the next :func:`load_multimedia` (tests simulate a miss)."""
    global _loaded, _failure, _tried
    _loaded, _failure, _tried = None, "", False
