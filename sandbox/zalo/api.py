"""The Zalo face's Bot API route, /zalo/bot<TOKEN>/<method>, and how errors are answered:
in an HTTP 200 with `ok: false` (what Zalo does for its 408), or as a test asked."""

import logging
from typing import Any

from aiohttp import web

from sandbox.control_wire import dumps
from sandbox.errors import ApiError
from sandbox.params import Params, read_params
from sandbox.zalo.methods import METHODS, NO_RESULT
from sandbox.zalo.records import ZaloErrorRule
from sandbox.zalo.state import ZaloBot, ZaloWorld

log = logging.getLogger(__name__)

ZALO = web.AppKey("zalo", ZaloWorld)
DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Internal server error",  # sic: Zalo's table says so for 403
    404: "Not Found",
    408: "Request timeout",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
UNAUTHORIZED = ApiError(401, "Unauthorized")
HTML_PAGE = "<html><head><title>{code}</title></head><body><h1>{code} {text}</h1></body></html>"


async def execute(world: ZaloWorld, bot: ZaloBot, method: str, params: Params) -> Any:
    """Run one call (names are case-sensitive; Telegram's are unknown here) and log it.

    Return the result, or raise the ApiError of a refusal or an injected failure.
    """
    code: int | None = None
    try:
        handler = METHODS.get(method)
        if handler is None:
            raise ApiError(400, f"Bad Request: invalid API name {method!r}")
        rule = world.injected(bot, method)
        if rule is not None:
            raise Injected(rule)
        return await handler(world, bot, params)
    except ApiError as exc:
        code = exc.code
        raise
    finally:
        world.log_call(bot, method, params.values, code)


class Injected(ApiError):
    """A failure a test asked for, carrying how it is to be answered."""

    def __init__(self, rule: ZaloErrorRule) -> None:
        super().__init__(rule.code, rule.description or DESCRIPTIONS.get(rule.code, "Error"))
        self.rule = rule


async def handle_method(request: web.Request) -> web.StreamResponse:
    """Answer a Bot API call sent as JSON, a form or a query string."""
    world = request.app[ZALO]
    bot = world.bot_for_token(request.match_info["token"])
    if bot is None:
        return _error(UNAUTHORIZED)
    try:
        params = await read_params(request)
        result = await execute(world, bot, request.match_info["method"], params)
    except Injected as exc:
        return _injected(request, exc)
    except ApiError as exc:
        log.debug("zalo bot %s: %s answered %s", bot.id, request.match_info["method"], exc.code)
        return _error(exc)
    body = {"ok": True} if result is NO_RESULT else {"ok": True, "result": result}
    return web.json_response(body, dumps=dumps)


def _error(error: ApiError, *, status: int = 200, string_code: bool = False) -> web.Response:
    code: int | str = str(error.code) if string_code else error.code
    body = {"ok": False, "error_code": code, "description": error.description}
    return web.json_response(body, status=status, dumps=dumps)


def _injected(request: web.Request, error: Injected) -> web.StreamResponse:
    rule = error.rule
    if rule.drop:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)  # never reaches the client
    if rule.html:
        page = HTML_PAGE.format(code=rule.code, text=DESCRIPTIONS.get(rule.code, "Error"))
        return web.Response(status=rule.code, text=page, content_type="text/html")
    return _error(error, status=rule.code if rule.http else 200, string_code=rule.string_code)
