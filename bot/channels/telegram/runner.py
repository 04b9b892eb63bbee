"""Run the Telegram channel: long polling, or a webhook server."""

import asyncio
import contextlib
import gc
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import CHANNEL
from bot.leader.broadcast_report import Reporter
from bot.leader.lease import Leadership
from bot.leader.outbox import OutboxSender
from bot.leader.scheduler import run_scheduler
from core.messages import Reply

logger = logging.getLogger(__name__)


def build_channel(
    core: Core, driver: str, *, token: str, api_base: str, concurrency: int
) -> TelegramChannel:
    """Build the channel on a TELEGRAM_DRIVER's client; only that client is imported."""
    if driver == "ptb":
        from bot.channels.telegram.ptb_driver import PtbChannel

        return PtbChannel(core, token=token, api_base=api_base, concurrency=concurrency)
    from bot.channels.telegram.aiogram_driver import AiogramChannel

    return AiogramChannel(core, token=token, api_base=api_base, concurrency=concurrency)


async def run_telegram(
    core: Core, *, token: str, webhook_url: str | None, secret: str | None, listen: str
) -> None:
    """Serve Telegram until SIGTERM or Ctrl+C; the inbox makes stopping at any time safe."""
    settings = core.settings
    channel = build_channel(
        core,
        settings.telegram_driver,
        token=token,
        api_base=settings.telegram_api_base,
        concurrency=settings.telegram_concurrency,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    runner: web.AppRunner | None = None
    await channel.start()
    logger.info(
        "started: Telegram through %s, %s, %s database",
        settings.telegram_driver,
        "webhook" if webhook_url and secret else "long polling",
        core.engine.dialect.name,
    )
    # What is loaded by now (the client library's types, the metadata, the catalogs)
    # lives as long as the process: spare it the full collections, which otherwise
    # walk it all, holding up the event loop ~0.2 s every few seconds of a broadcast.
    gc.collect()
    gc.freeze()
    limiter = channel.limiter
    sender = OutboxSender(
        engine=core.engine,
        channels={CHANNEL: channel.deliver},
        limiter=limiter,
        clock=core.dispatcher.clock,
    )
    channel.after_update = sender.notify

    async def post(chat: str, reply: Reply, language: str, message_id: str | None) -> str | None:
        async with limiter.slot(chat, "private"):
            return await channel.post_status(chat, reply, language, message_id)

    reporter = Reporter(engine=core.engine, posters={CHANNEL: post}, clock=core.dispatcher.clock)

    async def lead() -> None:
        """The leader's work: the outbox sender, the scheduler, broadcast progress."""
        await asyncio.gather(sender.run(), run_scheduler(core, sender.notify), reporter.run())

    leadership = Leadership(
        engine=core.engine,
        work=lead,
        clock=core.dispatcher.clock,
        ttl=settings.leader_lease_seconds,
    )
    confirming = asyncio.create_task(channel.replies.run())
    await channel.recover()  # before anything is processed: each chat's order holds
    processor = asyncio.create_task(channel.processor.run())
    sending = asyncio.create_task(leadership.run())
    try:
        if webhook_url and secret:
            host, _, port = listen.rpartition(":")
            runner = web.AppRunner(channel.webhook_app(urlsplit(webhook_url).path or "/", secret))
            await runner.setup()
            await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
            await channel.set_webhook(webhook_url, secret)
            logger.info("webhook server listening on %s", listen)
            await stop.wait()
        else:
            polling = asyncio.create_task(channel.poll())
            await asyncio.wait(
                [polling, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
    finally:
        for task in (processor, sending, confirming):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if runner is not None:
            await runner.cleanup()
        await channel.close()
