"""Serve every configured channel in one process: one inbox, one outbox, one leader."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence

from bot.app import Core
from bot.channels import public_files
from bot.channels.contract import Channel, Downloads, Fetch, Fetches, FileGone
from bot.leader.broadcast_report import Reporter
from bot.leader.lease import Leadership, together
from bot.leader.outbox import OutboxSender
from bot.leader.preparing import Preparing
from bot.leader.scheduler import run_scheduler
from core.settings import Settings

logger = logging.getLogger(__name__)


async def serve(core: Core, channels: Sequence[Channel]) -> None:
    """Serve `channels` until SIGTERM, Ctrl+C or the end of a channel's input.

    Every process serves its channels' updates; the one holding the leader lease also
    sends the outbox through each channel that can push, runs the scheduled jobs and
    reports broadcast progress. The inbox makes stopping at any time safe.
    """
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    fetch = fetcher(channels)
    for channel in channels:
        if isinstance(channel, Fetches):
            channel.fetch_with(fetch)
        await channel.start()
    # What is loaded by now (the client libraries' types, the metadata, the catalogs)
    # lives as long as the process: spare it the full collections, which otherwise
    # walk it all, holding up the event loop ~0.2 s every few seconds of a broadcast.
    gc.collect()
    gc.freeze()
    pushing = {channel.name: channel for channel in channels if channel.capabilities.push}
    # The leader's digests and documents, in worker processes started at the first use.
    preparing = Preparing(
        core.engine, core.settings, core.catalogs, core.settings.digest_chart_processes
    )
    sender = OutboxSender(
        engine=core.engine, channels=pushing, clock=core.dispatcher.clock, make=preparing.make
    )
    for channel in channels:
        channel.after_update = sender.notify
    posters = {name: channel.post_status for name, channel in pushing.items()}
    reporter = Reporter(engine=core.engine, posters=posters, clock=core.dispatcher.clock)

    async def lead() -> None:
        """The leader's work: the outbox sender, the scheduler, broadcast progress."""
        try:
            await together(
                sender.run(), run_scheduler(core, sender.notify, preparing), reporter.run()
            )
        finally:
            preparing.close()  # its processes stop with the lead; a new lead starts anew

    leadership = Leadership(
        engine=core.engine,
        work=lead,
        clock=core.dispatcher.clock,
        ttl=core.settings.leader_lease_seconds,
    )
    tasks: list[asyncio.Task[object]] = [
        asyncio.create_task(channel.serve(stop)) for channel in channels
    ]
    public = public_files.from_settings(core.settings, core.dispatcher.clock)
    if public is not None:  # kept files for messengers that fetch pictures by URL
        tasks.append(asyncio.create_task(_serve_files(public, core.settings, stop)))
    tasks.append(asyncio.create_task(stop.wait()))
    leading = asyncio.create_task(leadership.run())
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a channel that failed stops the process, loudly
    finally:
        stop.set()
        for task in (*tasks, leading):
            task.cancel()
        await asyncio.gather(*tasks, leading, return_exceptions=True)
        for channel in channels:
            await channel.close()


async def _serve_files(
    public: public_files.PublicFiles, settings: Settings, stop: asyncio.Event
) -> None:
    async with public_files.serving(public, settings.public_files_listen):
        await stop.wait()


def fetcher(channels: Sequence[Channel]) -> Fetch:
    """Return how any channel fetches the bytes of a file another channel's person sent:
    through the channel that stored it, if it `Downloads`; else the file is FileGone."""
    downloads = {channel.name: channel for channel in channels if isinstance(channel, Downloads)}

    async def fetch(channel: str, file_ref: str) -> bytes:
        source = downloads.get(channel)
        if source is None:
            raise FileGone(f"files of {channel!r} cannot be fetched")
        return await source.download(file_ref)

    return fetch
