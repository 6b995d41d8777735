import pytest

from bot.domain.text_rules import (
    BODY_MAX,
    BODY_MIN,
    LOCATION_MAX,
    REASON_MAX,
    TITLE_MAX,
    TITLE_MIN,
    TextRuleError,
    clean_text,
    validate_body,
    validate_location_text,
    validate_reason,
    validate_title,
)


def test_limits():
    assert (TITLE_MIN, TITLE_MAX, BODY_MIN, BODY_MAX) == (5, 150, 20, 3000)
    assert (LOCATION_MAX, REASON_MAX) == (300, 1000)


def test_clean_text_collapses_spaces_and_keeps_lines():
    raw = "  Jalan   rusak\t parah \r\n\r\n\r\n\r\nSudah  3 bulan\x00\x07 \u202eabc  "
    assert clean_text(raw) == "Jalan rusak parah\n\nSudah 3 bulan abc"


def test_clean_text_single_line():
    assert clean_text(" a\nb \u2028 c\u00a0 d ", multiline=False) == "a b c d"


def test_clean_text_keeps_emoji_sequences():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(f"ok {family}") == f"ok {family}"


def test_title():
    assert validate_title("  Jalan\nrusak  di  KM 5 ") == "Jalan rusak di KM 5"
    assert validate_title("x" * TITLE_MAX) == "x" * TITLE_MAX


@pytest.mark.parametrize(
    ("text", "reason", "limit"),
    [
        ("", "empty", TITLE_MIN),
        (" \n\t\x00 ", "empty", TITLE_MIN),
        ("abcd", "too_short", TITLE_MIN),
        ("a   b", "too_short", TITLE_MIN),  # spaces collapse before counting
        ("x" * (TITLE_MAX + 1), "too_long", TITLE_MAX),
    ],
)
def test_title_errors(text, reason, limit):
    with pytest.raises(TextRuleError) as info:
        validate_title(text)
    assert (info.value.reason, info.value.limit) == (reason, limit)


def test_body_keeps_paragraphs():
    body = "Lampu jalan mati sejak\nminggu lalu.\n\nMohon segera diperbaiki."
    assert validate_body(body) == body
    assert validate_body("y" * BODY_MAX) == "y" * BODY_MAX


@pytest.mark.parametrize(
    ("text", "reason", "limit"),
    [
        ("   ", "empty", BODY_MIN),
        ("terlalu pendek", "too_short", BODY_MIN),
        ("z" * (BODY_MAX + 1), "too_long", BODY_MAX),
    ],
)
def test_body_errors(text, reason, limit):
    with pytest.raises(TextRuleError) as info:
        validate_body(text)
    assert (info.value.reason, info.value.limit) == (reason, limit)


def test_location_and_reason():
    assert validate_location_text(" Jl.  Propinsi\nKM 9 ") == "Jl. Propinsi KM 9"
    with pytest.raises(TextRuleError) as info:
        validate_location_text("\n ")
    assert info.value.reason == "empty"
    with pytest.raises(TextRuleError) as info:
        validate_location_text("l" * (LOCATION_MAX + 1))
    assert (info.value.reason, info.value.limit) == ("too_long", LOCATION_MAX)
    assert validate_reason("Duplikat\n\nlaporan LPR-1") == "Duplikat\n\nlaporan LPR-1"
    with pytest.raises(TextRuleError) as info:
        validate_reason("r" * (REASON_MAX + 1))
    assert (info.value.reason, info.value.limit) == ("too_long", REASON_MAX)
