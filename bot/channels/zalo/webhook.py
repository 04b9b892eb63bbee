"""The webhook server: Zalo posts each update here, with the secret it was given."""

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.zalo.api import Update
from bot.channels.zalo.convert import unwrap

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Bot-Api-Secret-Token"


def webhook_app(
    path: str, secret: str, receive: Callable[[list[Update]], Awaitable[None]]
) -> web.Application:
    """Build the webhook server: a wrong or missing secret gets 401.

    It answers 200 only after `receive` returned (the update is committed), so a crash
    before that leaves Zalo's call unanswered. A body with no update in it is answered
    200 without reaching `receive`: redelivering it would change nothing.
    """
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            logger.warning("Zalo webhook call with a wrong secret refused")
            return web.Response(status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        update = unwrap(body)
        if update is None:
            logger.warning("Zalo webhook call without an update ignored")
        else:
            await receive([update])
        return web.json_response({"message": "Success"})

    app = web.Application()
    app.router.add_post(path, handle)
    return app
