"""The one way widgets and the window ask for translated text and locale-aware numbers.

``translate(context, text)`` is ``QCoreApplication.translate`` (``pyside6-lupdate`` finds
calls by that name); module-level tables mark their texts with ``QT_TRANSLATE_NOOP`` and
translate them where they are shown, because they are built before a translator is
installed. Placeholders are named (``"{count} alarms".format(count=…)``), never f-strings,
so that the translator sees the whole sentence. :func:`ui.i18n.install_translation`
chooses the language and calls :func:`set_locale`; until then English is used.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale

__all__ = ["QT_TRANSLATE_NOOP", "current_locale", "set_locale", "translate"]

_chosen = {"locale": QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)}


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark ``text`` for translation in ``context`` (the name lupdate looks for); returns it
    untranslated."""
    del context
    return text


def translate(context: str, text: str) -> str:
    """``text`` in the installed language (itself when there is no translation)."""
    return QCoreApplication.translate(context, text)


def set_locale(locale: QLocale) -> None:
    """Write numbers and dates as ``locale`` does from now on."""
    _chosen["locale"] = QLocale(locale)


def smallest_text_px() -> int:
    """The smallest pixel size text in the chosen language stays legible at: Chinese,
    Japanese and Korean glyphs need more pixels than Latin letters."""
    cjk = (QLocale.Language.Chinese, QLocale.Language.Japanese, QLocale.Language.Korean)
    return 12 if current_locale().language() in cjk else 8


def current_locale() -> QLocale:
    """The locale numbers and dates are written in (English until a language is chosen)."""
    return _chosen["locale"]
