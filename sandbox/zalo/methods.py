"""The Zalo Bot Platform methods, with the answers and refusals docs/zalo.md describes."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.errors import ApiError
from sandbox.params import Params
from sandbox.zalo.records import GROUP, ZaloMessage
from sandbox.zalo.state import ZaloBot, ZaloWorld

Method = Callable[[ZaloWorld, ZaloBot, Params], Awaitable[Any]]
NO_RESULT = object()  # sendChatAction answers {"ok": true} with no "result" at all
TIMEOUT = ApiError(408, "Request timeout")


def bad_request(detail: str) -> ApiError:
    """Build a 400 refusal."""
    return ApiError(400, detail)


async def get_me(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Return the bot's account."""
    return bot.get_me()


async def get_updates(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Answer one update, taking it off the queue, or 408 after `timeout` seconds.

    There is no offset: an answer the client never reads is an update lost, and a poll
    the client gave up on still takes the next update when it comes, as on Zalo.
    """
    if bot.webhook.url:
        raise bad_request("Webhook is active: call deleteWebhook before getUpdates")
    given = params.number("timeout")
    timeout = min(max(30.0 if given is None else given, 0.0), world.long_poll_max)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.updates:
        remaining = deadline - loop.time()
        if bot.closed or remaining <= 0:
            raise TIMEOUT
        await bot.wait_for_updates(remaining)
        if bot.webhook.url:
            raise bad_request("Webhook is active: call deleteWebhook before getUpdates")
    return bot.updates.pop(0)


async def set_webhook(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Set the webhook; updates are pushed to it from now on, pending ones first."""
    url = params.text("url") or ""
    if not url.startswith(("http://", "https://")):
        raise bad_request("The url must start with http:// or https://")
    secret = params.text("secret_token") or ""
    if not 8 <= len(secret) <= 256:
        raise bad_request("The secret_token must be 8 to 256 characters")
    bot.webhook.url, bot.webhook.secret_token = url, secret
    bot.webhook.last_error_date = bot.webhook.last_error_message = None
    bot.webhook_updated_at = world.now_ms()
    world.on_webhook_change(bot)
    return {"url": url, "updated_at": bot.webhook_updated_at}


async def delete_webhook(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Remove the webhook; pending updates wait for getUpdates."""
    bot.webhook.url, bot.webhook.secret_token = "", None
    bot.webhook_updated_at = world.now_ms()
    world.on_webhook_change(bot)
    return {"url": "", "updated_at": bot.webhook_updated_at}


async def get_webhook_info(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Return the webhook's url ("" when none) and when it last changed; never the secret."""
    return {"url": bot.webhook.url, "updated_at": bot.webhook_updated_at}


async def send_message(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Send a text of 1 to max_text UTF-16 units; markup is recorded, not rendered."""
    chat_id = _chat(bot, params)
    text = params.text("text") or ""
    _check_length("text", text, world, required=True)
    world.acquire(bot, chat_id)
    message = _message(world, chat_id, text=text, parse_mode=params.text("parse_mode"))
    message.text_styles = params.json("text_styles")
    bot.record(message)
    return _sent(message)


async def send_photo(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Send a photo from a URL the sandbox fetches now, as Zalo does, with a caption."""
    chat_id = _chat(bot, params)
    url = params.text("photo") or ""
    if not url:
        raise bad_request("The photo must not be empty")
    if not url.startswith(("http://", "https://")):
        raise bad_request("The photo must start with http:// or https://")
    caption = params.text("caption") or None
    _check_length("caption", caption or "", world, required=False)
    data = await world.fetch(url)
    if data is None:
        raise bad_request("The photo URL is invalid")
    world.acquire(bot, chat_id)
    message = _message(world, chat_id, caption=caption, photo_url=url, photo=data)
    bot.record(message)
    return _sent(message)


async def send_sticker(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Send a sticker by its id."""
    chat_id = _chat(bot, params)
    sticker = params.text("sticker") or ""
    if not sticker:
        raise bad_request("The sticker must not be empty")
    world.acquire(bot, chat_id)
    message = _message(world, chat_id, sticker=sticker)
    bot.record(message)
    return _sent(message)


async def send_voice(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Send a voice note from an .aac URL; to a group it "succeeds" and is not delivered."""
    chat_id = _chat(bot, params)
    url = params.text("voice_url") or ""
    if not url.startswith(("http://", "https://")) or not url.split("?")[0].endswith(".aac"):
        raise bad_request("The voice_url must be an http(s) URL of an .aac file")
    world.acquire(bot, chat_id)
    message = _message(world, chat_id, voice_url=url)
    if bot.chats[chat_id] != GROUP:
        bot.record(message)
    return _sent(message)


async def send_chat_action(world: ZaloWorld, bot: ZaloBot, params: Params) -> Any:
    """Accept "typing", the only action Zalo has; answered with no result."""
    _chat(bot, params)
    if params.text("action") != "typing":
        raise bad_request("The action is invalid")
    return NO_RESULT


def _chat(bot: ZaloBot, params: Params) -> str:
    """Return the chat id a send names: one the bot has seen (Zalo's ids are strings)."""
    chat_id = params.text("chat_id") or ""
    if not chat_id:
        raise bad_request("The chat_id must not be empty")
    if chat_id not in bot.chats:
        raise bad_request("The chat_id is invalid")
    return chat_id


def _check_length(name: str, text: str, world: ZaloWorld, *, required: bool) -> None:
    """Refuse a text or caption longer than max_text UTF-16 code units (or empty text)."""
    units = len(text.encode("utf-16-le")) // 2
    if units > world.limits.max_text or (required and not text):
        raise bad_request(f"The {name} must be 1 to {world.limits.max_text} characters")


def _message(world: ZaloWorld, chat_id: str, **fields: Any) -> ZaloMessage:
    return ZaloMessage(world.new_id(), chat_id, world.now_ms(), world.clock(), **fields)


def _sent(message: ZaloMessage) -> dict[str, Any]:
    return {"message_id": message.message_id, "date": message.date}


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendSticker": send_sticker,
    "sendVoice": send_voice,
    "sendChatAction": send_chat_action,
}
