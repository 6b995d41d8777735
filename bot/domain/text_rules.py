"""Limits and clean-up for the free-text fields of a report."""

from __future__ import annotations

import re
import unicodedata

TITLE_MIN = 5
TITLE_MAX = 150
BODY_MIN = 20
BODY_MAX = 3000
LOCATION_MAX = 300
REASON_MAX = 1000

# Bidirectional overrides can make a text display differently from what it says (spoofed
# tracking ids, names); they have no place in a complaint.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


class TextRuleError(ValueError):
    """reason: "empty", "too_short" or "too_long"; limit: the bound that was crossed."""

    def __init__(self, reason: str, limit: int) -> None:
        super().__init__(f"{reason} (limit {limit})")
        self.reason = reason
        self.limit = limit


def _keep(ch: str) -> bool:
    if ch == "\n":
        return True
    if ch in _BIDI_CONTROLS:
        return False
    return unicodedata.category(ch) != "Cc" or ch == "\t"


def clean_text(text: str, *, multiline: bool = True) -> str:
    text = _LINE_BREAKS.sub("\n", text)
    text = "".join(ch for ch in text if _keep(ch))
    if not multiline:
        return _SPACES.sub(" ", text).strip()
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # One blank line separates paragraphs; more is padding.
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _check(text: str, minimum: int, maximum: int) -> str:
    if not text:
        raise TextRuleError("empty", minimum)
    if len(text) < minimum:
        raise TextRuleError("too_short", minimum)
    if len(text) > maximum:
        raise TextRuleError("too_long", maximum)
    return text


def validate_title(text: str) -> str:
    return _check(clean_text(text, multiline=False), TITLE_MIN, TITLE_MAX)


def validate_body(text: str) -> str:
    return _check(clean_text(text), BODY_MIN, BODY_MAX)


def validate_location_text(text: str) -> str:
    return _check(clean_text(text, multiline=False), 1, LOCATION_MAX)


def validate_reason(text: str) -> str:
    """Free text an admin or officer gives with a rejection, return or dispute."""
    return _check(clean_text(text), 1, REASON_MAX)
