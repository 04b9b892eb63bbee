"""What simulated Zalo users do: write, send a photo, a sticker, a voice note or something
the bot cannot read, in a private chat or a group (where the bot hears only mentions of it
and replies to its own messages)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sandbox.control_wire import Body, ControlError, flag, integer
from sandbox.zalo import files
from sandbox.zalo.records import GROUP, PRIVATE, Update
from sandbox.zalo.state import ZaloBot, ZaloWorld

DEFAULT_STICKER = "0e078a2fb66a5f34067b"
PHOTO_FIELDS = ("photo_url", "photo")


@dataclass
class Control:
    """One control request: the world, the bot its token names, its fields, and the
    sandbox's own address as the client reached it (for the URLs of served photos)."""

    world: ZaloWorld
    bot: ZaloBot
    body: Body
    origin: str


async def send_text(ctl: Control) -> Any:
    """Write text to the bot; return the update."""
    text = str(ctl.body.get("text") or "")
    if not text:
        raise ControlError("text is required")
    return _deliver(ctl, "message.text.received", text=text)


async def send_photo(ctl: Control) -> Any:
    """Send a photo (base64 `data`), served by the sandbox; return the update."""
    try:
        data = base64.b64decode(str(ctl.body.get("data") or ""), validate=True)
    except binascii.Error:
        raise ControlError("data must be base64") from None
    if not data:
        raise ControlError("data is required")
    field = str(ctl.body.get("field") or "photo_url")
    if field not in PHOTO_FIELDS:
        raise ControlError("field must be photo_url or photo")
    content: dict[str, Any] = {field: files.keep(ctl.world, data, ctl.origin)}
    if ctl.body.get("caption"):
        content["caption"] = str(ctl.body["caption"])
    return _deliver(ctl, "message.image.received", **content)


async def send_sticker(ctl: Control) -> Any:
    """Send a sticker; return the update."""
    sticker = str(ctl.body.get("sticker") or DEFAULT_STICKER)
    url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}"
    return _deliver(ctl, "message.sticker.received", sticker=sticker, url=url)


async def send_voice(ctl: Control) -> Any:
    """Send a voice note (a `voice_url`); return the update."""
    url = str(ctl.body.get("voice_url") or "https://voice.zalo.example/note.aac")
    return _deliver(ctl, "message.voice.received", voice_url=url)


async def send_unsupported(ctl: Control) -> Any:
    """Send what the bot may not read; `bare`: the update has no message at all."""
    if flag(ctl.body, "bare"):
        update: Update = {"event_name": "message.unsupported.received"}
        ctl.bot.queue(update)
        return update
    return _deliver(ctl, "message.unsupported.received")


async def redeliver(ctl: Control) -> Any:
    """Deliver the last update again, `count` times (the same message_id)."""
    count = integer(ctl.body, "count", 1)
    if ctl.bot.last_update is None:
        raise ControlError("the bot has had no update yet", 409)
    for _ in range(count):
        ctl.bot.queue(ctl.bot.last_update)
    return True


async def expire_file(ctl: Control) -> Any:
    """Stop serving a photo a user sent (its URL answers 404 from now on)."""
    if not files.expire(ctl.world, str(ctl.body.get("url") or "")):
        raise ControlError("the sandbox served no file at this url", 404)
    return True


def _deliver(ctl: Control, event_name: str, **content: Any) -> Update:
    """Build a user's update and queue it, unless it is in a group and neither mentions
    the bot nor replies to (quotes) one of its messages there (`reply_to`)."""
    user_id = _text(ctl.body, "user_id")
    chat_id = str(ctl.body.get("chat_id") or user_id)
    chat_type = str(ctl.body.get("chat_type") or (PRIVATE if chat_id == user_id else GROUP))
    if chat_type not in (PRIVATE, GROUP):
        raise ControlError("chat_type must be PRIVATE or GROUP")
    if (chat_type == PRIVATE) != (chat_id == user_id):
        raise ControlError("a private chat's id is the user's id; a group's is another")
    quotes_the_bot = _replies(ctl, chat_id)
    heard = chat_type == PRIVATE or flag(ctl.body, "mention") or quotes_the_bot
    display_name = ctl.body.get("display_name")
    message = {
        "from": ctl.world.user(user_id, str(display_name) if display_name else None),
        "chat": {"id": chat_id, "chat_type": chat_type},
        **content,
        "message_id": ctl.world.new_id(),
        "date": ctl.world.now_ms(),
    }
    update: Update = {"event_name": event_name, "message": message}
    ctl.bot.chats[chat_id] = chat_type
    if heard:
        ctl.bot.queue(update)
    return update


def _replies(ctl: Control, chat_id: str) -> bool:
    """Tell whether the message quotes one the bot sent in this chat (`reply_to`: its id).

    Zalo documents no field for the quote, so the update carries none.
    """
    quoted = ctl.body.get("reply_to")
    if quoted is None or quoted == "":
        return False
    sent = ctl.bot.sent_by_id.get(str(quoted))
    if sent is None or sent.chat_id != chat_id:
        raise ControlError("reply_to must be a message the bot sent in this chat")
    return True


def _text(body: Body, name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ControlError(f"{name} is required")
    return str(value)
