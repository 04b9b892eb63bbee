"""The Telegram channel's Bot API calls through aiogram.

The core has its own routing, so aiogram's Dispatcher (its middlewares cost about a
twentieth of the bot's CPU per update) is not in the way: aiogram makes the calls,
and parses and validates what comes back.
"""

from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response as ApiResponse
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from pydantic import ValidationError

from bot.app import Core
from bot.channels.contract import Delivery
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import MIGRATED, Keyboard, Update
from core.messages import AttachmentKind

# aiogram parametrizes Response[T] on every call, and pydantic caches those classes only
# weakly: after each garbage collection the next call rebuilds one (~10 ms of CPU).
# Keeping the ones this bot needs alive avoids that.
RESPONSE_TYPES = tuple(
    ApiResponse[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.AnswerCallbackQuery,
        methods.DeleteWebhook,
        methods.EditMessageText,
        methods.GetFile,
        methods.GetMe,
        methods.GetUpdates,
        methods.SendDocument,
        methods.SendMessage,
        methods.SendPhoto,
        methods.SetMyCommands,
        methods.SetWebhook,
    )
)


class AiogramChannel(TelegramChannel):
    """Telegram through aiogram's Bot."""

    # ClientDecodeError: a body that is not the Bot API's JSON (a proxy's 502 page), or
    # JSON that is not the method's answer (see `failure`).
    errors = (TelegramAPIError, ClientDecodeError, TimeoutError)
    bot: Bot

    def __init__(self, core: Core, *, token: str, api_base: str, concurrency: int) -> None:
        super().__init__(core, concurrency=concurrency)
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token=token, session=session)

    def failure(self, error: Exception) -> Delivery | None:
        """Say what an aiogram error means for a message."""
        if isinstance(error, TelegramRetryAfter):
            return Delivery("retry_after", retry_after=float(error.retry_after))
        if isinstance(error, TelegramForbiddenError):
            return Delivery("blocked")
        if isinstance(error, TelegramBadRequest):
            return Delivery("rejected", detail=error.message[:300])
        if isinstance(error, TelegramMigrateToChat):  # the group's own update moves the rest
            return Delivery("rejected", detail=MIGRATED)
        if isinstance(error, ClientDecodeError) and isinstance(error.original, ValidationError):
            # JSON that aiogram cannot read as the method's result: an answer of 200 may
            # mean it went, and sending it again could show it twice.
            return Delivery("rejected", detail=f"unreadable answer: {error.message}")
        if isinstance(
            error, TelegramServerError | TelegramNetworkError | ClientDecodeError | TimeoutError
        ):
            return Delivery("transient", detail=type(error).__name__)
        return None

    async def get_username(self) -> str:
        """Return the bot's username."""
        return (await self.bot.get_me()).username or ""

    async def set_commands(self, commands: list[tuple[str, str]], language: str) -> None:
        """Register the commands of one language."""
        await self.bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands],
            language_code=language,
        )

    def dump(self, update: Any) -> Update:
        """Return an aiogram Update as the JSON the inbox stores."""
        payload: Update = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        return payload

    def markup(self, keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
        """Return button rows as aiogram's inline keyboard."""
        if keyboard is None:
            return None
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=button.text, callback_data=button.data, url=self.link_of(button)
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
        file = BufferedInputFile(content, filename=file_name)
        if kind == "photo":
            await self.bot.send_photo(chat_id=chat_id, photo=file)
        else:
            await self.bot.send_document(chat_id=chat_id, document=file)

    async def read_file(self, file_ref: str) -> bytes:
        """Return the bytes of a file a person sent (getFile, then the file's URL)."""
        content = await self.bot.download(file_ref)
        assert content is not None  # no destination given: aiogram returns a buffer
        return content.read()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.bot.session.close()
