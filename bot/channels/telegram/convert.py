"""Translate between Bot API JSON and the neutral message model, for every driver.

Updates are read as the JSON objects the inbox stores, so the core sees the same
`Incoming` whichever client library fetched them; replies become HTML pieces with
neutral button rows that each driver turns into its own keyboard type.
"""

from typing import Any

from bot.messages import InAttachment, Incoming, Reply
from locales import Catalogs, escape_html

CHANNEL = "telegram"
TEXT_LIMIT = 4096
GROUP_TYPES = ("group", "supergroup")
Update = dict[str, Any]  # a Bot API Update object, as JSON
Keyboard = list[list[tuple[str, str]]]  # rows of (label, callback_data)


def chat_of(update: Update) -> str | None:
    """Return the chat an update belongs to, or None when the bot ignores it."""
    message = update.get("message")
    if message is None:
        query = update.get("callback_query")
        message = query.get("message") if isinstance(query, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(chat, dict) or "id" not in chat:
        return None
    return str(chat["id"])


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """Translate an update into an Incoming, or None when the bot should stay silent.

    Raises KeyError or TypeError for an update that lacks what Telegram always sends.
    """
    if (message := update.get("message")) is not None:
        return _from_message(update, message, bot_username)
    if (query := update.get("callback_query")) is not None:
        return _from_callback(update, query)
    return None


def _from_message(update: Update, message: dict[str, Any], bot_username: str) -> Incoming | None:
    sender = message.get("from")
    if sender is None or sender.get("is_bot"):
        return None
    chat = message["chat"]
    in_group = chat["type"] in GROUP_TYPES
    text = message.get("text")
    if text is None:
        text = message.get("caption")
    if in_group and not _addressed(text, bot_username):
        return None
    attachments: tuple[InAttachment, ...] = ()
    if message.get("photo"):
        largest = message["photo"][-1]
        size = largest.get("file_size")
        attachments = (InAttachment("photo", largest["file_id"], None, "image/jpeg", size),)
    elif (document := message.get("document")) is not None:
        attachments = (
            InAttachment(
                "document",
                document["file_id"],
                document.get("file_name"),
                document.get("mime_type"),
                document.get("file_size"),
            ),
        )
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat["id"]),
        user_id=str(sender["id"]),
        text=None if attachments else text,
        caption=text if attachments else None,
        attachments=attachments,
        update_id=str(update["update_id"]),
        display_name=_full_name(sender),
        unsupported=text is None and not attachments,
        in_group=in_group,
    )


def _addressed(text: str | None, bot_username: str) -> bool:
    """Tell whether a group message is a command meant for this bot."""
    if not text or not text.startswith("/"):
        return False
    head = text.split(maxsplit=1)[0]
    _, _, mention = head.partition("@")
    return not mention or mention.lower() == bot_username.lower()


def _from_callback(update: Update, query: dict[str, Any]) -> Incoming | None:
    message = query.get("message")
    if message is None:
        return None
    sender = query["from"]
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message["chat"]["id"]),
        user_id=str(sender["id"]),
        choice=query.get("data") or "",
        update_id=str(update["update_id"]),
        display_name=_full_name(sender),
        in_group=message["chat"]["type"] in GROUP_TYPES,
        message_ref=str(message["message_id"]),
    )


def _full_name(user: dict[str, Any]) -> str:
    last = user.get("last_name")
    return f"{user['first_name']} {last}" if last else str(user["first_name"])


def callback_query_id(update: Update) -> str | None:
    """Return the id of the button press an update carries, if any."""
    query = update.get("callback_query")
    return str(query["id"]) if isinstance(query, dict) else None


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a text at line boundaries into pieces Telegram accepts."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            pieces, current = _flush(pieces, current), ""
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces, current = _flush(pieces, current), line
        else:
            current = candidate
    return _flush(pieces, current) or [""]


def _flush(pieces: list[str], current: str) -> list[str]:
    return [*pieces, current] if current.strip() else pieces


def _safe_cut(line: str, limit: int) -> int:
    """Return where to cut an over-long line: at a space, never inside an &entity;."""
    cut = line.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    amp = line.rfind("&", 0, cut)
    if amp != -1 and ";" not in line[amp:cut]:
        cut = amp
    return cut


def render(reply: Reply, catalogs: Catalogs, language: str) -> list[tuple[str, Keyboard | None]]:
    """Render a reply as HTML message pieces; the buttons go on the last piece."""
    text = catalogs.render(reply.text, language, escape_html)
    pieces = split_text(text)
    keyboard = None
    if reply.options:
        keyboard = [[(catalogs.render(o.label, language), o.value)] for o in reply.options]
    return [(piece, keyboard if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]
