"""The Bot API as the bot uses it, whichever client library (the driver) makes the calls.

A driver (`aiogram_driver`, `ptb_driver`) builds its client's Bot, converts to and from
the client's types and says what its errors mean; the calls both clients spell alike
live here. The channel (`channel.TelegramChannel`) builds on these calls.
"""

import asyncio
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol

from bot.channels.contract import Delivery
from bot.channels.telegram.convert import (
    ALLOWED_UPDATES,
    Button,
    Keyboard,
    Update,
    has_callbacks,
)
from core.messages import AttachmentKind
from storage.files import FileStore

POLL_TIMEOUT = 25  # seconds a getUpdates call waits for updates
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")  # files we build that Telegram shows as photos


class BotApi(Protocol):
    """The Bot API calls that aiogram's and PTB's `Bot` both spell the same way."""

    async def get_updates(
        self, *, offset: int | None, timeout: int, allowed_updates: list[str]
    ) -> Any: ...
    async def delete_webhook(self, *, drop_pending_updates: bool) -> Any: ...
    async def set_webhook(
        self, url: str, *, secret_token: str, allowed_updates: list[str]
    ) -> Any: ...
    async def send_message(
        self, *, chat_id: int, text: str, parse_mode: str, reply_markup: Any
    ) -> Any: ...
    async def edit_message_text(
        self, *, text: str, chat_id: int, message_id: int, parse_mode: str, reply_markup: Any
    ) -> Any: ...
    async def edit_message_reply_markup(
        self, *, chat_id: int, message_id: int, reply_markup: Any
    ) -> Any: ...
    async def send_photo(self, *, chat_id: int, photo: str) -> Any: ...
    async def send_document(self, *, chat_id: int, document: Any) -> Any: ...
    async def answer_callback_query(
        self, callback_query_id: str, *, text: str | None = None
    ) -> Any: ...


class TelegramApi(ABC):
    """One bot's Bot API calls; the driver's part is abstract."""

    bot: BotApi  # the client library's Bot
    # What the client raises when a Bot API call fails; `failure` says what each means.
    errors: tuple[type[Exception], ...]

    def __init__(self) -> None:
        self.username = ""
        # The last message with buttons in each chat (since this process started): typing
        # instead of pressing takes them off, so no stale button stays live.
        self.buttons: dict[int, int] = {}
        self.files: FileStore | None = None  # the bot's kept files (see `send_kept`)

    # The driver's part: what differs between the client libraries.

    @abstractmethod
    def failure(self, error: Exception) -> Delivery | None:
        """Say what a failed call means for a message; None for errors nobody expects."""

    @abstractmethod
    async def get_username(self) -> str:
        """Return the bot's username (getMe)."""

    @abstractmethod
    async def set_commands(self, commands: list[tuple[str, str]], language: str) -> None:
        """Register (command, description) pairs for one language."""

    @abstractmethod
    def dump(self, update: Any) -> Update:
        """Return one of the client's update objects as Bot API JSON."""

    @abstractmethod
    def markup(self, keyboard: Keyboard | None) -> Any:
        """Return neutral button rows as the client's inline keyboard type."""

    @abstractmethod
    async def upload(
        self, chat_id: int, kind: AttachmentKind, file_name: str, content: bytes
    ) -> None:
        """Upload a photo or a document built in memory."""

    async def send_kept(
        self, chat_id: int, kind: AttachmentKind, key: str, file_name: str | None
    ) -> None:
        """Upload a file the bot keeps (one a person sent on another messenger)."""
        assert self.files is not None, "the channel sets its file store"
        content = await asyncio.to_thread(self.files.read, key)
        await self.upload(chat_id, kind, file_name or key, content)

    async def send_document(self, chat_id: int, file_name: str, content: bytes) -> None:
        """Upload a file built in memory: a picture as a photo (shown in the chat, not a
        file to download), anything else as a document."""
        photo = Path(file_name).suffix.lower() in PHOTO_SUFFIXES
        await self.upload(chat_id, "photo" if photo else "document", file_name, content)

    @abstractmethod
    async def read_file(self, file_ref: str) -> bytes:
        """Return the bytes of a file a person sent, by its Telegram file id (the client's
        errors raised as they come: see the channel's `download`)."""

    @abstractmethod
    async def close(self) -> None:
        """Close the client's HTTP connections."""

    # The calls both clients name and spell the same.

    async def get_updates(self, offset: int | None) -> list[Update]:
        """Long-poll for updates after `offset` and return them as Bot API JSON."""
        updates = await self.bot.get_updates(
            offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
        )
        return [self.dump(update) for update in updates]

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Telegram to post updates to `url` with `secret` in every call."""
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None) -> int:
        """Send an HTML message, with inline buttons if any; return its message id."""
        sent = await self.bot.send_message(
            chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=self.markup(keyboard)
        )
        if has_callbacks(keyboard):  # a link stays: it answers no question
            self.buttons[chat_id] = sent.message_id
        return int(sent.message_id)

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None
    ) -> None:
        """Replace the text and buttons of a message the bot sent."""
        await self.bot.edit_message_text(
            text=text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode="HTML",
            reply_markup=self.markup(keyboard),
        )
        if has_callbacks(keyboard):
            self.buttons[chat_id] = message_id
        elif self.buttons.get(chat_id) == message_id:
            del self.buttons[chat_id]

    async def remove_buttons(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message the bot sent."""
        await self.bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )

    async def send_file(self, chat_id: int, kind: AttachmentKind, file_ref: str) -> None:
        """Send a photo or document again by its Telegram file id."""
        if kind == "photo":
            await self.bot.send_photo(chat_id=chat_id, photo=file_ref)
        else:
            await self.bot.send_document(chat_id=chat_id, document=file_ref)

    # What every driver shares.

    def link_of(self, button: Button) -> str | None:
        """Return the address a button opens: its URL, or the private chat with the bot."""
        if button.data is not None:
            return None
        if button.url is not None:
            return button.url
        chat = f"https://t.me/{self.username}"
        return f"{chat}?start={button.start}" if button.start else chat

    def expect(self, error: Exception, *outcomes: str) -> Delivery:
        """Return what a failed call means when it is one of `outcomes`; raise it otherwise."""
        failed = self.failure(error)
        if failed is None or failed.outcome not in outcomes:
            raise error
        return failed
