"""Plain-text rendering of replies: options become a numbered list.

The console uses it, and so will messengers without buttons (Zalo).
"""

import html
import re

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
