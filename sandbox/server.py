"""Build and run the sandbox: the Bot API emulator and its control API in one aiohttp app,
with the Zalo face (sandbox.zalo) mounted under /zalo."""

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from aiohttp import web

from sandbox import botapi, control
from sandbox.limits import Limits
from sandbox.params import Params
from sandbox.state import BotState, World
from sandbox.webhook import WebhookDeliverer
from sandbox.zalo.app import build_face
from sandbox.zalo.records import ZaloLimits

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass
class SandboxConfig:
    """Limits and timings of the sandbox (a rate limit of 0 is switched off)."""

    limits: Limits = field(default_factory=Limits)
    zalo_limits: ZaloLimits = field(default_factory=ZaloLimits)
    webhook_first_delay: float = 0.2
    webhook_max_delay: float = 5.0
    webhook_timeout: float = 10.0
    long_poll_max: float = 50.0
    seed: int | None = None


def build_app(
    settings: SandboxConfig | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> web.Application:
    """Assemble the world, webhook delivery and routes into an application."""
    settings = settings or SandboxConfig()
    world = World(replace(settings.limits), clock=clock, wall_clock=wall_clock, seed=settings.seed)
    world.long_poll_max = settings.long_poll_max
    webhooks = WebhookDeliverer(
        world.now,
        first_delay=settings.webhook_first_delay,
        max_delay=settings.webhook_max_delay,
        timeout=settings.webhook_timeout,
    )

    async def reply(bot: BotState, method: str, params: Params) -> object:
        return await botapi.execute(world, bot, method, params)

    webhooks.on_reply = reply
    world.on_webhook_change = webhooks.sync

    async def shutdown(app: web.Application) -> None:
        world.close()  # answer pending long polls now, not after the shutdown timeout
        await webhooks.close()

    app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
    app[botapi.WORLD] = world
    app[control.WEBHOOKS] = webhooks
    app.on_shutdown.append(shutdown)
    botapi.add_routes(app)
    control.add_routes(app)
    zalo = build_face(
        replace(settings.zalo_limits),
        clock=clock,
        wall_clock=wall_clock,
        seed=settings.seed,
        long_poll_max=settings.long_poll_max,
        webhook_first_delay=settings.webhook_first_delay,
        webhook_max_delay=settings.webhook_max_delay,
        webhook_timeout=settings.webhook_timeout,
    )
    app.add_subapp("/zalo", zalo)
    return app


@asynccontextmanager
async def running(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Run the sandbox while the block runs; yield its base URL (port 0 picks a free port)."""
    runner = web.AppRunner(build_app(config), shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        yield f"http://{host}:{bound}"
    finally:
        await runner.cleanup()


async def keep_records_out_of_collections(every: float = 1.0) -> None:
    """Keep full garbage collections short in a sandbox process, until cancelled.

    The sandbox keeps every message and call it saw, so each full collection walks more
    of them: pauses of 0.6 s after 100,000 messages, which a bot would see as Telegram
    stalling. Every second, what survives a young collection leaves the collector's
    sight (it is kept for good anyway). Only for a process that runs just the sandbox.
    """
    while True:
        await asyncio.sleep(every)
        gc.collect(1)
        gc.freeze()


async def serve(
    host: str = "127.0.0.1",
    port: int = 8081,
    config: SandboxConfig | None = None,
    *,
    own_process: bool = False,
    zalo: bool = False,
) -> None:
    """Serve the sandbox until cancelled (`own_process`: nothing else runs in it; `zalo`:
    the log line names the Zalo face's base URL too, which is served either way)."""
    async with running(config, host, port) as base_url:
        zalo_part = f", Zalo Bot API at {base_url}/zalo/bot<token>/" if zalo else ""
        log.info(
            "Telegram sandbox listening on %s (Bot API at %s/bot<token>/%s)",
            base_url,
            base_url,
            zalo_part,
        )
        if own_process:
            await keep_records_out_of_collections()
        await asyncio.Event().wait()
