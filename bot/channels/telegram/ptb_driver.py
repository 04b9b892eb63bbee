"""The Telegram channel's Bot API calls through python-telegram-bot.

Only PTB's `Bot` is used: its `Application` acknowledges an update (moves the polling
offset) before the handlers ran, which the inbox exists to avoid.
"""

import os
from datetime import timedelta
from typing import Any

from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.app import Core
from bot.channels.contract import Delivery
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import MIGRATED, Keyboard, Update
from core.messages import AttachmentKind

# Connections for sends: the chats being processed and the outbox's sends at once
# (aiogram's session allows as many).
CONNECTIONS = 100


class PtbChannel(TelegramChannel):
    """Telegram through python-telegram-bot's Bot."""

    errors = (TelegramError,)
    bot: Bot

    def __init__(self, core: Core, *, token: str, api_base: str, concurrency: int) -> None:
        super().__init__(core, concurrency=concurrency)
        # PTB 22.2+ warns on every flood error (RetryAfter) unless time periods are
        # timedeltas, the documented opt-in to its next major version.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        base = api_base.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(connection_pool_size=CONNECTIONS),
        )

    def failure(self, error: Exception) -> Delivery | None:
        """Say what a PTB error means for a message (TimedOut is a NetworkError)."""
        if isinstance(error, RetryAfter):
            return Delivery("retry_after", retry_after=_seconds(error))
        if isinstance(error, Forbidden):
            return Delivery("blocked")
        if isinstance(error, BadRequest):
            return Delivery("rejected", detail=error.message[:300])
        if isinstance(error, ChatMigrated):  # the group's own update moves the rest
            return Delivery("rejected", detail=MIGRATED)
        if isinstance(error, NetworkError):  # PTB reports 5xx answers as NetworkError too
            return Delivery("transient", detail=type(error).__name__)
        return None

    async def get_username(self) -> str:
        """Open the HTTP clients and return the bot's username (initialize calls getMe)."""
        await self.bot.initialize()
        return self.bot.username

    async def set_commands(self, commands: list[tuple[str, str]], language: str) -> None:
        """Register the commands of one language."""
        await self.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands], language_code=language
        )

    def dump(self, update: Any) -> Update:
        """Return a PTB Update as the JSON the inbox stores."""
        payload: Update = update.to_dict()
        return payload

    def markup(self, keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
        """Return button rows as PTB's inline keyboard."""
        if keyboard is None:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        button.text, callback_data=button.data, url=self.link_of(button)
                    )
                    for button in row
                ]
                for row in keyboard
            ]
        )

    async def upload(
        self, chat_id: int, kind: AttachmentKind, file_name: str, content: bytes
    ) -> None:
        """Upload a photo or a document."""
        if kind == "photo":
            await self.bot.send_photo(chat_id=chat_id, photo=content, filename=file_name)
        else:
            await self.bot.send_document(chat_id=chat_id, document=content, filename=file_name)

    async def read_file(self, file_ref: str) -> bytes:
        """Return the bytes of a file a person sent (getFile, then the file's URL)."""
        file = await self.bot.get_file(file_ref)
        return bytes(await file.download_as_bytearray())

    async def close(self) -> None:
        """Close the HTTP clients."""
        await self.bot.shutdown()


def _seconds(flood: RetryAfter) -> float:
    """Return a flood wait in seconds: PTB gives an int before 22.2, a timedelta after."""
    value = flood.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
