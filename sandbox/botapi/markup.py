"""What Telegram checks in a message before it accepts it: HTML markup, lengths, keyboards.

The HTML parser follows tdlib's ``parse_html`` (the code behind the Bot API), so the error texts
and the UTF-16 entity offsets are the ones the real server answers with. One deliberate
difference: tdlib keeps a ``&`` that starts no known entity as a literal character; here it is an
error, because in this project such a ``&`` always means user text was not escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.botapi.models import bad_request

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NUMERIC_ENTITY = re.compile(r"&#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITY = re.compile(r"&([a-zA-Z]{2,4});")
_INLINE_BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MAX_INLINE_BUTTONS = 100


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class _ParseError(Exception):
    pass


@dataclass
class _Open:
    tag: str
    offset: int  # UTF-16 offset in the output text
    byte_pos: int
    argument: str | None


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and its entities, or raise ``ApiError`` with Telegram's wording."""
    try:
        return _parse_html(source)
    except _ParseError as e:
        raise bad_request(f"can't parse entities: {e}") from None


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, i: int) -> tuple[str, int] | None:
    m = _NUMERIC_ENTITY.match(source, i)
    if m:
        code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), m.end()
        return None
    m = _NAMED_ENTITY.match(source, i)
    if m and m.group(1) in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[m.group(1)], m.end()
    return None


def _parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    utf16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(source, i)
            if decoded is None:
                raise _ParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(source, i)}; use "&amp;" '
                    "(the fake Bot API is stricter than Telegram, which shows it as text)"
                )
            out.append(decoded[0])
            utf16 += utf16_len(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.append(ch)
            utf16 += utf16_len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            i = _close_tag(source, begin, i + 1, stack, entities, utf16)
            continue
        name_start = i
        while i < n and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= n:
            raise _ParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        tag = source[name_start:i].lower()
        if tag not in _SIMPLE_TAGS:
            raise _ParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}')
        argument, i = _read_attributes(source, begin, i, tag)
        if tag == "span" and argument != "tg-spoiler":
            raise _ParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, begin)}'
            )
        stack.append(_Open(tag, utf16, _byte_offset(source, begin), argument))
        i += 1  # the '>'
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return _strip("".join(out), entities)


def _read_attributes(source: str, begin: int, i: int, tag: str) -> tuple[str | None, int]:
    """Read ``name="value"`` pairs up to the closing '>'; return the one argument the tag uses."""
    n = len(source)
    argument: str | None = None
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise _ParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(source, begin)}')
        if source[i] == ">":
            return argument, i
        attr_start = i
        while i < n and not source[i].isspace() and source[i] not in "=>/\"'":
            i += 1
        attr = source[attr_start:i].lower()
        if not attr:
            raise _ParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(source, begin)}'
            )
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise _ParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(source, begin)}')
        if source[i] != "=":
            if tag == "blockquote" and attr == "expandable":
                argument = "expandable"
            continue
        i += 1
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise _ParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(source, begin)}')
        value, i = _read_value(source, i)
        if tag == "a" and attr == "href":
            argument = value
        elif tag in ("span", "code") and attr == "class":
            argument = value
        elif tag == "tg-emoji" and attr == "emoji-id":
            argument = value


def _read_value(source: str, i: int) -> tuple[str, int]:
    n = len(source)
    if source[i] not in "\"'":
        start = i
        while i < n and (source[i].isalnum() or source[i] in ".-"):
            i += 1
        if i < n and not source[i].isspace() and source[i] != ">":
            raise _ParseError(f"Unexpected end of name token at byte offset {_byte_offset(source, i)}")
        return source[start:i].lower(), i
    quote = source[i]
    i += 1
    value: list[str] = []
    while i < n and source[i] != quote:
        if source[i] == "&":
            decoded = _decode_entity(source, i)
            if decoded:
                value.append(decoded[0])
                i = decoded[1]
                continue
        value.append(source[i])
        i += 1
    if i >= n:
        raise _ParseError("Unclosed attribute value")
    return "".join(value), i + 1


