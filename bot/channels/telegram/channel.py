"""The Telegram channel, whichever client library makes the Bot API calls (`api`).

An update is written to the inbox before Telegram learns it arrived (the polling
offset moves, or the webhook answers 200), so a crash loses nothing; the core then
processes each update id once.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, web

from bot.app import Core
from bot.channels import intake
from bot.channels.contract import Capabilities, Delivery, FetchFailed, FileGone
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.group_commit import GroupCommit
from bot.channels.inbox import InboxProcessor, Queued
from bot.channels.replies import Confirmations, Progress
from bot.channels.telegram import outgoing
from bot.channels.telegram.api import TelegramApi
from bot.channels.telegram.convert import (
    CHANNEL,
    TEXT_LIMIT,
    MalformedUpdate,
    Update,
    callback_query_id,
    chat_of,
    to_incoming,
)
from bot.channels.telegram.webhook import webhook_app
from core.codec import response_from_json
from core.messages import Incoming, Reply, Response
from storage.conversations import Key
from storage.outbox import Due

logger = logging.getLogger(__name__)
TOAST_MAX = 200


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, the secret it sends with each, and where we listen."""

    url: str
    secret: str
    listen: str = "127.0.0.1:8080"


class TelegramChannel(TelegramApi):
    """Polling or webhook in, inbox, core, replies out, over the driver's Bot API calls.

    A `bot.channels.contract.Channel`.
    """

    name = CHANNEL
    capabilities = Capabilities(
        buttons=True, edits=True, max_text=TEXT_LIMIT, markup="html", push=True
    )

    def __init__(self, core: Core, *, concurrency: int) -> None:
        super().__init__()
        self.core = core
        self.catalogs = core.catalogs
        self.files = core.files
        self.webhook: Webhook | None = None  # None: long polling
        # Called when an update queued outbox messages (run: wake the outbox sender).
        self.after_update: Callable[[], None] = lambda: None
        self.processor = InboxProcessor(
            engine=core.engine,
            channel=CHANNEL,
            handle=self._process,
            concurrency=concurrency,
            clock=core.dispatcher.clock,
        )
        # Replies, outbox messages and status messages share one flood budget.
        settings = core.settings
        self.limiter = FloodLimiter(
            Rates(
                settings.telegram_rate_per_second,
                settings.telegram_rate_per_chat,
                settings.telegram_rate_group_per_minute,
            )
        )
        self.replies = Confirmations(engine=core.engine, channel=CHANNEL)
        # The chats the processor works on at once share their transactions.
        self.group = GroupCommit(
            engine=core.engine, handle_group=core.dispatcher.handle_group, limit=concurrency
        )

    async def start(self) -> None:
        """Learn the bot's username and register the conversations' menu in every language."""
        self.username = await self.get_username()
        catalogs = self.core.catalogs
        menu = self.core.dispatcher.menu
        for language in catalogs.languages:
            commands = [(name, catalogs.render(text, language)) for name, text in menu]
            await self.set_commands(commands, language)

    async def serve(self, stop: asyncio.Event) -> None:
        """Receive updates by webhook or long polling until `stop` is set.

        The replies kept but never confirmed (a crash after a commit) go out first, so
        each chat's replies keep their order.
        """
        tasks: list[asyncio.Task[object]] = [asyncio.create_task(self.replies.run())]
        try:
            await self.recover()
            tasks.append(asyncio.create_task(self.processor.run()))
            if self.webhook is None:
                polling = asyncio.create_task(self.poll())
                stopped = asyncio.create_task(stop.wait())
                tasks += [polling, stopped]
                await asyncio.wait((polling, stopped), return_when=asyncio.FIRST_COMPLETED)
                if polling.done():
                    polling.result()  # polling never ends by itself: say why it failed
            else:
                await self._serve_webhook(self.webhook, stop)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve_webhook(self, webhook: Webhook, stop: asyncio.Event) -> None:
        host, _, port = webhook.listen.rpartition(":")
        path = urlsplit(webhook.url).path or "/"
        # No access log: a webhook's path is often made secret too, and it is no news.
        runner = web.AppRunner(self.webhook_app(path, webhook.secret), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
            await self.set_webhook(webhook.url, webhook.secret)
            logger.info("webhook server listening on %s", webhook.listen)
            await stop.wait()
        finally:
            await runner.cleanup()

    async def receive(self, updates: list[Update]) -> None:
        """Store updates, then hand the new ones to the processor (see `intake`)."""
        items = []
        for update in updates:
            chat_id = chat_of(update)
            if chat_id is not None:
                seq = update["update_id"]
                items.append(Queued(str(seq), chat_id, seq, update))
        await intake.take_in(self.core, self.processor, CHANNEL, items, self._parse)

    def _parse(self, item: Queued) -> bool:
        """Keep the update's Incoming in `parsed`; False if the core would not see it."""
        try:
            item.parsed = to_incoming(item.payload, self.username)
        except (KeyError, TypeError):
            return False  # the processor drops it
        return item.parsed is not None

    async def poll(self) -> None:
        """Long-poll Telegram; acknowledge updates only after they are in the inbox."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        while True:
            try:
                updates = await self.get_updates(offset)
            except self.errors as error:
                self.expect(error, "transient", "retry_after")
                logger.warning("getUpdates failed; retrying in a second")
                await asyncio.sleep(1)
                continue
            if not updates:
                continue
            # Not acknowledged until stored: Telegram keeps them while the database is away.
            await intake.until_stored(self.core, partial(self.receive, updates), len(updates))
            offset = updates[-1]["update_id"] + 1
            await asyncio.sleep(0)  # replies of what was just processed go out first

    def webhook_app(self, path: str, secret: str) -> web.Application:
        """Build the webhook server: a wrong or missing secret token gets 401."""

        async def receive_one(update: Update) -> None:
            await self.receive([update])

        return webhook_app(path, secret, receive_one)

    async def _process(self, row: Queued) -> bool:
        """Handle one stored update and send its replies; False means try again.

        An update the core never sees (not for this bot, or of a kind it ignores) is
        marked done; see `intake.process`.
        """
        return await intake.process(
            self.core,
            CHANNEL,
            row,
            translate=self._translate,
            group=self.group,
            deliver=self._deliver,
            wake=self.after_update,
        )

    async def _translate(self, row: Queued) -> Incoming | None:
        """Return a stored update as an Incoming; None (logged) for a malformed one."""
        try:
            return to_incoming(row.payload, self.username)
        except MalformedUpdate as error:
            logger.warning("dropped a malformed update: %s", error)
        except (KeyError, TypeError):
            logger.warning("dropped update %s: not a valid Telegram update", row.update_id)
        return None

    async def _deliver(self, row: Queued, response: Response) -> bool:
        """Answer the pressed button and send the replies; confirm them once they went out."""
        incoming: Incoming = row.parsed
        progress = row.progress
        if not progress.answered:
            if incoming.choice is None and not incoming.edited and incoming.event is None:
                await self._take_buttons_off(int(incoming.chat_id))
            progress.toasted = await self._answer_query(row.payload, response)
            progress.answered = True
        if progress.toasted:
            return True  # a refused press: the notice at the button said it all
        sent = await outgoing.send_response(
            self, int(incoming.chat_id), response, edit=incoming.message_ref, progress=progress
        )
        if sent and not response.failed and response.replies:
            key = (incoming.channel, incoming.chat_id, incoming.user_id)
            self.replies.confirm(key, row.update_id)
        return sent and not response.failed

    async def _answer_query(self, update: Update, response: Response) -> bool:
        """Stop a pressed button's spinner, showing the response's toast if it has one.

        Return whether the toast was shown. A failed answer is only logged: the spinner
        stops by itself, and a toast that could not be shown goes out as messages.
        """
        query_id = callback_query_id(update)
        if query_id is None:
            return False
        toast = response.toast
        text = None
        if toast is not None:  # Telegram shows at most 200 characters
            text = self.catalogs.render(toast, response.language)[:TOAST_MAX]
        try:
            await self.bot.answer_callback_query(query_id, text=text)
        except self.errors as error:
            failed = self.failure(error)
            logger.info("could not answer a button press: %s", failed and failed.outcome)
            return False
        return toast is not None

    async def _take_buttons_off(self, chat_id: int) -> None:
        """Remove the buttons of the chat's last question: it was answered by typing."""
        message_id = self.buttons.pop(chat_id, None)
        if message_id is not None:
            with contextlib.suppress(outgoing.GaveUp, outgoing.Blocked):  # the replies matter
                await outgoing.call(self, chat_id, self.remove_buttons, chat_id, message_id)

    async def recover(self) -> int:
        """Send the replies that were kept but never confirmed (a crash after the commit)."""

        async def send(key: Key, kept: dict[str, Any], progress: Progress) -> bool:
            response = response_from_json(kept)
            edit = kept.get("edit")
            return await outgoing.send_response(
                self, int(key[1]), response, edit=edit, progress=progress
            )

        return await self.replies.resend(send, outgoing.MAX_BACKOFF)

    async def deliver(self, item: Due) -> Delivery:
        """Send one outbox message (no retries here: the outbox decides)."""
        return await outgoing.deliver(self, item)

    async def download(self, file_ref: str) -> bytes:
        """Return the bytes of a file a person sent here, for a messenger that cannot send
        it by its id (a `contract.Downloads`).

        A refused id (unknown, or a file too big for bots) is FileGone; any other failure
        is FetchFailed. Neither carries the client's message: a file URL holds the token.
        """
        failures: tuple[type[Exception], ...] = (*self.errors, ClientError)
        try:
            return await self.read_file(file_ref)
        except failures as error:
            failed = self.failure(error)
            if failed is not None and failed.outcome == "rejected":
                raise FileGone(failed.detail or "refused") from None
            raise FetchFailed((failed and failed.detail) or type(error).__name__) from None

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
        """Send a status message, or edit the one sent before; its id, None if it failed."""
        async with self.limiter.slot(chat_id, outgoing.chat_kind(int(chat_id))):
            return await outgoing.post_status(self, chat_id, reply, language, message_id)
