"""Plain-text rendering of replies: options become a numbered list.

The console uses it, and so will messengers without buttons (Zalo).
"""

from bot.messages import Reply
from locales import Catalogs


def render_reply(reply: Reply, catalogs: Catalogs, language: str) -> str:
    """Render a reply as plain text, its options numbered from 1."""
    lines = [catalogs.render(reply.text, language)]
    for number, option in enumerate(reply.options, start=1):
        lines.append(f"  {number}. {catalogs.render(option.label, language)}")
    return "\n".join(lines)
