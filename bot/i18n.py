"""Translations: aiogram's gettext I18n, fed from the ``.po`` catalogs directly.

The catalogs are compiled in memory when the bot starts, so no ``.mo`` file can go stale beside
its ``.po``; ``tests/unit/test_catalogs.py`` keeps both languages complete.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("id", "en")


def _compile(po_path: Path) -> gettext.GNUTranslations:
    with po_path.open("rb") as fp:
        catalog = read_po(fp)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class PoI18n(I18n):
    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found = {}
        for lang_dir in sorted(self.path.iterdir()):
            po = lang_dir / "LC_MESSAGES" / f"{self.domain}.po"
            if po.is_file():
                found[lang_dir.name] = _compile(po)
        return found


def build_i18n(default_locale: str = "id") -> PoI18n:
    return PoI18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


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
