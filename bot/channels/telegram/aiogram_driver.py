"""The Telegram channel on aiogram: receive into the inbox, process, reply.

An update is written to the inbox before Telegram learns it arrived (the polling
offset moves, or the webhook answers 200), so a crash loses nothing; the core then
processes each update id once.
"""

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response as ApiResponse
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web
from pydantic import ValidationError

from bot.app import Core
from bot.channels.inbox import InboxProcessor, Queued
from bot.channels.telegram.convert import CHANNEL, chat_of, render, to_incoming
from bot.codec import reply_from_json
from bot.messages import Incoming, Response, t
from bot.outbox import Delivery
from storage import db, inbox
from storage.db import one_statement, transaction
from storage.outbox import Due

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = {
    "new": t("command.new"),
    "continue": t("command.continue"),
    "my": t("command.my"),
    "review": t("command.review"),
    "language": t("command.language"),
    "mydata": t("command.mydata"),
    "deleteme": t("command.deleteme"),
    "help": t("command.help"),
}
SEND_ATTEMPTS = 5
# aiogram parametrizes Response[T] on every call, and pydantic caches those classes only
# weakly: after each garbage collection the next call rebuilds one (~10 ms of CPU).
# Keeping the ones this bot needs alive avoids that.
RESPONSE_TYPES = tuple(
    ApiResponse[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.AnswerCallbackQuery,
        methods.DeleteWebhook,
        methods.EditMessageText,
        methods.GetMe,
        methods.GetUpdates,
        methods.SendDocument,
        methods.SendMessage,
        methods.SendPhoto,
        methods.SetMyCommands,
        methods.SetWebhook,
    )
)