def _close_tag(
    source: str, begin: int, i: int, stack: list[_Open], entities: list[dict[str, Any]], utf16: int
) -> int:
    n = len(source)
    if not stack:
        raise _ParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
    name_start = i
    while i < n and not source[i].isspace() and source[i] != ">":
        i += 1
    name = source[name_start:i].lower()
    while i < n and source[i].isspace():
        i += 1
    if i >= n or source[i] != ">":
        raise _ParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
    opened = stack[-1]
    if name and name != opened.tag:
        raise _ParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
            f'expected "</{opened.tag}>", found "</{name}>"'
        )
    stack.pop()
    length = utf16 - opened.offset
    if length > 0:
        entity = _entity_for(opened, length, stack, entities)
        if entity is not None:
            entities.append(entity)
    return i + 1


def _entity_for(
    opened: _Open, length: int, stack: list[_Open], entities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    kind = _SIMPLE_TAGS[opened.tag]
    entity: dict[str, Any] = {"type": kind, "offset": opened.offset, "length": length}
    if opened.tag == "a":
        url = opened.argument or ""
        if not url:
            return None
        if url.startswith("tg://user?id="):
            entity = {"type": "text_mention", "offset": opened.offset, "length": length,
                      "user": {"id": int(url.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""}}
        else:
            entity["url"] = url
    elif opened.tag == "code":
        language = (opened.argument or "").removeprefix("language-") if opened.argument else None
        # <pre><code class="language-x"> is one pre entity with a language, as in tdlib.
        if stack and stack[-1].tag == "pre":
            if language and stack[-1].offset == opened.offset:
                stack[-1].argument = language
            return None
    elif opened.tag == "pre":
        if opened.argument:
            entity["language"] = opened.argument
    elif opened.tag == "blockquote" and opened.argument == "expandable":
        entity["type"] = "expandable_blockquote"
    elif opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.argument or ""
    return entity


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace; entities are shifted and clipped to match."""
    stripped = text.strip()
    left = utf16_len(text) - utf16_len(text.lstrip())
    total = utf16_len(stripped)
    result = []
    for e in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        start = max(0, e["offset"] - left)
        end = min(total, e["offset"] + e["length"] - left)
        if end > start:
            result.append({**e, "offset": start, "length": end - start})
    return stripped, result


def render_text(
    text: str | None,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    limit: int,
    caption: bool = False,
) -> tuple[str | None, list[dict[str, Any]]]:
    """Check a message text or caption as sendMessage/sendPhoto would; return text and entities."""
    if text is None or (caption and text == ""):
        if not caption:
            raise bad_request("message text is empty")
        return None, []
    text = str(text)
    mode = (parse_mode or "").strip()
    if mode.lower() == "html":
        plain, found = parse_html(text)
    elif mode == "":
        plain, found = text.strip(), list(entities or [])
    else:
        raise bad_request(
            f'unsupported parse_mode "{mode}": the fake Bot API server only implements HTML '
            "(lapor-bot sends HTML everywhere)"
        )
    if not plain:
        if caption:
            return None, []
        raise bad_request("message text is empty")
    if utf16_len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, found


def validate_reply_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                label = button if isinstance(button, str) else (button or {}).get("text")
                if not isinstance(label, str) or not label:
                    raise bad_request("can't parse keyboard button: Field \"text\" must be of type String")
    elif not ("remove_keyboard" in markup or "force_reply" in markup):
        raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    if sum(len(r) for r in rows) > _MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
            if not button["text"]:
                raise bad_request("BUTTON_TEXT_EMPTY")
            kinds = [k for k in _INLINE_BUTTON_KINDS if k in button]
            if not kinds:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                    raise bad_request("BUTTON_URL_INVALID")
