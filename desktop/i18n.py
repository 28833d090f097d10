"""Qt translations: Simplified Chinese by default, English on request.

Source strings are English (``self.tr()`` / ``QCoreApplication.translate``). The Chinese
lives in ``resources/translations/dutydesk_zh_CN.ts``, compiled with ``pyside6-lrelease``
into the ``.qm`` next to it (``tests/desktop/test_i18n.py`` checks that the two agree).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from desktop.resources import TRANSLATIONS_DIR

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "ui/language"
"""QSettings key of the chosen language."""
DEFAULT_LANGUAGE = "zh_CN"
SUPPORTED_LANGUAGES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}
"""Language codes the console offers, with their own names."""
SOURCE_LANGUAGE = "en"
"""The language of the source strings (needs no translation file)."""


def translation_file(language: str) -> Path:
    """Return the compiled translation of the console for ``language``."""
    return TRANSLATIONS_DIR / f"dutydesk_{language}.qm"


def choose_language(requested: str | None, settings: QSettings) -> str:
    """Return the language to use: the one requested, else the saved one, else Chinese."""
    if requested:
        return requested
    saved = str(settings.value(LANGUAGE_KEY, DEFAULT_LANGUAGE))
    return saved if saved in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install the console's and Qt's own translations for ``language``; return them.

    The translators are parented to ``app`` so they live as long as it does.
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported language {language!r}; use one of {list(SUPPORTED_LANGUAGES)}"
        )
    QLocale.setDefault(QLocale(language))
    if language == SOURCE_LANGUAGE:
        return []
    installed: list[QTranslator] = []
    console = QTranslator(app)
    if console.load(str(translation_file(language))):
        app.installTranslator(console)
        installed.append(console)
    else:
        logger.error("cannot load %s; the console shows English", translation_file(language))
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for catalogue in ("qtbase", "qt"):
        qt_translator = QTranslator(app)
        if qt_translator.load(f"{catalogue}_{language}", qt_dir):
            app.installTranslator(qt_translator)
            installed.append(qt_translator)
            break
    return installed
