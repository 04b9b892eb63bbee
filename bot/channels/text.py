"""Plain-text rendering of replies: options become a numbered list.

The console uses it, and so will messengers without buttons (Zalo).
"""

from core.messages import Reply
from locales import Catalogs


def render_reply(reply: Reply, catalogs: Catalogs, language: str) -> str:
    """Render a reply as plain text, its options numbered from 1, then its links.

    A link to the private chat shows only its label: a text channel is that chat.
    """
    lines = [catalogs.render(reply.text, language)]
    for number, option in enumerate(reply.options, start=1):
        lines.append(f"  {number}. {catalogs.render(option.label, language)}")
    for link in reply.links:
        label = catalogs.render(link.label, language)
        lines.append(f"  → {label}: {link.url}" if link.url else f"  → {label}")
    return "\n".join(lines)
