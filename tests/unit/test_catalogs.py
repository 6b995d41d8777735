"""Both catalogs are complete: every string the code asks for has an Indonesian and an English
translation, and every translation keeps the placeholders of its msgid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}|%\([a-z_]+\)[sd]")


def _catalog(lang: str):
    with (ROOT / "bot" / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp)


KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}


# As babel.cfg: the code, and the Jinja2 templates of the web pages.
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _code_msgids() -> set[str]:
    """The same extraction scripts/i18n-update runs, done in-process."""
    ids: set[str] = set()
    for package in ("bot", "handlers"):
        for _fn, _lineno, message, _comments, _ctx in extract_from_dir(
            ROOT / package, method_map=METHOD_MAP, keywords=KEYWORDS, comment_tags=()
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_string_in_the_code_is_translated(lang):
    catalog = _catalog(lang)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_code_msgids() - translated)
    assert missing == [], f"untranslated in {lang}: run scripts/i18n-update and fill {missing[:10]}"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_translations_keep_placeholders(lang):
    for m in _catalog(lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        for s in strs:
            if s:
                assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(ids[0])), m.id
