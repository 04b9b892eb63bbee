"""Translate between Zalo updates and the neutral message model.

Updates are read as the JSON the inbox stores. Zalo has no update number: an update is
keyed by its event and message id (a redelivery has the same key) and ordered by a
counter of the channel's own. Replies become plain texts of at most 2,000 UTF-16 code
units, split at line breaks, their options numbered (the core's router takes a typed
number or label).
"""

import hashlib
import json
import re
from typing import Any

from bot.channels.text import render_reply, split_plain
from core.messages import InAttachment, Incoming, Reply
from locales import Catalogs

CHANNEL = "zalo"
TEXT_LIMIT = 2000  # in UTF-16 code units, as Zalo counts
KEY_LIMIT = 64  # the inbox's update id column
TEXT = "message.text.received"
IMAGE = "message.image.received"
Update = dict[str, Any]
# A mention of the bot (its name may have spaces) up to a command: a "/" that starts a
# word, so a date ("12/5") or a link in group chatter is no command.
_MENTION = re.compile(r"^@[^\s/]*(?=/\w)|^@.*?(?<!\S)(?=/\w)|^@\S*\s*", re.DOTALL)
# A command typed before the mention ("/linkgroup 12 @Bot"): the mention is no argument.
_TRAILING_MENTION = re.compile(r"^(/\S+.*?)\s+@.*$", re.DOTALL)


def unwrap(body: object) -> Update | None:
    """Return the update of a webhook body, wrapped (`{ok, result}`) or bare; else None."""
    if isinstance(body, dict) and "ok" in body:
        body = body.get("result")
    if isinstance(body, dict) and isinstance(body.get("event_name"), str):
        return body
    return None


def _message(update: Update) -> dict[str, Any]:
    message = update.get("message")
    return message if isinstance(message, dict) else {}


def _id(value: object) -> str | None:
    """Return an id Zalo sent (a string, defensively a number), or None."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def sent_at(update: Update) -> int:
    """Return when Zalo says a message was sent (ms since the epoch); 0 when it does not."""
    date = _message(update).get("date")
    return date if isinstance(date, int) and not isinstance(date, bool) else 0


def key_of(update: Update) -> str:
    """Return the inbox key of an update: `event_name:message_id`.

    One without a message id is keyed by its content (a redelivery of it, content and
    all, is then recognised too).
    """
    event = str(update.get("event_name"))
    message_id = _id(_message(update).get("message_id"))
    key = f"{event}:{message_id}"
    if message_id is None or len(key) > KEY_LIMIT:
        digest = hashlib.sha256(json.dumps(update, sort_keys=True).encode()).hexdigest()
        key = f"{event[: KEY_LIMIT - 33]}:{digest[:32]}"
    return key


def chat_of(update: Update) -> str | None:
    """Return the chat an update belongs to; None for one that names none (nothing to answer)."""
    message = _message(update)
    chat = message.get("chat")
    sender = message.get("from")
    chat_id = _id(chat.get("id")) if isinstance(chat, dict) else None
    if chat_id is None and isinstance(sender, dict):
        chat_id = _id(sender.get("id"))
    return chat_id


def from_bot(update: Update, bot_id: str) -> bool:
    """Tell whether an update is the bot's own message coming back (a self-echo)."""
    sender = _message(update).get("from")
    if not isinstance(sender, dict):
        return False
    return sender.get("is_bot") is True or _id(sender.get("id")) == bot_id


def photo_url(update: Update) -> str | None:
    """Return the address of the picture an image update carries (`photo_url`, else `photo`);
    None for group chatter, which is dropped unread."""
    if update.get("event_name") != IMAGE or _chatter(update):
        return None
    message = _message(update)
    for field in ("photo_url", "photo"):
        value = message.get(field)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


def _name(sender: dict[str, Any]) -> str | None:
    for field in ("display_name", "name", "first_name"):
        value = sender.get(field)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _text(value: object, in_group: bool) -> str | None:
    if not isinstance(value, str):
        return None
    if in_group:  # Zalo delivers only mentions of the bot there: the command follows
        value = _MENTION.sub("", value, count=1)
        value = _TRAILING_MENTION.sub(r"\1", value)
    return value


def _in_group(update: Update) -> bool:
    chat = _message(update).get("chat")
    return isinstance(chat, dict) and str(chat.get("chat_type", "")).upper() == "GROUP"


def _chatter(update: Update) -> bool:
    """Tell whether an update is group chatter: not a command after the mention.

    Zalo hands the bot a group's messages that mention it and the replies to its own (to
    a digest, say: thanks, a sticker); as in a Telegram group, only commands are taken.
    """
    if not _in_group(update):
        return False
    message = _message(update)
    field = "text" if update.get("event_name") == TEXT else "caption"
    said = _text(message.get(field), in_group=True)
    return not (said or "").startswith("/")


def to_incoming(
    update: Update, key: str, photo: InAttachment | None = None, *, lost: bool = False
) -> Incoming | None:
    """Translate a stored update into an Incoming; None when there is nobody to answer
    (nobody named, or chatter in a group).

    `photo` is the picture of an image update, already kept by the bot; an image whose
    picture could not be had (`lost`: the core asks for it again), stickers, voice and
    whatever else Zalo sends are unsupported (the core answers that politely).
    """
    if _chatter(update):
        return None
    message = _message(update)
    sender = message.get("from")
    sender = sender if isinstance(sender, dict) else {}
    chat = message.get("chat")
    chat = chat if isinstance(chat, dict) else {}
    chat_id = chat_of(update)
    user_id = _id(sender.get("id")) or chat_id
    if chat_id is None or user_id is None:
        return None
    in_group = _in_group(update)
    event = update.get("event_name")
    text = _text(message.get("text"), in_group) if event == TEXT else None
    caption = _text(message.get("caption"), in_group) if photo is not None else None
    return Incoming(
        channel=CHANNEL,
        chat_id=chat_id,
        user_id=user_id,
        text=text,
        caption=caption,
        attachments=(photo,) if photo is not None else (),
        update_id=key,
        display_name=_name(sender),
        unsupported=text is None and photo is None,
        picture_lost=lost,
        in_group=in_group,
        sent_ref=_id(message.get("message_id")),
    )


def render(reply: Reply, catalogs: Catalogs, language: str, more: str | None = None) -> list[str]:
    """Render a reply as the texts Zalo takes: its options numbered, then the line
    `more` if any, split at 2,000."""
    text = render_reply(reply, catalogs, language)
    return split_plain(f"{text}\n{more}" if more else text, TEXT_LIMIT)
