"""The languages the bot speaks: English (the texts in the code), French and German (message catalogues).

Texts are marked in the code with ``_("…")`` (translated where they are used) or ``N_("…")`` (a constant, translated
later with ``_``); ``pybabel extract`` gathers them into ``watcher/locale/watcher.pot`` and each language has its
``.po`` catalogue and the compiled ``.mo`` beside it, shipped as package data (README "Languages" says how to update
them). The language of the text being written is a context variable: the bot sets it for each update it handles
(``use``), so handlers need not pass it down.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

DOMAIN = "watcher"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch"}  # code -> the language's own name
TRANSLATED = tuple(code for code in LANGUAGES if code != DEFAULT)

_current: ContextVar[str] = ContextVar("watcher_language", default=DEFAULT)


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language; English (and a language without one) reads the texts as written."""
    if language not in TRANSLATED:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [language])


def from_telegram(code: str | None) -> str:
    """The bot's language for a Telegram user's ``language_code``: fr* French, de* German, anything else English."""
    prefix = (code or "").strip().lower()[:2]
    return prefix if prefix in TRANSLATED else DEFAULT


def use(language: str) -> None:
    """Write in this language from now on, in the current context (one update's handling)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Write in this language inside the block (an alert to a chat that chose it), then as before."""
    token = _current.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """The text in the current language."""
    return catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural text (by the current language's rule for ``n``), in the current language."""
    return catalogue(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the usual gettext name for a marker)
    """Mark a constant text for the catalogues without translating it yet (``_`` translates it where it is used)."""
    return message


def day(moment: date) -> str:
    """A date in the current language: ``12 Oct 2026``, ``12 oct. 2026``, ``12. Okt. 2026``."""
    from babel.dates import format_date  # loaded late: only a date to show needs Babel's heavy date formats

    return format_date(moment, "d MMM y", locale=_current.get())


class Names(Mapping[str, str]):
    """Names by id (topics' labels), each read in the language of the text being written, else in English."""

    def __init__(self, names: Mapping[str, Mapping[str, str]]):
        self._names = {key: dict(by_language) for key, by_language in names.items()}  # id -> {language: name}

    def __getitem__(self, key: str) -> str:
        by_language = self._names[key]
        return by_language.get(_current.get()) or by_language[DEFAULT]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def when(moment: datetime) -> str:
    """A day and a time in the current language: ``Tue 15 Sep, 08:00``, ``mar. 15 sept., 08:00``."""
    # Babel's date formats are heavy; the matcher (which reads TRANSLATED here) and the commands that load it never
    # show a date. loaded late: only a date to show needs them
    from babel.dates import format_datetime

    return format_datetime(moment, "EEE d MMM, HH:mm", tzinfo=moment.tzinfo, locale=_current.get())
