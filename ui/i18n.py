"""The window's language: chosen from ``--lang``, else the system locale, and installed once.

Our messages come from ``resources/translations/cityops_<lang>.qm`` (built from the ``.ts``
sources by ``make``); Qt's own ``qtbase_<lang>.qm`` translates the standard dialog
buttons. Numbers and dates then follow the chosen language's locale
(:func:`widgets.i18n.set_locale`). English is the source language and needs no file.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from ui.cli import LANGUAGES
from widgets.i18n import set_locale

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(str(files("resources") / "translations"))
"""Where the ``.ts`` sources and the ``.qm`` files built from them live."""
ENGLISH = "en"
_installed: list[QTranslator] = []
"""The translators :func:`install_translation` put on the application."""


def choose_language(requested: str | None, system: QLocale | None = None) -> str:
    """The language to show: ``requested`` (``--lang``) when given, else Chinese when the
    system's first UI language is Chinese, else English."""
    if requested:
        return requested if requested in LANGUAGES else ENGLISH
    locale = system if system is not None else QLocale.system()
    languages = locale.uiLanguages() or [locale.name()]
    first = languages[0].replace("-", "_")
    return "zh_CN" if first.lower().startswith("zh") else ENGLISH


def install_translation(
    app: QCoreApplication, requested: str | None = None, directory: Path | None = None
) -> str:
    """Install the translators for the chosen language on ``app``; returns the language
    shown (English when the translation file is missing, which is logged)."""
    remove_translation(app)
    language = choose_language(requested)
    if language == ENGLISH:
        return ENGLISH
    folder = directory if directory is not None else TRANSLATIONS_DIR
    ours = QTranslator(app)
    if not ours.load(f"cityops_{language}", str(folder)):
        log.warning(
            "no %s translation in %s (run make to build it): showing English", language, folder
        )
        return ENGLISH
    app.installTranslator(ours)
    _installed.append(ours)
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt_own = QTranslator(app)
    if qt_own.load(f"qtbase_{language}", qt_folder):
        app.installTranslator(qt_own)
        _installed.append(qt_own)
    else:
        log.info("Qt's own %s translation is missing from %s", language, qt_folder)
    set_locale(QLocale(language))
    log.info("showing the window in %s", language)
    return language


def remove_translation(app: QCoreApplication) -> None:
    """Back to English: the translators installed before are removed, numbers and dates
    written the English way."""
    while _installed:
        translator = _installed.pop()
        app.removeTranslator(translator)
        translator.deleteLater()
    set_locale(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
