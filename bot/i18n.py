"""Translations: aiogram's gettext I18n, fed from the ``.po`` catalogs directly.

The catalogs are compiled when the bot starts, so no ``.mo`` file can go stale beside
its ``.po``; ``tests/unit/test_catalogs.py`` keeps both languages complete.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("id", "en")


def build_i18n(default_locale: str = "id") -> I18n:
    """aiogram's I18n loaded from our ``.po`` files, compiled into a scratch directory.

    aiogram reads only ``.mo`` files, and only once (at construction); subclassing I18n to
    read ``.po`` would break its context lookups (each subclass gets its own ContextVar).
    """
    with tempfile.TemporaryDirectory(prefix="lapor-i18n-") as scratch:
        for po_path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            with po_path.open("rb") as fp:
                catalog = read_po(fp)
            mo_path = Path(scratch) / po_path.relative_to(LOCALES_DIR).with_suffix(".mo")
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with mo_path.open("wb") as out:
                write_mo(out, catalog)
        return I18n(path=scratch, default_locale=default_locale, domain=DOMAIN)


class Translator:
    """gettext for one language outside a handler (jobs, delivery, notifications)."""

    def __init__(self, i18n: I18n, locale: str) -> None:
        self._i18n = i18n
        self.locale = locale if locale in i18n.available_locales else i18n.default_locale

    def __call__(self, message: str, plural: str | None = None, n: int = 1) -> str:
        return self._i18n.gettext(message, plural, n, locale=self.locale)

    gettext = __call__


def translator(i18n: I18n, locale: str | None) -> Translator:
    return Translator(i18n, locale or i18n.default_locale)


def pick_language(stored: str | None, default: str) -> str:
    """The citizen's own choice, else the configured default (Indonesian).

    Telegram's app language is not used: many Indonesian phones run an English UI while their
    owners read Indonesian best, and /start offers the choice on the first screen anyway.
    """
    return stored if stored in LANGUAGES else default


@contextmanager
def in_language(i18n: I18n, language: str | None) -> Iterator[str]:
    """aiogram's ``gettext`` speaking ``language`` (else the default), in a handler or outside
    one (jobs, the outbox notifier). Yields the locale used."""
    locale = pick_language(language, i18n.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        yield locale
