"""What simulated Telegram users do: write, edit, send files, press buttons, block the bot,
remove it from a group or add it back, turn a group into a supergroup."""

import base64
import binascii
import re
from typing import Any

from sandbox.control_wire import Body, ControlError, integer
from sandbox.records import CallbackRecord, ChatRecord, MessageRecord, UserRecord
from sandbox.state import BotState, World

COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
CHAT_TYPES = ("private", "group", "supergroup")
USER_FIELDS = ("first_name", "last_name", "username", "language_code")


async def send_text(world: World, bot: BotState, body: Body) -> Any:
    """Deliver a text message from a user to the bot; return the update."""
    text = str(body.get("text") or "")
    if not text:
        raise ControlError("text is required")
    message = _user_message(world, bot, body)
    message.text = message.plain_text = text
    message.entities = _command_entities(text)
    return world.add_update(bot, "message", message.to_api())


def _command_entities(text: str) -> list[Body]:
    return [
        {"type": "bot_command", "offset": _utf16(text[: m.start()]), "length": _utf16(m.group())}
        for m in COMMAND.finditer(text)
    ]


async def edit_text(world: World, bot: BotState, body: Body) -> Any:
    """Edit a text message the user sent; the bot gets edited_message. Return the update."""
    user_id, message_id = integer(body, "user_id"), integer(body, "message_id")
    chat_id = integer(body, "chat_id", user_id)
    text = str(body.get("text") or "")
    if not text:
        raise ControlError("text is required")
    message = bot.find_message(chat_id, message_id)
    if message is None or message.from_bot or message.sender.id != user_id:
        raise ControlError("the user sent no such message", 404)
    if message.text is None:
        raise ControlError("only text messages can be edited here")
    _check_reachable(bot, message.chat)
    message.history.append(message.snapshot())
    message.text = message.plain_text = text
    message.entities = _command_entities(text)
    message.edit_date = max(world.now(), message.date + 1)
    bot.outbox_changed(chat_id)
    return world.add_update(bot, "edited_message", message.to_api())


async def remove_bot(world: World, bot: BotState, body: Body) -> Any:
    """Remove the bot from a group as the user ("kicked", or "left" as if it left).

    The bot gets my_chat_member, and its sends to the group answer 403.
    """
    status = str(body.get("status") or "kicked")
    if status not in ("kicked", "left"):
        raise ControlError("status must be kicked or left")
    chat = _group(world, bot, body)
    if chat.id not in bot.out_of_groups:
        bot.out_of_groups[chat.id] = status
        _bot_status_update(world, bot, chat, integer(body, "user_id"), old="member", new=status)
    return True


async def add_bot(world: World, bot: BotState, body: Body) -> Any:
    """Add the bot to a group as the user (again, or for the first time)."""
    chat = _group(world, bot, body)
    old = bot.out_of_groups.pop(chat.id, None)
    if old is None and chat.id in bot.known_chats:
        return True  # it is in the group already
    bot.known_chats.add(chat.id)
    _bot_status_update(world, bot, chat, integer(body, "user_id"), old=old or "left", new="member")
    return True


async def migrate_group(world: World, bot: BotState, body: Body) -> Any:
    """Turn a group into a supergroup, as Telegram does when a group grows or changes.

    The old chat gets a service message with migrate_to_chat_id, the new one a service
    message with migrate_from_chat_id (both reach the bot as messages), and sends to the
    old id answer 400 with parameters.migrate_to_chat_id. Return the new chat's id.
    """
    chat = _group(world, bot, body)
    if chat.type != "group" or chat.migrated_to is not None:
        raise ControlError("only a group that was not migrated yet can be", 409)
    _check_reachable(bot, chat)
    new_id = integer(body, "new_chat_id", int(f"-100{abs(chat.id)}"))
    if new_id >= 0 or new_id in world.chats:
        raise ControlError("new_chat_id must be a new negative chat id")
    user = world.remember_user(integer(body, "user_id"))
    supergroup = world.chat_for(new_id, "supergroup", user)
    supergroup.title = chat.title
    chat.migrated_to = new_id
    bot.known_chats.add(new_id)
    for where, field, value in (
        (chat, "migrate_to_chat_id", new_id),
        (supergroup, "migrate_from_chat_id", chat.id),
    ):
        message = _record_user_message(world, bot, where, user)
        message.service = {field: value}
        world.add_update(bot, "message", message.to_api())
    return new_id


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
    chat_id, message_id = integer(body, "chat_id"), integer(body, "message_id")
    message = bot.find_message(chat_id, message_id)
    if message is None:
        raise ControlError("message not found", 404)
    user = world.remember_user(integer(body, "user_id"), **_user_details(body))
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
    """Block the bot as the user; the bot gets my_chat_member and its sends answer 403.

    With "notify": false the bot never hears of it, as when it was away longer than
    Telegram keeps updates (a day): only its sends' 403s tell it.
    """
    user_id = integer(body, "user_id")
    if user_id not in bot.blocked:
        bot.blocked.add(user_id)
        if body.get("notify", True) is not False:
            _member_update(world, bot, user_id, old="member", new="kicked")
    return True


