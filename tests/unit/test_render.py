from bot.ui.render import TEXT_LIMIT, esc, esc_truncate, split_html, truncate, utf16_len


def test_esc_neutralises_html():
    assert esc("<b>a & b</b>") == "&lt;b&gt;a &amp; b&lt;/b&gt;"
    assert esc(None) == ""


def test_utf16_counts_emoji_as_two():
    assert utf16_len("😀") == 2
    assert utf16_len("aé") == 2


def test_truncate_respects_utf16_limit():
    out = truncate("😀" * 10, 7)
    assert utf16_len(out) <= 7 and out.endswith("…")
    assert truncate("short", 10) == "short"


def test_esc_truncate_never_cuts_an_entity():
    out = esc_truncate("&" * 100, 20)
    assert utf16_len(out) <= 20
    assert out.endswith("…") and "&amp;" in out
    assert out[:-1].count("&") == out[:-1].count("&amp;")


def test_split_html_keeps_every_piece_within_limit_and_loses_nothing():
    body = esc("<x> " * 3000)  # ~12k escaped characters, no line breaks
    msgs = split_html(["<b>Title</b>", body], limit=TEXT_LIMIT)
    assert len(msgs) >= 3
    assert all(utf16_len(m) <= TEXT_LIMIT for m in msgs)
    assert "".join(msgs).replace("\n", "").replace(" ", "").count("&lt;x&gt;") == 3000
    assert msgs[0].startswith("<b>Title</b>")


def test_split_html_packs_small_parts_together():
    assert split_html(["a", "b", "c"]) == ["a\nb\nc"]
