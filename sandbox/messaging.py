"""Bot API methods that send, edit and delete messages, and answer button presses."""

import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.formatting import render
from sandbox.limits import check_caption, check_reply_markup, check_text
from sandbox.params import Params, Upload
from sandbox.records import ChatRecord, MessageRecord, StoredFile
from sandbox.state import BotState, World

Handler = Callable[[World, BotState, Params], Awaitable[Any]]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
OUT_OF_GROUP = {
    "kicked": "Forbidden: bot was kicked from the group chat",
    "left": "Forbidden: bot is not a member of the group chat",
}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


async def send_message(world: World, bot: BotState, params: Params) -> Any:
    """Send a text message, validating HTML, length and keyboard like Telegram."""
    chat = _target_chat(world, bot, params)
    text = params.text("text") or ""
    parse_mode = params.text("parse_mode")
    rendered = render(text, parse_mode)
    check_text(rendered.text, world.limits)
    markup = _markup(world, params)
    world.rate.acquire(world.limits, bot_id=bot.id, chat_id=chat.id, chat_type=chat.type)
    message = _record(world, bot, chat, text=text, parse_mode=parse_mode, reply_markup=markup)
    message.plain_text, message.entities = rendered.text, rendered.entities
    return message.to_api()


async def send_photo(world: World, bot: BotState, params: Params) -> Any:
    """Send a photo from an upload, a known file_id or a URL."""
    return _send_media(world, bot, params, "photo")


async def send_document(world: World, bot: BotState, params: Params) -> Any:
    """Send a document from an upload, a known file_id or a URL."""
    return _send_media(world, bot, params, "document")


def _send_media(world: World, bot: BotState, params: Params, kind: str) -> Any:
    chat = _target_chat(world, bot, params)
    stored = _input_file(world, params.file(kind), kind)
    caption = params.text("caption")
    parse_mode = params.text("parse_mode")
    rendered = render(caption or "", parse_mode)
    check_caption(rendered.text, world.limits)
    markup = _markup(world, params)
    world.rate.acquire(world.limits, bot_id=bot.id, chat_id=chat.id, chat_type=chat.type)
    message = _record(
        world, bot, chat, caption=caption, parse_mode=parse_mode, reply_markup=markup
    )
    if caption:
        message.plain_text, message.entities = rendered.text, rendered.entities
    if kind == "photo":
        message.photo = stored
    else:
        message.document = stored
    return message.to_api()


async def edit_message_text(world: World, bot: BotState, params: Params) -> Any:
    """Replace a bot message's text and keyboard, keeping the old version in its history."""
    message = _editable(world, bot, params)
    if message.photo is not None or message.document is not None:
        raise bad_request("there is no text in the message to edit")
    text = params.text("text") or ""
    parse_mode = params.text("parse_mode")
    rendered = render(text, parse_mode)
    check_text(rendered.text, world.limits)
    markup = _markup(world, params)
    same = (rendered.text, rendered.entities, markup)
    if same == (message.plain_text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    _keep_history(world, bot, message)
    message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
    message.plain_text, message.entities = rendered.text, rendered.entities
    return message.to_api()


async def edit_message_caption(world: World, bot: BotState, params: Params) -> Any:
    """Replace a media message's caption and keyboard."""
    message = _editable(world, bot, params)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption = params.text("caption") or ""
    parse_mode = params.text("parse_mode")
    rendered = render(caption, parse_mode)
    check_caption(rendered.text, world.limits)
    markup = _markup(world, params)
    if (rendered.text or None, markup) == (message.plain_text, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    _keep_history(world, bot, message)
    message.caption, message.parse_mode, message.reply_markup = caption, parse_mode, markup
    message.plain_text, message.entities = rendered.text or None, rendered.entities
    return message.to_api()


async def edit_message_reply_markup(world: World, bot: BotState, params: Params) -> Any:
    """Replace (or remove) a bot message's inline keyboard."""
    message = _editable(world, bot, params)
    markup = _markup(world, params)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    _keep_history(world, bot, message)
    message.reply_markup = markup
    return message.to_api()


async def delete_message(world: World, bot: BotState, params: Params) -> Any:
    """Mark a message deleted; the control API still shows it, flagged."""
    chat_id = params.required_int("chat_id")
    message = bot.find_message(chat_id, params.required_int("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    bot.outbox_changed(chat_id)
    return True


async def answer_callback_query(world: World, bot: BotState, params: Params) -> Any:
    """Record the bot's answer to a button press; each query is answered at most once."""
    query = bot.callbacks.get(params.text("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query.answer = {
        "text": params.text("text"),
        "show_alert": params.flag("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time") or 0,
    }
    return True


async def send_chat_action(world: World, bot: BotState, params: Params) -> Any:
    """Accept a chat action such as "typing"; it is only logged."""
    _target_chat(world, bot, params)
    if params.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _target_chat(world: World, bot: BotState, params: Params) -> ChatRecord:
    raw = params.text("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    if raw.startswith("@"):
        raise bad_request("chat not found")
    chat_id = params.required_int("chat_id")
    chat = world.chats.get(chat_id)
    if chat is None or chat_id not in bot.known_chats:
        raise bad_request("chat not found")
    if chat.type == "private" and chat_id in bot.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=chat.migrated_to,
        )
    if (gone := bot.out_of_groups.get(chat_id)) is not None:
        raise ApiError(403, OUT_OF_GROUP[gone])
    return chat


def _editable(world: World, bot: BotState, params: Params) -> MessageRecord:
    if params.text("inline_message_id"):
        raise bad_request("inline messages are not supported by the sandbox")
    chat = _target_chat(world, bot, params)
    message = bot.find_message(chat.id, params.required_int("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _markup(world: World, params: Params) -> dict[str, Any] | None:
    markup = params.json("reply_markup")
    check_reply_markup(markup, world.limits)
    return markup if isinstance(markup, dict) else None


def _input_file(world: World, given: Upload | str | None, kind: str) -> StoredFile:
    if isinstance(given, Upload):
        mime = given.content_type
        if mime == "application/octet-stream":
            mime = mimetypes.guess_type(given.filename)[0] or mime
        return world.store_file(given.data, name=given.filename, mime_type=mime, kind=kind)
    if given is None:
        raise bad_request(f"there is no {kind} in the request")
    if given in world.files:
        return world.files[given]
    if given.startswith(("http://", "https://")):
        name = given.rstrip("/").rsplit("/", 1)[-1] or "file"
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return world.store_file(b"", name=name, mime_type=mime, kind=kind)
    raise bad_request("wrong file identifier/HTTP URL specified")


def _record(world: World, bot: BotState, chat: ChatRecord, **fields: Any) -> MessageRecord:
    message = MessageRecord(
        message_id=bot.next_message_id(chat.id),
        chat=chat,
        sender=bot.user,
        date=world.now(),
        from_bot=True,
        **fields,
    )
    bot.messages.setdefault(chat.id, {})[message.message_id] = message
    bot.outbox_changed(chat.id)
    return message


def _keep_history(world: World, bot: BotState, message: MessageRecord) -> None:
    message.history.append(message.snapshot())
    message.edit_date = world.now()
    bot.outbox_changed(message.chat.id)


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
