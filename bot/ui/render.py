"""Turning user text into Telegram HTML that Telegram will accept.

Telegram counts message length in UTF-16 code units after entity parsing: 4096 for text, 1024 for
captions (https://core.telegram.org/bots/api#sendmessage). We count the escaped source, which
is never shorter than the parsed text, so a piece that fits here fits there.
"""

from __future__ import annotations

from aiogram import html

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"


def esc(text: str | None) -> str:
    """User text, safe inside HTML parse mode."""
    return html.quote(text or "")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int) -> str:
    """Plain (unescaped) text cut to ``limit`` UTF-16 units, ending with an ellipsis if cut."""
    if utf16_len(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = utf16_len(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def esc_truncate(text: str | None, limit: int) -> str:
    """Escape, keeping the escaped result within ``limit`` units without cutting an entity."""
    text = text or ""
    escaped = esc(text)
    if utf16_len(escaped) <= limit:
        return escaped
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose escaped form (plus ellipsis) fits
        mid = (lo + hi + 1) // 2
        if utf16_len(esc(text[:mid])) + 1 <= limit:
            lo = mid
        else:
            hi = mid - 1
    return esc(text[:lo].rstrip()) + ELLIPSIS


def split_html(parts: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Join already-rendered HTML paragraphs into as few messages as fit ``limit`` each.

    Each part must be closed HTML (no tag spanning two parts); a part longer than the limit must
    be plain escaped text and is cut at line breaks, then at spaces.
    """
    messages: list[str] = []
    current = ""
    for part in parts:
        for piece in _pieces(part, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _pieces(part: str, limit: int) -> list[str]:
    if utf16_len(part) <= limit:
        return [part]
    pieces: list[str] = []
    current = ""
    for word in part.replace("\n", "\n ").split(" "):
        word = word if word.endswith("\n") else word
        candidate = f"{current} {word}" if current else word
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current.replace("\n ", "\n"))
        while utf16_len(word) > limit:  # one enormous word: hard cut, avoiding an &entity;
            cut = limit
            amp = word.rfind("&", 0, cut)
            if amp != -1 and ";" not in word[amp:cut]:
                cut = amp
            pieces.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        pieces.append(current.replace("\n ", "\n"))
    return pieces
