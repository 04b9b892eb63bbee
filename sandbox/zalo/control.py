"""The Zalo face's control API under /zalo/control/: tests act as users (sandbox.zalo.users),
read what the bot did and sent, inject failures, change limits and reset."""

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.control_wire import (
    ControlError,
    add_limits_routes,
    flag,
    integer,
    ok,
    read_body,
    refuse,
)
from sandbox.webhook import WebhookDeliverer
from sandbox.zalo import users
from sandbox.zalo.api import ZALO
from sandbox.zalo.records import PRIVATE, ZaloErrorRule
from sandbox.zalo.users import Control

ZALO_WEBHOOKS = web.AppKey("zalo_webhooks", WebhookDeliverer)


async def messages(ctl: Control) -> Any:
    """List what the bot sent to a chat, waiting up to `timeout` for `min_count` of them;
    the first `skip` count but are left out."""
    chat_id = str(ctl.body.get("chat_id") or "")
    wanted, skip = integer(ctl.body, "min_count", 0), integer(ctl.body, "skip", 0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(float(ctl.body.get("timeout") or 0), 30.0)
    changed = ctl.bot.sent_event(chat_id)
    while True:
        found = ctl.bot.sent.get(chat_id, [])
        remaining = deadline - loop.time()
        if len(found) >= wanted or remaining <= 0 or ctl.bot.closed:
            return [m.to_control() for m in found[skip:]]
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)


async def photo(ctl: Control) -> Any:
    """Return the bytes the sandbox fetched for a photo the bot sent."""
    message = ctl.bot.sent_by_id.get(str(ctl.body.get("message_id") or ""))
    if message is None or message.photo is None:
        raise ControlError("the bot sent no photo with this message_id", 404)
    return {"data": base64.b64encode(message.photo).decode()}


async def start_chats(ctl: Control) -> Any:
    """Let users `first_user_id` … + `count` - 1 (ids as strings) have written to the bot
    before: the bot may send to them; no update is queued."""
    first, count = integer(ctl.body, "first_user_id"), integer(ctl.body, "count")
    if first <= 0 or not 0 <= count <= 1_000_000:
        raise ControlError("first_user_id must be positive and count at most 1000000")
    for user_id in range(first, first + count):
        ctl.bot.chats[str(user_id)] = PRIVATE
    return count


async def deliveries(ctl: Control) -> Any:
    """Count the bot's messages to each of `count` users from `first_user_id` on, and say
    when the first and the last of them were accepted (monotonic seconds)."""
    first, count = integer(ctl.body, "first_user_id"), integer(ctl.body, "count")
    sent = [ctl.bot.sent.get(str(user_id), []) for user_id in range(first, first + count)]
    times = [message.at for chat in sent for message in chat]
    return {
        "counts": [len(chat) for chat in sent],
        "first_at": min(times, default=None),
        "last_at": max(times, default=None),
    }


async def calls(ctl: Control) -> Any:
    """List the bot's Bot API calls, optionally of one method."""
    method = str(ctl.body.get("method") or "")
    return [
        call.to_json()
        for call in ctl.world.calls
        if call.bot_id == ctl.bot.id and (not method or call.method == method)
    ]


async def pending_updates(ctl: Control) -> Any:
    """List the updates queued for getUpdates or the webhook, not taken yet."""
    return list(ctl.bot.updates)


async def inject_error(ctl: Control) -> Any:
    """Make the next `count` calls, a `ratio` of calls, or every call of a method fail."""
    code = integer(ctl.body, "code")
    if not 400 <= code <= 599:
        raise ControlError("code must be an HTTP error status")
    ratio = ctl.body.get("ratio")
    if ratio is not None and not (isinstance(ratio, int | float) and 0 <= ratio <= 1):
        raise ControlError("ratio must be between 0 and 1")
    rule = ZaloErrorRule(
        method=str(ctl.body.get("method") or "*").lower(),
        code=code,
        description=ctl.body.get("description"),
        count=integer(ctl.body, "count", None),
        ratio=float(ratio) if ratio is not None else None,
        http=flag(ctl.body, "http"),
        string_code=flag(ctl.body, "string_code"),
        html=flag(ctl.body, "html"),
        drop=flag(ctl.body, "drop"),
    )
    ctl.bot.error_rules.append(rule)
    return True


async def clear_errors(ctl: Control) -> Any:
    """Remove every injected failure of the bot."""
    ctl.bot.error_rules.clear()
    return True


async def options(ctl: Control) -> Any:
    """Read or change the bot's switches: `bare_webhook` posts updates unwrapped;
    `self_echo` sends each of the bot's messages back to it as an update."""
    if "bare_webhook" in ctl.body:
        ctl.bot.bare_webhook = flag(ctl.body, "bare_webhook")
    if "self_echo" in ctl.body:
        ctl.bot.self_echo = flag(ctl.body, "self_echo")
    return {"bare_webhook": ctl.bot.bare_webhook, "self_echo": ctl.bot.self_echo}


Action = Callable[[Control], Awaitable[Any]]
ACTIONS: dict[str, tuple[str, Action]] = {
    "send_text": ("POST", users.send_text),
    "send_photo": ("POST", users.send_photo),
    "send_sticker": ("POST", users.send_sticker),
    "send_voice": ("POST", users.send_voice),
    "send_unsupported": ("POST", users.send_unsupported),
    "redeliver": ("POST", users.redeliver),
    "expire_file": ("POST", users.expire_file),
    "start_chats": ("POST", start_chats),
    "errors": ("POST", inject_error),
    "clear_errors": ("POST", clear_errors),
    "options": ("POST", options),
    "messages": ("GET", messages),
    "photo": ("GET", photo),
    "deliveries": ("GET", deliveries),
    "calls": ("GET", calls),
    "updates": ("GET", pending_updates),
}


async def reset(request: web.Request) -> web.Response:
    """Forget every bot, user, file and call of the Zalo face; stop webhook deliveries."""
    await request.app[ZALO_WEBHOOKS].stop_all()
    request.app[ZALO].reset()
    return ok(True)


def add_routes(app: web.Application) -> None:
    """Register the control routes (the app is mounted under /zalo)."""
    for name, (verb, action) in ACTIONS.items():
        app.router.add_route(verb, f"/control/{name}", _route(action))
    app.router.add_get("/control/options", _route(options))
    add_limits_routes(app, lambda request: request.app[ZALO].limits)
    app.router.add_post("/control/reset", reset)


def _route(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        world = request.app[ZALO]
        try:
            body = await read_body(request)
            bot = world.bot_for_token(str(body.get("token", "")))
            if bot is None:
                raise ControlError("token is missing or malformed", 401)
            origin = str(request.url.origin())
            return ok(await action(Control(world, bot, body, origin)))
        except ControlError as exc:
            return refuse(exc)

    handle.__doc__ = action.__doc__
    return handle
