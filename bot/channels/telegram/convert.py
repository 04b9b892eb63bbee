"""Translate between aiogram's Telegram types and the neutral message model."""

from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bot.messages import InAttachment, Incoming, Reply
from locales import Catalogs, escape_html

CHANNEL = "telegram"
TEXT_LIMIT = 4096
GROUP_TYPES = ("group", "supergroup")


def chat_of(update: Update) -> str | None:
    """Return the chat an update belongs to, or None when the bot ignores it."""
    if update.message is not None:
        return str(update.message.chat.id)
    query = update.callback_query
    if query is not None and query.message is not None:
        return str(query.message.chat.id)
    return None


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """Translate an update into an Incoming, or None when the bot should stay silent."""
    if update.message is not None:
        return _from_message(update, update.message, bot_username)
    if update.callback_query is not None:
        return _from_callback(update, update.callback_query)
    return None


def _from_message(update: Update, message: Message, bot_username: str) -> Incoming | None:
    if message.from_user is None or message.from_user.is_bot:
        return None
    in_group = message.chat.type in GROUP_TYPES
    text = message.text if message.text is not None else message.caption
    if in_group and not _addressed(text, bot_username):
        return None
    attachments: tuple[InAttachment, ...] = ()
    if message.photo:
        largest = message.photo[-1]
        attachments = (
            InAttachment("photo", largest.file_id, None, "image/jpeg", largest.file_size),
        )
    elif message.document is not None:
        document = message.document
        attachments = (
            InAttachment(
                "document",
                document.file_id,
                document.file_name,
                document.mime_type,
                document.file_size,
            ),
        )
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        user_id=str(message.from_user.id),
        text=None if attachments else text,
        attachments=attachments,
        update_id=str(update.update_id),
        display_name=message.from_user.full_name,
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


def _from_callback(update: Update, query: CallbackQuery) -> Incoming | None:
    if query.message is None:
        return None
    return Incoming(
        channel=CHANNEL,
        chat_id=str(query.message.chat.id),
        user_id=str(query.from_user.id),
        choice=query.data or "",
        update_id=str(update.update_id),
        display_name=query.from_user.full_name,
        in_group=query.message.chat.type in GROUP_TYPES,
        message_ref=str(query.message.message_id),
    )


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


def render(
    reply: Reply, catalogs: Catalogs, language: str
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """Render a reply as HTML message pieces; the buttons go on the last piece."""
    text = catalogs.render(reply.text, language, escape_html)
    pieces = split_text(text)
    keyboard = None
    if reply.options:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=catalogs.render(o.label, language), callback_data=o.value
                    )
                ]
                for o in reply.options
            ]
        )
    return [(piece, keyboard if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]