class TelegramChannel:
    """Telegram through aiogram: polling or webhook in, inbox, core, replies out."""

    def __init__(self, core: Core, *, token: str, api_base: str, concurrency: int) -> None:
        self.core = core
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token=token, session=session)
        self.username = ""
        # Called when an update queued outbox messages (run: wake the outbox sender).
        self.after_update: Callable[[], None] = lambda: None
        self.processor = InboxProcessor(
            engine=core.engine,
            channel=CHANNEL,
            handle=self._process,
            concurrency=concurrency,
            clock=core.dispatcher.clock,
        )

    async def start(self) -> None:
        """Learn the bot's username and register its commands in every language."""
        me = await self.bot.get_me()
        self.username = me.username or ""
        catalogs = self.core.catalogs
        for language in catalogs.languages:
            commands = [
                BotCommand(command=name, description=catalogs.render(text, language))
                for name, text in COMMANDS.items()
            ]
            await self.bot.set_my_commands(commands, language_code=language)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.bot.session.close()

    def store(self, updates: list[Update]) -> list[Queued]:
        """Write updates to the inbox in one transaction; return them for the processor."""
        items = []
        for update in updates:
            chat_id = chat_of(update)
            if chat_id is not None:
                payload = update.model_dump(mode="json", by_alias=True, exclude_none=True)
                items.append(
                    Queued(str(update.update_id), chat_id, update.update_id, payload, update)
                )
        with one_statement(self.core.engine) as connection:
            new = inbox.store(
                connection=connection,
                channel=CHANNEL,
                updates=[(i.seq, i.chat_id, i.payload) for i in items],
                now=self.core.dispatcher.clock(),
            )
        return [item for item in items if item.update_id in new]  # not redeliveries

    async def poll(self) -> None:
        """Long-poll Telegram; acknowledge updates only after they are in the inbox."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES
                )
            except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter):
                logger.warning("getUpdates failed; retrying in a second")
                await asyncio.sleep(1)
                continue
            if not updates:
                continue
            self.processor.submit(await db.run(self.core.engine, self.store, updates))
            offset = updates[-1].update_id + 1

    def webhook_app(self, path: str, secret: str) -> web.Application:
        """Build the webhook server: a wrong or missing secret token gets 401."""

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                logger.warning("webhook call with a wrong secret token refused")
                return web.Response(status=401)
            try:
                payload = await request.json()
            except ValueError:
                return web.Response(status=400)
            try:
                update = Update.model_validate(payload, context={"bot": self.bot})
            except ValidationError:
                logger.warning("dropped an update that is not a valid Telegram update")
                return web.Response(status=200)  # Telegram would redeliver it forever
            self.processor.submit(await db.run(self.core.engine, self.store, [update]))
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post(path, receive)
        return app

    async def _process(self, row: Queued) -> bool:
        """Handle one stored update; False means try again.

        The core has its own routing, so aiogram's Dispatcher (its middlewares cost
        about a twentieth of the bot's CPU per update) is not in the way. The core marks
        the row done in the transaction that processes it; an update the core never
        sees (not for this bot, or of a kind it ignores) is marked here.
        """
        update = row.parsed or Update.model_validate(row.payload, context={"bot": self.bot})
        result: bool | None = None
        if update.message is not None:
            result = await self._on_message(update.message, update)
        elif update.callback_query is not None:
            result = await self._on_callback(update.callback_query, update)
        if result is False:
            return False
        if result is None:
            await db.run(self.core.engine, self._forget, row)
        return True

    def _forget(self, row: Queued) -> None:
        with transaction(self.core.engine) as session:
            inbox.finish(
                session=session,
                channel=CHANNEL,
                update_id=row.update_id,
                now=self.core.dispatcher.clock(),
            )

    async def _on_message(self, message: Message, event_update: Update) -> bool | None:
        """Handle a message: translate, run the core, send the replies."""
        return await self._run(to_incoming(event_update, self.username))

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> bool | None:
        """Handle a button press; always stop the button's spinner."""
        try:
            await query.answer()
        except TelegramBadRequest:
            logger.info("callback query %s too old to answer", query.id)
        return await self._run(to_incoming(event_update, self.username))

    async def _run(self, incoming: Incoming | None) -> bool | None:
        """Run the core; None when the update was not for it, False when it failed."""
        if incoming is None:
            return None
        response = await db.run(self.core.engine, self.core.dispatcher.handle, incoming)
        if response is None:
            return True  # a duplicate: the core already marked it done in the inbox
        if response.queued:
            self.after_update()
        await self.send(int(incoming.chat_id), response, edit=incoming.message_ref)
        return not response.failed

    async def send(self, chat_id: int, response: Response, edit: str | None = None) -> None:
        """Send every reply of a response, honouring flood limits; a blocked chat is skipped.

        A reply marked `edit` replaces the message `edit` (the pressed button's) when it
        fits in one message; otherwise, or if Telegram refuses the edit, it is sent.
        """
        catalogs = self.core.catalogs
        try:
            for reply in response.replies:
                pieces = render(reply, catalogs, response.language)
                fits = reply.edit and edit is not None and len(pieces) == 1
                if fits and edit and await self._edit(chat_id, int(edit), *pieces[0]):
                    edit = None  # one message, replaced once
                    continue
                for text, keyboard in pieces:
                    await self._call(
                        self.bot.send_message,
                        chat_id=chat_id,
                        text=text,
                        parse_mode="HTML",
                        reply_markup=keyboard,
                    )
                for shared in reply.files:
                    if shared.channel != CHANNEL:
                        continue  # another messenger's file id means nothing here
                    send = (
                        self.bot.send_photo if shared.kind == "photo" else self.bot.send_document
                    )
                    field = "photo" if shared.kind == "photo" else "document"
                    await self._call(send, chat_id=chat_id, **{field: shared.file_ref})
                for document in reply.documents:
                    await self._call(
                        self.bot.send_document,
                        chat_id=chat_id,
                        document=BufferedInputFile(document.content, filename=document.file_name),
                    )
        except TelegramForbiddenError:
            logger.info("chat %s blocked the bot; replies dropped", chat_id)

    async def deliver(self, item: Due) -> Delivery:
        """Send one outbox message (no retries here: the outbox decides)."""
        reply = reply_from_json(item.content)
        try:
            for text, keyboard in render(reply, self.core.catalogs, item.language):
                await self.bot.send_message(
                    chat_id=int(item.chat_id), text=text, parse_mode="HTML", reply_markup=keyboard
                )
        except TelegramRetryAfter as flood:
            return Delivery("retry_after", retry_after=float(flood.retry_after))
        except TelegramForbiddenError:
            return Delivery("blocked")
        except TelegramBadRequest as error:
            return Delivery("rejected", detail=error.message[:300])
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as error:
            return Delivery("transient", detail=type(error).__name__)
        return Delivery("sent")

    async def _edit(
        self, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None
    ) -> bool:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode="HTML",
                reply_markup=keyboard,
            )
        except TelegramBadRequest as error:
            logger.info("could not edit a message in place: %s", error.message)
            return False
        return True

    async def _call(self, method: Any, **kwargs: Any) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await method(**kwargs)
                return
            except TelegramRetryAfter as flood:
                await asyncio.sleep(flood.retry_after)
            except TelegramNetworkError:
                await asyncio.sleep(0.5 * attempt)
            except TelegramBadRequest as error:
                logger.warning("Telegram refused a reply: %s", error.message)
                return
        logger.error("gave up sending a reply after %s attempts", SEND_ATTEMPTS)
