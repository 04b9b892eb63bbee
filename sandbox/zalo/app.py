"""Assemble the Zalo face: its world, webhook delivery, photo fetching and routes, as an
application the sandbox mounts under /zalo."""

import time
from collections.abc import Callable

from aiohttp import web

from sandbox.webhook import WebhookDeliverer
from sandbox.zalo import control, files
from sandbox.zalo.api import ZALO, handle_method
from sandbox.zalo.records import ZaloLimits
from sandbox.zalo.state import ZaloWorld

SECRET_HEADER = "X-Bot-Api-Secret-Token"


def build_face(
    limits: ZaloLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    seed: int | None = None,
    long_poll_max: float = 50.0,
    webhook_first_delay: float = 0.2,
    webhook_max_delay: float = 5.0,
    webhook_timeout: float = 10.0,
) -> web.Application:
    """Return the Zalo face's application (mount it with `add_subapp("/zalo", ...)`)."""
    world = ZaloWorld(
        limits, clock=clock, wall_clock=wall_clock, seed=seed, long_poll_max=long_poll_max
    )
    webhooks = WebhookDeliverer(
        world.now_s,
        secret_header=SECRET_HEADER,
        first_delay=webhook_first_delay,
        max_delay=webhook_max_delay,
        timeout=webhook_timeout,
    )
    world.on_webhook_change = webhooks.sync
    fetcher = files.Fetcher()
    world.fetch = fetcher.fetch

    async def shutdown(app: web.Application) -> None:
        world.close()  # answer pending long polls now, not after the shutdown timeout
        await webhooks.close()
        await fetcher.close()

    app = web.Application()
    app[ZALO] = world
    app[control.ZALO_WEBHOOKS] = webhooks
    app.on_shutdown.append(shutdown)
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/files/{file_id}", files.serve)
    control.add_routes(app)
    return app
