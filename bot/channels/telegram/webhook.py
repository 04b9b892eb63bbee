"""The webhook server: Telegram posts updates here, with the secret it was given."""

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.telegram.convert import MalformedUpdate, Update, check

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(
    path: str, secret: str, receive: Callable[[Update], Awaitable[None]]
) -> web.Application:
    """Build the webhook server: a wrong or missing secret token gets 401.

    It answers 200 only after `receive` returned (the update is stored), so Telegram
    redelivers whatever a crash interrupted. A malformed update (see `check`) is logged
    and answered 200 without reaching `receive`: Telegram would redeliver it forever.
    """

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("webhook call with a wrong secret token refused")
            return web.Response(status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        try:
            update = check(body)
        except MalformedUpdate as error:
            logger.warning("webhook dropped a malformed update: %s", error)
            return web.Response(status=200)
        await receive(update)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(path, handle)
    return app
