"""Translate between Bot API JSON and the neutral message model, for every driver.

Updates are read as the JSON objects the inbox stores, so the core sees the same
`Incoming` whichever client library fetched them; replies become HTML pieces with
neutral button rows that each driver turns into its own keyboard type.
"""

import logging
from typing import Any, NamedTuple

from core.messages import ChatEvent, InAttachment, Incoming, Reply
from locales import Catalogs, escape_html

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
TEXT_LIMIT = 4096
GROUP_TYPES = ("group", "supergroup")
INT64 = range(-(2**63), 2**63)  # Telegram's ids, and the inbox's BigInteger `seq`
Update = dict[str, Any]  # a Bot API Update object, as JSON


class Button(NamedTuple):
    """An inline button: it sends `data` back, or opens `url`, or (neither) the private
    chat with the bot started with `start` (the driver knows the bot's username)."""

    text: str
    data: str | None = None
    url: str | None = None
    start: str = ""


Keyboard = list[list[Button]]

# The fields of an update the bot reads, as {name: (shape, required)}. A shape is a
# JSON type (int, str or bool), an object's fields (a dict) or an array of one shape
# (a one-item list). Null counts as absent, as in what the drivers dump. Other fields,
# and the kinds of update the bot ignores, are not checked.
_USER = {
    "id": (int, True),
    "is_bot": (bool, False),
    "first_name": (str, True),
    "last_name": (str, False),
}
_CHAT = {"id": (int, True), "type": (str, True)}
_PHOTO_SIZE = {"file_id": (str, True), "file_size": (int, False)}
_DOCUMENT = {
    "file_id": (str, True),
    "file_name": (str, False),
    "mime_type": (str, False),
    "file_size": (int, False),
}
_MESSAGE = {
    "message_id": (int, False),
    "chat": (_CHAT, True),
    "from": (_USER, False),
    "text": (str, False),
    "caption": (str, False),
    "photo": ([_PHOTO_SIZE], False),
    "document": (_DOCUMENT, False),
    "migrate_to_chat_id": (int, False),
    "migrate_from_chat_id": (int, False),
}
# The message a button was pressed on; an inaccessible one has little more than these.
_PRESSED_ON = {"message_id": (int, True), "chat": (_CHAT, True)}
_CALLBACK_QUERY = {
    "id": (str, True),
    "from": (_USER, True),
    "data": (str, False),
    "message": (_PRESSED_ON, False),
}
# The bot's own membership of a chat (ChatMemberUpdated): in a private chat "kicked" when
# the person blocked the bot and "member" when they unblocked it; in a group "left" or
# "kicked" when it was removed, "member" or "administrator" when it was added.
_CHAT_MEMBER = {"status": (str, True), "is_member": (bool, False)}
_MEMBER_UPDATED = {
    "chat": (_CHAT, True),
    "from": (_USER, True),
    "new_chat_member": (_CHAT_MEMBER, True),
}
_UPDATE = {
    "update_id": (int, True),
    "message": (_MESSAGE, False),
    "edited_message": (_MESSAGE, False),
    "callback_query": (_CALLBACK_QUERY, False),
    "my_chat_member": (_MEMBER_UPDATED, False),
}
# The kinds of update the bot subscribes to (getUpdates and setWebhook `allowed_updates`).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
IN_CHAT = ("message", "edited_message", "my_chat_member")  # kinds whose object has `chat`
MIGRATED = "group chat was upgraded to a supergroup chat"  # a send to a group's old id

_TYPE_NAMES = {int: "an integer", str: "a string", bool: "a boolean"}


class MalformedUpdate(TypeError):
    """An update Telegram never sends: a field the bot reads is missing or of the wrong type.

    The message names the update id (when it is a valid one) and the field, never a
    value, so it can be logged: it carries no personal data.
    """

    def __init__(self, update_id: int | None, problem: str) -> None:
        self.update_id = update_id
        self.problem = problem
        super().__init__(f"update {'?' if update_id is None else update_id}: {problem}")


def check(update: object) -> Update:
    """Return the update if the bot can read it; raise MalformedUpdate if it cannot."""
    if not isinstance(update, dict):
        raise MalformedUpdate(None, "the update is not an object")
    problem = _problem(update, _UPDATE, "")
    if problem is None:
        return update
    update_id = update.get("update_id")
    valid_id = _problem(update_id, int, "update_id") is None
    raise MalformedUpdate(update_id if valid_id else None, problem)


