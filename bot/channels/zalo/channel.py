"""The Zalo channel: long polling or webhook in, inbox, core, plain-text replies out.

Zalo hands out an update once: `getUpdates` forgets it as it answers, and a webhook
call is answered 200 only after the update is committed. So every polled update is
written down as it arrives (`held`; on SQLite only while the database is away) and then
stored in the inbox, keyed `event_name:message_id` so that a redelivery is recognised,
and ordered by a counter of the channel's own (`Arrivals`). What a crash costs while
polling: an update Zalo hands to a poll at the instant of the death, one per poll in
flight (README, "Zalo").
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import Core
from bot.channels import intake, public_files
from bot.channels.contract import Capabilities, Delivery, Fetch
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.group_commit import GroupCommit
from bot.channels.inbox import (
    MAX_ATTEMPTS,
    InboxProcessor,
    Queued,
)
from bot.channels.replies import Confirmations, Progress
from bot.channels.zalo import polling
from bot.channels.zalo.api import POLL_MARGIN, POLL_TIMEOUT, Update, ZaloApi, ZaloError
from bot.channels.zalo.convert import (
    CHANNEL,
    TEXT_LIMIT,
    chat_of,
    from_bot,
    key_of,
    photo_url,
    to_incoming,
)
from bot.channels.zalo.held import HeldUpdates
from bot.channels.zalo.outgoing import GaveUp, Sender
from bot.channels.zalo.webhook import webhook_app
from core.codec import reply_from_json, response_from_json
from core.messages import KEPT, InAttachment, Incoming, Reply, Response
from storage.conversations import Key
from storage.files import suffix_of
from storage.outbox import Due

logger = logging.getLogger(__name__)
# Zalo cannot edit a message, so each status goes anew: at most once a minute, and only
# once a tenth more of the work is done, or a quarter of an hour passed (a long pause).
STATUS_EVERY = 60.0
STATUS_STEP = 0.1
STATUS_AT_LEAST = 900.0
# A picture's URL that answers these has expired (or the picture is too large to keep).
LOST = (403, 404, 410, 413)
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}


@dataclass(frozen=True)
class Webhook:
    """Where Zalo posts updates, the secret it sends with each, and where we listen."""

    url: str
    secret: str
    listen: str = "127.0.0.1:8082"


class Arrivals:
    """An increasing number per stored update: microseconds since the epoch, or one more
    than the last when two come in the same microsecond, so that it keeps increasing
    across restarts too (as long as the clock is not set back)."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self.clock = clock
        self.last = 0

    def next(self) -> int:
        """Return the next number."""
        self.last = max(self.last + 1, self.clock() // 1000)
        return self.last


def chat_kind(incoming_or_key: Incoming | tuple[str, str, str]) -> str:
    """Return the flood-limit kind of a chat: a private chat's id is its person's."""
    if isinstance(incoming_or_key, Incoming):
        return "group" if incoming_or_key.in_group else "private"
    _, chat_id, user_id = incoming_or_key
    return "private" if chat_id == user_id else "group"


class ZaloChannel:
    """A `bot.channels.contract.Channel` for the Zalo Bot Platform."""

    name = CHANNEL
    capabilities = Capabilities(
        buttons=False, edits=False, max_text=TEXT_LIMIT, markup="plain", push=True
    )

    def __init__(
        self, core: Core, api: ZaloApi, *, concurrency: int, webhook: Webhook | None = None
    ) -> None:
        self.core = core
        self.api = api
        self.webhook = webhook  # None: long polling
        self.bot_id = ""
        self.poll_timeout = POLL_TIMEOUT
        self.pollers = 1
        self.after_update: Callable[[], None] = lambda: None
        settings = core.settings
        self.limiter = FloodLimiter(
            Rates(
                settings.zalo_rate_per_second,
                settings.zalo_rate_per_chat,
                settings.zalo_rate_per_group,
            )
        )
        self.sender = Sender(
            api, core.catalogs, self.limiter, core.files, settings.zalo_pause_on_429
        )
        self.processor = InboxProcessor(
            engine=core.engine,
            channel=CHANNEL,
            handle=self._process,
            concurrency=concurrency,
            clock=core.dispatcher.clock,
        )
        self.replies = Confirmations(engine=core.engine, channel=CHANNEL)
        self.group = GroupCommit(
            engine=core.engine, handle_group=core.dispatcher.handle_group, limit=concurrency
        )
        self.arrivals = Arrivals()
        self.held = HeldUpdates(settings.files_dir)
        self.writing = False  # each polled update is written down (`poll`)
        self.polling: asyncio.Task[None] | None = None
        # A status message's id: when it was sent, and the share done it showed.
        self.status_sent: dict[str, tuple[float, float]] = {}
        self.monotonic = time.monotonic  # the status messages' clock

    def fetch_with(self, fetch: Fetch) -> None:
        """Send photos people sent on other messengers from the bytes `fetch` returns
        (a `contract.Fetches`): Zalo cannot take another messenger's file id."""
        self.sender.fetch = fetch

    async def start(self) -> None:
        """Learn the bot's id (a wrong token fails here); switch off a webhook to poll."""
        me = await self.api.get_me()
        self.bot_id = str(me["id"])
        if self.webhook is None and await self.api.webhook_url():
            await self.api.delete_webhook()
            logger.info("Zalo had a webhook set; deleted it to poll")

    async def serve(self, stop: asyncio.Event) -> None:
        """Receive updates by webhook or long polling until `stop` is set.

        The replies kept but never confirmed go out first. A poll in flight when `stop`
        comes is left to finish (`close` waits for it): cancelled, its update would be lost.
        """
        tasks: list[asyncio.Task[object]] = [asyncio.create_task(self.replies.run())]
        try:
            await self.recover()
            # Before the processor's first purge of processed keys: a held update that
            # was stored before a crash is still recognised, however long ago.
            await self._store_left_held()
            tasks.append(asyncio.create_task(self.processor.run()))
            if self.webhook is None:
                self.polling = asyncio.create_task(self.poll(stop))
                stopped = asyncio.create_task(stop.wait())
                tasks.append(stopped)
                await asyncio.wait((self.polling, stopped), return_when=asyncio.FIRST_COMPLETED)
                if self.polling.done():
                    self.polling.result()  # polling ends by itself only on a failure
            else:
                await self._serve_webhook(self.webhook, stop)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll Zalo until `stop`; each update is written down, then committed
        (`polling`).

        On SQLite only while the database is away: its commits run in this process and
        on this disk, and writing every update down cost them a fifth of their speed
        (bench/README.md, "Issue 17"). There each poll waits for its commit instead.
        """
        always = self.core.engine.dialect.name != "sqlite"
        self.writing = always

        def hold(updates: list[Update]) -> bool:
            return self.writing and self.held.append(updates)

        async def store(updates: list[Update], pending: polling.Pending) -> None:
            async def away() -> None:  # write down what is in hand, and what comes
                if not self.writing:
                    self.writing = self.held.append(updates + pending()) or always

            await intake.until_stored(
                self.core,
                partial(self.receive, updates, process=not stop.is_set()),
                len(updates),
                waiting=away,
            )
            self.held.stored(pending())
            self.writing = always

        await polling.poll(
            self.api,
            store,
            stop,
            pollers=self.pollers,
            timeout=self.poll_timeout,
            hold=hold,
        )

    async def _store(self, updates: list[Update]) -> None:
        """Store updates, waiting out a database that is away."""
        await intake.until_stored(self.core, partial(self.receive, updates), len(updates))

    async def _store_left_held(self) -> None:
        """Store what an earlier run wrote down and may not have stored (see `held`)."""
        await asyncio.to_thread(self.held.sweep)  # nothing is polled yet
        left = await asyncio.to_thread(self.held.read)
        if left:
            logger.info("storing %s updates held when the bot last stopped", len(left))
            try:
                await self._store(left)
            except Exception:  # not the database away: the same at every start
                logger.exception("the held updates could not be stored")
                await asyncio.to_thread(self.held.set_aside, "could not be stored")
        self.held.start()

    async def _serve_webhook(self, webhook: Webhook, stop: asyncio.Event) -> None:
        host, _, port = webhook.listen.rpartition(":")
        path = urlsplit(webhook.url).path or "/"
        runner = web.AppRunner(webhook_app(path, webhook.secret, self.receive), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
            await self.api.set_webhook(webhook.url, webhook.secret)
            logger.info("Zalo webhook server listening on %s", webhook.listen)
            await stop.wait()
        finally:
            await runner.cleanup()

    async def receive(self, updates: list[Update], *, process: bool = True) -> None:
        """Store updates, then hand the new ones to the processor (see `intake`).

        The bot's own messages coming back and updates without a chat are dropped. A
        picture's update is not processed as it is stored: it is downloaded after the
        commit. With `process` false (stopping) updates are only stored.
        """
        items = []
        for update in updates:
            chat_id = chat_of(update)
            if from_bot(update, self.bot_id) or chat_id is None:
                logger.debug("ignored a %s update", update.get("event_name"))
                continue
            items.append(Queued(key_of(update), chat_id, self.arrivals.next(), update))
        parse = self._parse if process else lambda _: False
        await intake.take_in(self.core, self.processor, CHANNEL, items, parse)

    def _parse(self, item: Queued) -> bool:
        """Keep the update's Incoming in `parsed` if it can be processed as it is stored."""
        if photo_url(item.payload) is not None:
            return False
        item.parsed = to_incoming(item.payload, item.update_id)
        return item.parsed is not None

    async def _process(self, row: Queued) -> bool:
        """Handle one stored update and send its replies; False means try again."""
        return await intake.process(
            self.core,
            CHANNEL,
            row,
            translate=self.incoming_of,
            group=self.group,
            deliver=self._deliver,
            wake=self.after_update,
        )

    async def incoming_of(self, row: Queued) -> Incoming | None:
        """Translate a stored update, downloading and keeping its picture if it has one.

        A picture whose URL has expired (or that is too large) is logged as lost, and the
        person asked to send it again; a network failure raises (the processor tries
        again), and at the last attempt the picture is lost too: the person is asked, not
        left without an answer.
        """
        url = photo_url(row.payload)
        photo = None
        if url is not None:
            try:
                content, kind = await self.api.download(url)
            except ZaloError as error:
                if error.error_code not in LOST and row.attempts + 1 < MAX_ATTEMPTS:
                    raise  # the network: the processor tries again in a moment
                logger.warning("the picture of update %s was lost: %s", row.update_id, error)
            else:
                suffix = IMAGE_TYPES.get(kind or "") or suffix_of(urlsplit(url).path)
                key = await asyncio.to_thread(self.core.files.put, content, suffix)
                photo = InAttachment("photo", key, None, kind, len(content), channel=KEPT)
        lost = url is not None and photo is None
        return to_incoming(row.payload, row.update_id, photo, lost=lost)

    async def _deliver(self, row: Queued, response: Response) -> bool:
        """Send the replies; confirm them once they went out."""
        incoming: Incoming = row.parsed
        sent = await self.send_response(
            incoming.chat_id, chat_kind(incoming), response, row.progress
        )
        if sent and not response.failed and response.replies:
            key = (incoming.channel, incoming.chat_id, incoming.user_id)
            self.replies.confirm(key, row.update_id)
        return sent and not response.failed

    async def send_response(
        self, chat_id: str, kind: str, response: Response, progress: Progress | None = None
    ) -> bool:
        """Send a response's replies from where `progress` stopped; False: try again later."""
        progress = progress or Progress()
        sends = [
            send
            for reply in response.replies
            for send in self.sender.sends(chat_id, kind, reply, response.language)
        ]
        try:
            for send in sends[progress.sent :]:
                await self.sender.call(chat_id, kind, send)
                progress.sent += 1
        except GaveUp:
            return False
        return True

    async def recover(self) -> int:
        """Send the replies that were kept but never confirmed (a crash after the commit)."""

        async def send(key: Key, kept: dict[str, Any], progress: Progress) -> bool:
            response = response_from_json(kept)
            return await self.send_response(key[1], chat_kind(key), response, progress)

        return await self.replies.resend(send, polling.ERROR_PAUSE)

    async def deliver(self, item: Due) -> Delivery:
        """Send one outbox message (no retries here: the outbox decides)."""
        reply = reply_from_json(item.content)
        sends = self.sender.sends(item.chat_id, item.chat_kind, reply, item.language)
        return await self.sender.deliver(item.chat_id, item.chat_kind, sends[item.parts_sent :])

    async def post_status(
        self,
        chat_id: str,
        reply: Reply,
        language: str,
        message_id: str | None,
        *,
        final: bool = False,
        done: float = 0.0,
    ) -> str | None:
        """Send a status message anew (Zalo cannot edit one), at the cadence above.

        The final one is not sent here: the report's copy through the outbox is the end.
        """
        now = self.monotonic()
        if message_id is not None and (final or not self._status_due(message_id, now, done)):
            return message_id
        if final:
            return None
        (text, *_) = self.sender.sends(chat_id, "private", reply, language)
        try:
            async with self.limiter.slot(chat_id, "private"):
                sent = await text()
        except ZaloError as error:
            logger.info("could not post a status message: %s", error.error_code)
            return message_id
        new_id = str(sent)
        self.status_sent.pop(message_id or "", None)
        self.status_sent[new_id] = (now, done)
        return new_id

    def _status_due(self, message_id: str, now: float, done: float) -> bool:
        sent = self.status_sent.get(message_id)
        if sent is None:
            return True  # sent by an earlier process: go on from here
        at, shown = sent
        waited = now - at
        return waited >= STATUS_EVERY and (
            done - shown >= STATUS_STEP or waited >= STATUS_AT_LEAST
        )

    async def close(self) -> None:
        """Let a poll in flight finish (its update is stored), then close the connections."""
        if self.polling is not None and not self.polling.done():
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(self.polling), self.poll_timeout + POLL_MARGIN + 1
                )
            self.polling.cancel()  # still storing (the database is away): the file has it
            await asyncio.gather(self.polling, return_exceptions=True)
        await asyncio.to_thread(self.held.close)
        await self.api.close()


def from_settings(core: Core, webhook: Webhook | None) -> ZaloChannel:
    """Build the channel the settings describe (ZALO_BOT_TOKEN must be set); None for
    `webhook` polls."""
    settings = core.settings
    assert settings.zalo_bot_token is not None
    api = ZaloApi(settings.zalo_bot_token.get_secret_value(), settings.zalo_api_base)
    channel = ZaloChannel(core, api, concurrency=settings.zalo_concurrency, webhook=webhook)
    channel.poll_timeout = settings.zalo_poll_seconds
    channel.pollers = settings.zalo_pollers
    public = public_files.from_settings(settings, core.dispatcher.clock)
    if public is not None:  # served by the runtime (bot.runtime)
        channel.sender.public_url = public.url
    return channel
