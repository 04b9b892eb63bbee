"""What simulated Telegram users do: write, send files, press buttons, block the bot."""

import base64
import binascii
import re
from typing import Any

from bot.sandbox.records import CallbackRecord, ChatRecord, MessageRecord
from bot.sandbox.state import BotState, World

COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
CHAT_TYPES = ("private", "group", "supergroup")
USER_FIELDS = ("first_name", "last_name", "username", "language_code")
Body = dict[str, Any]


class ControlError(Exception):
    """A refused control request, answered as {"ok": false, "error": ...}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def send_text(world: World, bot: BotState, body: Body) -> Any:
    """Deliver a text message from a user to the bot; return the update."""
    text = str(body.get("text") or "")
    if not text:
        raise ControlError("text is required")
    message = _user_message(world, bot, body)
    message.text = message.plain_text = text
    message.entities = [
        {"type": "bot_command", "offset": _utf16(text[: m.start()]), "length": _utf16(m.group())}
        for m in COMMAND.finditer(text)
    ]
    return world.add_update(bot, "message", message.to_api())


async def send_photo(world: World, bot: BotState, body: Body) -> Any:
    """Deliver a photo (base64 bytes in "data") from a user to the bot; return the update."""
    return _send_file(world, bot, body, "photo")


async def send_document(world: World, bot: BotState, body: Body) -> Any:
    """Deliver a document (base64 bytes in "data") from a user to the bot; return the update."""
    return _send_file(world, bot, body, "document")


def _send_file(world: World, bot: BotState, body: Body, kind: str) -> Any:
    try:
        data = base64.b64decode(str(body.get("data") or ""), validate=True)
    except binascii.Error:
        raise ControlError("data must be base64") from None
    default_name, default_mime = ("photo.jpg", "image/jpeg") if kind == "photo" else ("file", "")
    name = str(body.get("filename") or default_name)
    mime = str(body.get("mime_type") or default_mime or "application/octet-stream")
    message = _user_message(world, bot, body)
    stored = world.store_file(data, name=name, mime_type=mime, kind=kind)
    if kind == "photo":
        message.photo = stored
    else:
        message.document = stored
    if body.get("caption"):
        message.caption = message.plain_text = str(body["caption"])
    return world.add_update(bot, "message", message.to_api())


async def press(world: World, bot: BotState, body: Body) -> Any:
    """Press an inline button with whatever data the test gives (forgeries included)."""
    chat_id, message_id = _int(body, "chat_id"), _int(body, "message_id")
    message = bot.find_message(chat_id, message_id)
    if message is None:
        raise ControlError("message not found", 404)
    user = world.remember_user(_int(body, "user_id"), **_user_details(body))
    query_id = str(world.random.getrandbits(63))
    data = str(body.get("data", ""))
    bot.callbacks[query_id] = CallbackRecord(query_id, user.id, chat_id, message_id, data)
    payload = {
        "id": query_id,
        "from": user.to_api(),
        "message": message.to_api(),
        "chat_instance": str(abs(chat_id) * 7919 + bot.id),
        "data": data,
    }
    return world.add_update(bot, "callback_query", payload)


async def block(world: World, bot: BotState, body: Body) -> Any:
    """Block the bot as the user; the bot gets my_chat_member and its sends answer 403."""
    user_id = _int(body, "user_id")
    if user_id not in bot.blocked:
        bot.blocked.add(user_id)
        _member_update(world, bot, user_id, old="member", new="kicked")
    return True


async def unblock(world: World, bot: BotState, body: Body) -> Any:
    """Unblock the bot as the user."""
    user_id = _int(body, "user_id")
    if user_id in bot.blocked:
        bot.blocked.discard(user_id)
        _member_update(world, bot, user_id, old="kicked", new="member")
    return True


def _user_message(world: World, bot: BotState, body: Body) -> MessageRecord:
    user = world.remember_user(_int(body, "user_id"), **_user_details(body))
    chat_type = str(body.get("chat_type") or "private")
    if chat_type not in CHAT_TYPES:
        raise ControlError(f"chat_type must be one of {', '.join(CHAT_TYPES)}")
    chat_id = _int(body, "chat_id", user.id if chat_type == "private" else None)
    if (chat_type == "private") != (chat_id == user.id) or (
        chat_type != "private" and chat_id >= 0
    ):
        raise ControlError("a private chat has the user's id; a group chat a negative id")
    if chat_type == "private" and user.id in bot.blocked:
        raise ControlError("the user blocked this bot; unblock it first", 409)
    chat = world.chat_for(chat_id, chat_type, user)
    if body.get("title") and chat.type != "private":
        chat.title = str(body["title"])
    bot.known_chats.add(chat.id)
    message = MessageRecord(
        message_id=bot.next_message_id(chat.id),
        chat=chat,
        sender=user,
        date=world.now(),
        from_bot=False,
    )
    bot.messages.setdefault(chat.id, {})[message.message_id] = message
    return message


def _member_update(world: World, bot: BotState, user_id: int, *, old: str, new: str) -> None:
    if user_id not in bot.known_chats:
        return
    user = world.remember_user(user_id)
    chat = world.chats.get(user_id) or ChatRecord(id=user_id, type="private", user=user)
    me = bot.user.to_api()
    status_new: Body = {"user": me, "status": new}
    if new == "kicked":
        status_new["until_date"] = 0
    old_member: Body = {"user": me, "status": old}
    if old == "kicked":
        old_member["until_date"] = 0
    world.add_update(
        bot,
        "my_chat_member",
        {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": world.now(),
            "old_chat_member": old_member,
            "new_chat_member": status_new,
        },
    )


def _user_details(body: Body) -> dict[str, Any]:
    return {name: body[name] for name in USER_FIELDS if body.get(name) is not None}


def _int(body: Body, name: str, default: Any = ...) -> Any:
    value = body.get(name)
    if value is None or value == "":
        if default is ...:
            raise ControlError(f"{name} is required")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
