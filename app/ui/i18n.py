"""UI language: Bahasa Indonesia is the source language, English a Qt translation.

Every user-facing string goes through :func:`tr` with one translation context, so
``scripts/update_translations.py`` can collect them and ``resources/translations/ektp_en.ts``
holds the English. Switching language installs or removes the translator; Qt then sends
``LanguageChange`` to every widget, and each screen re-sets its texts in ``retranslate()``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QTranslator

CONTEXT = "ektp"
TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "translations"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
SOURCE_LANGUAGE = "id"


def tr(text: str) -> str:
    """Translate an Indonesian source string into the current UI language."""
    return QCoreApplication.translate(CONTEXT, text)


_INSTALLED: list[QTranslator] = []


def reset_language() -> None:
    """Remove every installed translator (back to Bahasa Indonesia), e.g. between tests."""
    app = QCoreApplication.instance()
    while _INSTALLED:
        translator = _INSTALLED.pop()
        if app is not None:
            app.removeTranslator(translator)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)


class LanguageError(RuntimeError):
    """The translation file for a language is missing or unreadable."""


def _qt_translator(code: str) -> QTranslator | None:
    """Qt's own strings (message box buttons, context menus, file and print dialogs) in
    ``code``: the project's ``qtbase_id`` (Qt ships none), else Qt's own ``qtbase_<code>``."""
    app = QCoreApplication.instance()
    translator = QTranslator(app)
    for directory in (
        TRANSLATIONS_DIR,
        QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
    ):
        if translator.load(f"qtbase_{code}", str(directory)):
            return translator
    return None


class Language:
    """Owns the installed translators; ``set("en")`` / ``set("id")`` switch at runtime."""

    def __init__(self) -> None:
        self._translator: QTranslator | None = None
        self._qt: QTranslator | None = None
        self.current = SOURCE_LANGUAGE
        self._install_qt(SOURCE_LANGUAGE)

    def _install_qt(self, code: str) -> None:
        app = QCoreApplication.instance()
        if app is None:
            return
        if self._qt is not None:
            app.removeTranslator(self._qt)
            if self._qt in _INSTALLED:
                _INSTALLED.remove(self._qt)
            self._qt = None
        translator = _qt_translator(code)
        if translator is not None:
            app.installTranslator(translator)
            _INSTALLED.append(translator)
            self._qt = translator

    def set(self, code: str) -> None:
        if code not in LANGUAGES:
            raise LanguageError(f"unknown language {code!r}")
        if code == self.current:
            return
        app = QCoreApplication.instance()
        assert app is not None
        if self._translator is not None:
            app.removeTranslator(self._translator)
            if self._translator in _INSTALLED:
                _INSTALLED.remove(self._translator)
            self._translator = None
        if code != SOURCE_LANGUAGE:
            translator = QTranslator(app)
            qm = TRANSLATIONS_DIR / f"ektp_{code}.qm"
            if not translator.load(str(qm)):
                raise LanguageError(f"cannot load {qm}")
            app.installTranslator(translator)
            _INSTALLED.append(translator)
            self._translator = translator
        self._install_qt(code)
        self.current = code
        # Qt posts LanguageChange to every widget; deliver it now so the switch is immediate.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
