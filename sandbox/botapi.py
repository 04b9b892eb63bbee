"""The Bot API routes: /bot{token}/{method} and file downloads at /file/bot{token}/{path}."""

import logging
import re
from typing import Any

from aiohttp import web

from sandbox.control_wire import dumps
from sandbox.errors import ApiError, bad_request
from sandbox.messaging import METHODS as MESSAGING_METHODS
from sandbox.messaging import Handler
from sandbox.params import Params, read_params
from sandbox.state import BotState, World

log = logging.getLogger(__name__)

WORLD = web.AppKey("world", World)
COMMAND_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


async def get_me(world: World, bot: BotState, params: Params) -> Any:
    """Return the bot's own user."""
    return bot.get_me()


async def get_updates(world: World, bot: BotState, params: Params) -> Any:
    """Confirm updates before offset, then return pending ones, long-polling up to timeout."""
    if bot.webhook.url:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
    _subscribe(bot, params)
    offset = params.integer("offset")
    if offset is not None:
        bot.confirm(offset)
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = min(max(params.number("timeout") or 0.0, 0.0), world.long_poll_max)
    bot.poll_generation += 1
    bot.wake()  # an older long poll still waiting is answered 409, as Telegram does
    await bot.wait_for_updates(timeout, generation=bot.poll_generation)
    if bot.webhook.url:
        return []
    return bot.updates[:limit]


async def set_webhook(world: World, bot: BotState, params: Params) -> Any:
    """Set (or, with an empty url, remove) the webhook and start pushing updates to it."""
    url = params.text("url") or ""
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: HTTPS url must be provided for webhook")
    _subscribe(bot, params)
    if params.flag("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook.url = url
    bot.webhook.secret_token = params.text("secret_token") or None
    bot.webhook.max_connections = params.integer("max_connections") or 40
    bot.webhook.last_error_date = bot.webhook.last_error_message = None
    world.on_webhook_change(bot)
    return True


def _subscribe(bot: BotState, params: Params) -> None:
    """Keep the kinds of update the bot asks for; without the parameter, the last ones."""
    kinds = params.json("allowed_updates")
    if kinds is None:
        return
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise bad_request("can't parse allowed updates")
    bot.allowed_updates = frozenset(kinds) or None  # an empty list: the default kinds


async def delete_webhook(world: World, bot: BotState, params: Params) -> Any:
    """Remove the webhook; pending updates stay for getUpdates unless dropped."""
    if params.flag("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook.url = ""
    bot.webhook.secret_token = None
    world.on_webhook_change(bot)
    return True


async def get_webhook_info(world: World, bot: BotState, params: Params) -> Any:
    """Describe the webhook and how many updates wait for delivery."""
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


async def get_file(world: World, bot: BotState, params: Params) -> Any:
    """Return the File object whose file_path the download route serves."""
    stored = world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()


async def set_my_commands(world: World, bot: BotState, params: Params) -> Any:
    """Store the command list for a scope and language."""
    commands = params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not COMMAND_PATTERN.match(
            str(command.get("command", ""))
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    bot.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(world: World, bot: BotState, params: Params) -> Any:
    """Return the commands stored for a scope and language."""
    return bot.commands.get(_commands_key(params), [])


async def delete_my_commands(world: World, bot: BotState, params: Params) -> Any:
    """Forget the commands stored for a scope and language."""
    bot.commands.pop(_commands_key(params), None)
    return True


def _commands_key(params: Params) -> str:
    scope = params.json("scope")
    scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return f"{scope_type}:{params.text('language_code') or ''}"


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getFile": get_file,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    **MESSAGING_METHODS,
}
_BY_LOWER = {name.lower(): name for name in METHODS}


class HtmlPage(str):
    """A body that is a proxy's HTML page rather than the Bot API's JSON."""


async def execute(world: World, bot: BotState, method: str, params: Params) -> tuple[int, Any]:
    """Run one Bot API call and log it; return the HTTP status and JSON body."""
    name = _BY_LOWER.get(method.lower())
    chat_id = _chat_id(params)
    error: ApiError | None = None
    result: Any = None
    if name is None:
        error = NOT_FOUND
    else:
        try:
            error = world.injected_error(bot, name)
            if error is None:
                result = await METHODS[name](world, bot, params)
        except ApiError as exc:
            error = exc
    world.log_call(bot, name or method, chat_id, error)
    if error is not None:
        log.debug("bot %s: %s answered %s", bot.id, name or method, error.code)
        return error.code, HtmlPage(error.page()) if error.html else error.to_json()
    return 200, {"ok": True, "result": result}


async def handle_method(request: web.Request) -> web.Response:
    """Answer a Bot API call in any of the encodings real clients use."""
    world = request.app[WORLD]
    bot = world.bot_for_token(request.match_info["token"])
    if bot is None:
        return web.json_response(UNAUTHORIZED.to_json(), status=401)
    try:
        params = await read_params(request)
    except ApiError as exc:
        return web.json_response(exc.to_json(), status=exc.code)
    status, body = await execute(world, bot, request.match_info["method"], params)
    if isinstance(body, HtmlPage):
        return web.Response(status=status, text=body, content_type="text/html")
    return web.json_response(body, status=status, dumps=dumps)


async def handle_file(request: web.Request) -> web.Response:
    """Serve a stored file's bytes at the path getFile returned."""
    world = request.app[WORLD]
    if world.bot_for_token(request.match_info["token"]) is None:
        return web.json_response(UNAUTHORIZED.to_json(), status=401)
    stored = world.file_by_path(request.match_info["path"])
    if stored is None:
        return web.json_response(NOT_FOUND.to_json(), status=404)
    return web.Response(body=stored.data, content_type=stored.mime_type)


def add_routes(app: web.Application) -> None:
    """Register the Bot API and file routes."""
    app.router.add_route("*", r"/bot{token}/{method}", handle_method)
    app.router.add_get(r"/file/bot{token}/{path:.+}", handle_file)


def _chat_id(params: Params) -> int | None:
    try:
        return params.integer("chat_id")
    except ApiError:
        return None