def _problem(value: Any, shape: Any, path: str) -> str | None:
    """Say what is wrong with the JSON value at `path`, or None if it has the shape."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{path} is not an object"
        for name, (field_shape, required) in shape.items():
            where = f"{path}.{name}" if path else name
            field = value.get(name)
            if field is None:
                if required:
                    return f"{where} is missing"
            elif (problem := _problem(field, field_shape, where)) is not None:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{path} is not an array"
        for index, item in enumerate(value):
            if (problem := _problem(item, shape[0], f"{path}[{index}]")) is not None:
                return problem
        return None
    # PTB's dump has str enums (a chat's type); a bool is no integer, nor is a float.
    if not isinstance(value, shape) or (shape is int and isinstance(value, bool)):
        return f"{path} is not {_TYPE_NAMES[shape]}"
    if shape is int and value not in INT64:
        return f"{path} is not a 64-bit integer"
    return None


def chat_of(update: Update) -> str | None:
    """Return the chat an update belongs to, or None when the bot ignores or drops it.

    A malformed update (see `check`) is dropped with a warning that names only its id
    and what is wrong, so a caller that stores updates by chat never stores it.
    """
    try:
        check(update)
    except MalformedUpdate as error:
        logger.warning("dropped a malformed update: %s", error)
        return None
    holder = next((update[kind] for kind in IN_CHAT if update.get(kind) is not None), None)
    if holder is None:
        query = update.get("callback_query")
        holder = query.get("message") if query is not None else None
    return None if holder is None else str(holder["chat"]["id"])


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """Translate an update into an Incoming, or None when the bot should stay silent.

    Raises MalformedUpdate (a TypeError) for an update Telegram never sends.
    """
    check(update)
    if (message := update.get("message")) is not None:
        moved = _moved(message)
        if moved is not None:
            return _migration(update, message, moved)
        return _from_message(update, message, bot_username)
    if (edited := update.get("edited_message")) is not None:
        return _from_message(update, edited, bot_username, edited=True)
    if (query := update.get("callback_query")) is not None:
        return _from_callback(update, query)
    if (changed := update.get("my_chat_member")) is not None:
        return _from_member_update(update, changed)
    return None


def _moved(message: dict[str, Any]) -> tuple[str, str] | None:
    """Return (old, new) chat ids of a group's migration to a supergroup, if it is one.

    Telegram tells it twice: in the old chat (`migrate_to_chat_id`) and in the new one
    (`migrate_from_chat_id`).
    """
    chat_id = str(message["chat"]["id"])
    if (new := message.get("migrate_to_chat_id")) is not None:
        return chat_id, str(new)
    if (old := message.get("migrate_from_chat_id")) is not None:
        return str(old), chat_id
    return None


def _migration(update: Update, message: dict[str, Any], moved: tuple[str, str]) -> Incoming:
    chat = message["chat"]
    sender = message.get("from")
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat["id"]),
        user_id=str(sender["id"] if sender is not None else chat["id"]),
        update_id=str(update["update_id"]),
        in_group=True,
        event="migrated",
        moved=moved,
    )


def _from_member_update(update: Update, changed: dict[str, Any]) -> Incoming | None:
    """Translate a change of the bot's own membership of a chat into a chat event."""
    chat = changed["chat"]
    new = changed["new_chat_member"]
    present = new["status"] in ("creator", "administrator", "member") or (
        new["status"] == "restricted" and bool(new.get("is_member"))
    )
    event: ChatEvent
    if chat["type"] == "private":
        event = "unblocked" if present else "blocked"
    elif chat["type"] in GROUP_TYPES:
        event = "added" if present else "removed"
    else:
        return None  # a channel: the bot has nothing to do there
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat["id"]),
        user_id=str(changed["from"]["id"]),
        update_id=str(update["update_id"]),
        in_group=chat["type"] in GROUP_TYPES,
        event=event,
    )


def _from_message(
    update: Update, message: dict[str, Any], bot_username: str, *, edited: bool = False
) -> Incoming | None:
    sender = message.get("from")
    if sender is None or sender.get("is_bot"):
        return None
    chat = message["chat"]
    in_group = chat["type"] in GROUP_TYPES
    if in_group and edited:
        return None  # a group command was answered already; its edit asks nothing new
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
        sent_ref=None if message.get("message_id") is None else str(message["message_id"]),
        edited=edited,
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
    query_id = query.get("id") if isinstance(query, dict) else None
    return query_id if isinstance(query_id, str) else None


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
    """Render a reply as HTML message pieces; the buttons go on the last piece, the options
    first and the links after them."""
    text = catalogs.render(reply.text, language, escape_html)
    pieces = split_text(text)
    rows = [[Button(catalogs.render(o.label, language), o.value)] for o in reply.options]
    rows += [
        [Button(catalogs.render(link.label, language), url=link.url, start=link.start)]
        for link in reply.links
    ]
    keyboard = rows or None
    return [(piece, keyboard if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]


def has_callbacks(keyboard: Keyboard | None) -> bool:
    """Tell whether a keyboard has buttons that answer the bot (not only links)."""
    return bool(keyboard) and any(b.data is not None for row in keyboard or () for b in row)