async def unblock(world: World, bot: BotState, body: Body) -> Any:
    """Unblock the bot as the user."""
    user_id = integer(body, "user_id")
    if user_id in bot.blocked:
        bot.blocked.discard(user_id)
        _member_update(world, bot, user_id, old="kicked", new="member")
    return True


def _user_message(world: World, bot: BotState, body: Body) -> MessageRecord:
    user = world.remember_user(integer(body, "user_id"), **_user_details(body))
    chat_type = str(body.get("chat_type") or "private")
    if chat_type not in CHAT_TYPES:
        raise ControlError(f"chat_type must be one of {', '.join(CHAT_TYPES)}")
    chat_id = integer(body, "chat_id", user.id if chat_type == "private" else None)
    if (chat_type == "private") != (chat_id == user.id) or (
        chat_type != "private" and chat_id >= 0
    ):
        raise ControlError("a private chat has the user's id; a group chat a negative id")
    chat = world.chat_for(chat_id, chat_type, user)
    _check_reachable(bot, chat)
    if body.get("title") and chat.type != "private":
        chat.title = str(body["title"])
    bot.known_chats.add(chat.id)
    return _record_user_message(world, bot, chat, user)


def _record_user_message(
    world: World, bot: BotState, chat: ChatRecord, user: UserRecord
) -> MessageRecord:
    message = MessageRecord(
        message_id=bot.next_message_id(chat.id),
        chat=chat,
        sender=user,
        date=world.now(),
        from_bot=False,
    )
    bot.messages.setdefault(chat.id, {})[message.message_id] = message
    return message


def _check_reachable(bot: BotState, chat: ChatRecord) -> None:
    """Refuse to write where the bot would not see it: a blocked, left or migrated chat."""
    if chat.type == "private" and chat.id in bot.blocked:
        raise ControlError("the user blocked this bot; unblock it first", 409)
    if chat.id in bot.out_of_groups:
        raise ControlError("the bot is not in this group; add it first", 409)
    if chat.migrated_to is not None:
        raise ControlError(f"the group is now the supergroup {chat.migrated_to}", 409)


def _group(world: World, bot: BotState, body: Body) -> ChatRecord:
    """Return the group chat a control request names, creating it if it is new."""
    user = world.remember_user(integer(body, "user_id"), **_user_details(body))
    chat_id = integer(body, "chat_id")
    chat_type = str(body.get("chat_type") or "group")
    if chat_id >= 0 or chat_type not in ("group", "supergroup"):
        raise ControlError("a group chat has a negative id and type group or supergroup")
    chat = world.chat_for(chat_id, chat_type, user)
    if body.get("title"):
        chat.title = str(body["title"])
    return chat


def _bot_status_update(
    world: World, bot: BotState, chat: ChatRecord, user_id: int, *, old: str, new: str
) -> None:
    """Tell the bot its own status in a chat changed (my_chat_member)."""
    me = bot.user.to_api()
    world.add_update(
        bot,
        "my_chat_member",
        {
            "chat": chat.to_api(),
            "from": world.remember_user(user_id).to_api(),
            "date": world.now(),
            "old_chat_member": _member_status(me, old),
            "new_chat_member": _member_status(me, new),
        },
    )


def _member_status(me: Body, status: str) -> Body:
    """Return a ChatMember object of the bot (a banned one has until_date 0: forever)."""
    return {"user": me, "status": status, **({"until_date": 0} if status == "kicked" else {})}


def _member_update(world: World, bot: BotState, user_id: int, *, old: str, new: str) -> None:
    if user_id not in bot.known_chats:
        return
    user = world.remember_user(user_id)
    chat = world.chats.get(user_id) or ChatRecord(id=user_id, type="private", user=user)
    _bot_status_update(world, bot, chat, user.id, old=old, new=new)


def _user_details(body: Body) -> dict[str, Any]:
    return {name: body[name] for name in USER_FIELDS if body.get(name) is not None}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
