"""Plain-text rendering of replies: options become a numbered list.

The console uses it, and messengers without buttons (Zalo), whose texts are split
at line breaks to fit their limit.
"""

import html
import re
from collections.abc import Callable

from core.messages import Reply, Text
from locales import Catalogs, escape_html

_TAG = re.compile(r"<[^>]*>")


def plain(text: Text, catalogs: Catalogs, language: str) -> str:
    """Render a text without its markup: the catalogs' <b> and <i> go, what a person
    wrote stays as written (it is escaped first, so no tag of theirs is taken away)."""
    return html.unescape(_TAG.sub("", catalogs.render(text, language, escape_html)))


def render_reply(reply: Reply, catalogs: Catalogs, language: str) -> str:
    """Render a reply as plain text, its options numbered from 1, then its links.

    A link to the private chat shows only its label: a text channel is that chat.
    """
    lines = [plain(reply.text, catalogs, language)]
    for number, option in enumerate(reply.options, start=1):
        lines.append(f"  {number}. {plain(option.label, catalogs, language)}")
    for link in reply.links:
        label = plain(link.label, catalogs, language)
        lines.append(f"  → {label}: {link.url}" if link.url else f"  → {label}")
    return "\n".join(lines)


def utf16_units(text: str) -> int:
    """Return a text's length in UTF-16 code units (how Zalo counts, and JavaScript)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_plain(text: str, limit: int, length: Callable[[str], int] = utf16_units) -> list[str]:
    """Split a plain text at line breaks into parts of at most `limit` (by `length`).

    A line longer than the limit is cut at a space where one is near, else where it
    must be (never inside a character). No part is empty or blank.
    """
    if length(text) <= limit:
        return _keep([], text)  # what the loop below makes of it, at once
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while length(line) > limit:
            cut = _cut(line, limit, length)
            parts, current = _keep(parts, current), ""
            parts = _keep(parts, line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if length(candidate) > limit:
            parts, current = _keep(parts, current), line
        else:
            current = candidate
    return _keep(parts, current)


def _keep(parts: list[str], part: str) -> list[str]:
    """Add a part without the blank lines at its ends; a blank one is left out."""
    return [*parts, part.strip("\n")] if part.strip() else parts


def _cut(line: str, limit: int, length: Callable[[str], int]) -> int:
    """Return where to cut a line too long: the longest prefix within `limit`, back to
    its last space if that keeps at least half of it."""
    low, high = 1, len(line)  # the longest prefix that fits (one character always does)
    while low < high:
        middle = (low + high + 1) // 2
        if length(line[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    space = line.rfind(" ", 0, low + 1)
    return space if space > low // 2 else low
