"""Parse Telegram's HTML parse mode into plain text and entities, refusing what Telegram does."""

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+)"
_TAG = re.compile(
    rf"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9-]*(?:\s*=\s*{_VALUE})?)*)\s*>"
)
_ATTR = re.compile(rf"([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*({_VALUE}))?")
_CHAR_REF = re.compile(r"&(#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);")
_SPECIAL = re.compile(r"[<&]")


@dataclass
class Rendered:
    """Message text as Telegram stores it: plain text plus entities."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    name: str
    attrs: dict[str, str]
    offset: int
    extra: dict[str, Any] = field(default_factory=dict)


def render(text: str, parse_mode: str | None) -> Rendered:
    """Parse text for the given parse_mode; only HTML is checked, Markdown passes through."""
    if parse_mode and parse_mode.upper() == "HTML":
        return parse_html(text)
    return Rendered(text)


def parse_html(source: str) -> Rendered:
    """Parse Telegram HTML, raising 400 "can't parse entities" on unbalanced or unknown tags."""
    out: list[str] = []
    length = 0  # in UTF-16 code units, as Telegram counts entity offsets
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        special = _SPECIAL.search(source, i)
        plain_end = special.start() if special else len(source)
        if plain_end > i:  # a run of plain text: taken whole, not a character at a time
            chunk = source[i:plain_end]
            out.append(chunk)
            length += _utf16_len(chunk)
            i = plain_end
            continue
        char = source[i]
        if char == "<":
            match = _TAG.match(source, i)
            if match is None:
                name = re.match(r"</?([A-Za-z0-9-]*)", source[i:])
                tag = name.group(1) if name else ""
                if tag and ">" not in source[i:]:
                    raise _fail(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
                raise _fail(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, i)}'
                )
            closing, name_text, attr_text = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                if not stack or stack[-1].name != name_text:
                    raise _fail(f"Unexpected end tag at byte offset {_byte_offset(source, i)}")
                _close(stack.pop(), length, stack, entities)
            else:
                stack.append(_open(name_text, attr_text, length, stack, source, i))
            i = match.end()
            continue
        if char == "&":
            ref = _CHAR_REF.match(source, i)
            decoded = _decode(ref.group(1)) if ref else None
            if ref and decoded is not None:
                out.append(decoded)
                length += _utf16_len(decoded)
                i = ref.end()
                continue
        out.append(char)
        length += _utf16_len(char)
        i += 1
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return Rendered("".join(out), entities)


def _open(
    name: str, attr_text: str, offset: int, stack: list[_Open], source: str, at: int
) -> _Open:
    attrs = {
        m.group(1).lower(): (m.group(2) or "").strip("\"'") for m in _ATTR.finditer(attr_text)
    }
    if name not in ENTITY_TYPES or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise _fail(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, at)}')
    if name == "blockquote" and any(o.name == "blockquote" for o in stack):
        raise _fail("Blockquote entities can't be nested")
    if any(o.name == "code" or (o.name == "pre" and name != "code") for o in stack):
        raise _fail(
            f"Entities can't be nested in pre or code at byte offset {_byte_offset(source, at)}"
        )
    if name == "a" and any(o.name == "a" for o in stack):
        raise _fail("Nested links are not allowed")
    return _Open(name, attrs, offset)


def _close(item: _Open, end: int, stack: list[_Open], entities: list[dict[str, Any]]) -> None:
    language = item.attrs.get("class", "")
    if item.name == "code" and stack and stack[-1].name == "pre":
        if language.startswith("language-"):
            stack[-1].extra["language"] = language.removeprefix("language-")
        return
    if end == item.offset:
        return
    entity: dict[str, Any] = {
        "type": ENTITY_TYPES[item.name],
        "offset": item.offset,
        "length": end - item.offset,
    }
    if item.name == "a":
        entity["url"] = item.attrs.get("href", "")
    elif item.name == "tg-emoji":
        entity["custom_emoji_id"] = item.attrs.get("emoji-id", "")
    elif item.name == "blockquote" and "expandable" in item.attrs:
        entity["type"] = "expandable_blockquote"
    entity.update(item.extra)
    entities.append(entity)


def _decode(ref: str) -> str | None:
    if ref.startswith(("#x", "#X")):
        code = int(ref[2:], 16)
    elif ref.startswith("#"):
        code = int(ref[1:])
    else:
        return NAMED_ENTITIES.get(ref)
    return chr(code) if 0 < code <= 0x10FFFF else None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _fail(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")
