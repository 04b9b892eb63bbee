"""The control API under /control/: tests act as Telegram users and read what the bots did."""

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox import users
from sandbox.botapi import WORLD
from sandbox.control_wire import (
    Body,
    ControlError,
    add_limits_routes,
    integer,
    ok,
    read_body,
    refuse,
)
from sandbox.records import ErrorRule
from sandbox.state import BotState, World
from sandbox.webhook import WebhookDeliverer

WEBHOOKS = web.AppKey("webhooks", WebhookDeliverer)
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


async def messages(world: World, bot: BotState, body: Body) -> Any:
    """List what the bot sent to a chat, waiting up to timeout for at least min_count.

    With `skip`, the first `skip` of them are counted but left out of the answer.
    """
    chat_id = integer(body, "chat_id")
    wanted = integer(body, "min_count", 0)
    skip = integer(body, "skip", 0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(float(body.get("timeout") or 0), 30.0)
    include_user = str(body.get("include_user", "")).lower() in ("1", "true")
    changed = bot.outbox_event(chat_id)
    while True:
        # Message ids grow with insertion, so the chat's dict is already in order.
        found = [m for m in bot.messages.get(chat_id, {}).values() if m.from_bot or include_user]
        remaining = deadline - loop.time()
        if len(found) >= wanted or remaining <= 0 or bot.closed:
            return [m.to_control() for m in found[skip:]]
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)


async def start_chats(world: World, bot: BotState, body: Body) -> Any:
    """Let `count` users from `first_user_id` on have started the bot earlier, at once.

    Their private chats exist and the bot may write to them; no update is queued.
    """
    first, count = integer(body, "first_user_id"), integer(body, "count")
    if first <= 0 or not 0 <= count <= 1_000_000:
        raise ControlError("first_user_id must be positive and count at most 1000000")
    for user_id in range(first, first + count):
        world.chat_for(user_id, "private", world.remember_user(user_id))
        bot.known_chats.add(user_id)
    return count


async def deliveries(world: World, bot: BotState, body: Body) -> Any:
    """Count the bot's messages in the private chats of `count` users from `first_user_id`
    on, and say when the first and the last of them were accepted (monotonic seconds)."""
    first, count = integer(body, "first_user_id"), integer(body, "count")
    last = first + count
    counts = [
        sum(m.from_bot for m in bot.messages.get(user_id, {}).values())
        for user_id in range(first, last)
    ]
    times = [
        c.at
        for c in world.calls
        if c.ok and c.bot_id == bot.id and c.method in SENDS and first <= (c.chat_id or 0) < last
    ]
    return {
        "counts": counts,
        "first_at": min(times, default=None),
        "last_at": max(times, default=None),
    }


async def calls(world: World, bot: BotState, body: Body) -> Any:
    """List the bot's Bot API calls, optionally of one method."""
    method = str(body.get("method") or "").lower()
    return [
        c.to_json()
        for c in world.calls
        if c.bot_id == bot.id and (not method or c.method.lower() == method)
    ]


async def inject_error(world: World, bot: BotState, body: Body) -> Any:
    """Make the next count calls, a ratio of calls, or all calls of a method fail."""
    code = integer(body, "code")
    if not 400 <= code <= 599:
        raise ControlError("code must be an HTTP error status")
    ratio = body.get("ratio")
    if ratio is not None and not (isinstance(ratio, int | float) and 0 <= ratio <= 1):
        raise ControlError("ratio must be between 0 and 1")
    rule = ErrorRule(
        method=str(body.get("method") or "*").lower(),
        code=code,
        description=body.get("description"),
        retry_after=integer(body, "retry_after", 1),
        count=integer(body, "count", None),
        ratio=float(ratio) if ratio is not None else None,
        html=body.get("html") is True,
    )
    bot.error_rules.append(rule)
    return rule.to_json()


async def clear_errors(world: World, bot: BotState, body: Body) -> Any:
    """Remove every injected error of the bot."""
    bot.error_rules.clear()
    return True


async def pending_updates(world: World, bot: BotState, body: Body) -> Any:
    """List the updates not yet confirmed or delivered."""
    return list(bot.updates)


async def callback_answer(world: World, bot: BotState, body: Body) -> Any:
    """Return the bot's answer to a callback query, or null if it did not answer."""
    record = bot.callbacks.get(str(body.get("callback_query_id", "")))
    if record is None:
        raise ControlError("callback query not found", 404)
    return record.answer


async def commands(world: World, bot: BotState, body: Body) -> Any:
    """Return the stored command lists, keyed "scope:language_code"."""
    return bot.commands


async def file_content(world: World, bot: BotState, body: Body) -> Any:
    """Return a stored file with its bytes in base64."""
    stored = world.files.get(str(body.get("file_id", "")))
    if stored is None:
        raise ControlError("file not found", 404)
    data = base64.b64encode(stored.data).decode()
    return {
        "file_id": stored.file_id,
        "name": stored.name,
        "mime_type": stored.mime_type,
        "data": data,
    }


BotAction = Callable[[World, BotState, Body], Awaitable[Any]]
BOT_ACTIONS: dict[str, tuple[str, BotAction]] = {
    "send_text": ("POST", users.send_text),
    "edit_text": ("POST", users.edit_text),
    "send_photo": ("POST", users.send_photo),
    "send_document": ("POST", users.send_document),
    "press": ("POST", users.press),
    "block": ("POST", users.block),
    "unblock": ("POST", users.unblock),
    "remove_bot": ("POST", users.remove_bot),
    "add_bot": ("POST", users.add_bot),
    "migrate_group": ("POST", users.migrate_group),
    "errors": ("POST", inject_error),
    "clear_errors": ("POST", clear_errors),
    "start_chats": ("POST", start_chats),
    "messages": ("GET", messages),
    "deliveries": ("GET", deliveries),
    "calls": ("GET", calls),
    "updates": ("GET", pending_updates),
    "callback_answer": ("GET", callback_answer),
    "commands": ("GET", commands),
    "file": ("GET", file_content),
}


async def reset(request: web.Request) -> web.Response:
    """Forget everything: bots, users, chats, files, calls; stop webhook deliveries."""
    await request.app[WEBHOOKS].stop_all()
    request.app[WORLD].reset()
    return ok(True)


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    for name, (method, action) in BOT_ACTIONS.items():
        app.router.add_route(method, f"/control/{name}", _bot_route(action))
    add_limits_routes(app, lambda request: request.app[WORLD].limits)
    app.router.add_post("/control/reset", reset)


def _bot_route(action: BotAction) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        world = request.app[WORLD]
        try:
            body = await read_body(request)
            bot = world.bot_for_token(str(body.get("token", "")))
            if bot is None:
                raise ControlError("token is missing or malformed", 401)
            return ok(await action(world, bot, body))
        except ControlError as exc:
            return refuse(exc)

    handle.__doc__ = action.__doc__
    return handle
