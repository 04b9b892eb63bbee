"""The sandbox's in-memory world: bots and their update queues, chats, messages, files, calls."""

import asyncio
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, injected
from sandbox.limits import Limits, RateLimiter
from sandbox.records import (
    CallbackRecord,
    CallRecord,
    ChatRecord,
    ErrorRule,
    MessageRecord,
    StoredFile,
    UserRecord,
    WebhookState,
    take_rule,
)

TOKEN_PATTERN = re.compile(r"^(\d+):[A-Za-z0-9_-]{30,}$")
# What a bot gets without `allowed_updates` (or with an empty list), as on Telegram.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class BotState:
    """One bot, known by its token: its updates, chats, messages and settings."""

    id: int
    token: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    poll_generation: int = 0
    closed: bool = False
    webhook: WebhookState = field(default_factory=WebhookState)
    known_chats: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    # Groups the bot is not in any more: "left" or "kicked".
    out_of_groups: dict[int, str] = field(default_factory=dict)
    # The kinds of update the bot asked for (getUpdates or setWebhook); None: the default.
    allowed_updates: frozenset[str] | None = None
    messages: dict[int, dict[int, MessageRecord]] = field(default_factory=dict)
    last_message_id: dict[int, int] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    error_rules: list[ErrorRule] = field(default_factory=list)
    # One event per chat, so that a message to one chat wakes only that chat's readers.
    outbox_events: dict[int, asyncio.Event] = field(default_factory=dict)

    def subscribed(self, kind: str) -> bool:
        """Tell whether the bot gets updates of this kind."""
        if self.allowed_updates is None:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed_updates

    def outbox_event(self, chat_id: int) -> asyncio.Event:
        """Return the event set whenever the bot's messages in a chat change."""
        return self.outbox_events.setdefault(chat_id, asyncio.Event())

    def outbox_changed(self, chat_id: int) -> None:
        """Wake whoever waits for what the bot sent to a chat."""
        event = self.outbox_events.get(chat_id)
        if event is not None:
            event.set()

    @property
    def user(self) -> UserRecord:
        """Return the bot's own user record."""
        return UserRecord(
            id=self.id,
            first_name=f"Sandbox {self.id}",
            username=f"sandbox_{self.id}_bot",
            is_bot=True,
        )

    def get_me(self) -> dict[str, Any]:
        """Return the getMe answer."""
        return {
            **self.user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def confirm(self, offset: int) -> None:
        """Drop updates before offset; a negative offset keeps only the last -offset updates."""
        if offset < 0:
            del self.updates[: max(0, len(self.updates) + offset)]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def webhook_body(self, update: dict[str, Any]) -> object:
        """Return the body of a webhook request: the Update itself."""
        return update

    def delivered(self, update: dict[str, Any]) -> None:
        """Confirm an update the webhook accepted."""
        self.confirm(update["update_id"] + 1)

    def wake(self) -> None:
        """Wake every coroutine waiting for this bot's updates."""
        self.wakeup.set()

    async def wait_for_updates(self, timeout: float, generation: int | None = None) -> None:
        """Wait until an update is pending, the timeout passes or a newer poll takes over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.updates and not self.closed:
            if generation is not None and generation != self.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), remaining)
            except TimeoutError:
                return

    def next_message_id(self, chat_id: int) -> int:
        """Return the next message_id in one chat."""
        self.last_message_id[chat_id] = self.last_message_id.get(chat_id, 0) + 1
        return self.last_message_id[chat_id]

    def find_message(self, chat_id: int, message_id: int) -> MessageRecord | None:
        """Return a message that was not deleted, or None."""
        message = self.messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message


class World:
    """Everything the sandbox knows; one instance per running app."""

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.wall_clock = wall_clock
        self.rate = RateLimiter(clock)
        self.random = random.Random(seed)
        self.bots: dict[int, BotState] = {}
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.calls: list[CallRecord] = []
        self.long_poll_max = 50.0
        self.on_webhook_change: Callable[[BotState], None] = lambda bot: None

    def bot_for_token(self, token: str) -> BotState | None:
        """Return the bot for a well-formed token, creating it on first use; None if malformed."""
        match = TOKEN_PATTERN.match(token)
        if match is None:
            return None
        bot_id = int(match.group(1))
        bot = self.bots.get(bot_id)
        if bot is None or bot.token != token:
            if bot is not None:
                return None  # another secret for a known bot id is a wrong token
            bot = self.bots[bot_id] = BotState(id=bot_id, token=token)
        return bot

    def now(self) -> int:
        """Return the Unix time used for message dates."""
        return int(self.wall_clock())

    def add_update(self, bot: BotState, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot and wake its poller or webhook.

        An update of a kind the bot did not subscribe to is never queued (and gets no
        update_id), as on Telegram.
        """
        if not bot.subscribed(kind):
            return {kind: payload}
        update = {"update_id": bot.next_update_id, kind: payload}
        bot.next_update_id += 1
        bot.updates.append(update)
        bot.wake()
        return update

    def remember_user(self, user_id: int, **details: Any) -> UserRecord:
        """Create or refresh a user from the details a test gave."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = UserRecord(id=user_id, first_name=f"User {user_id}")
        for name, value in details.items():
            if value is not None:
                setattr(user, name, value)
        return user

    def chat_for(self, chat_id: int, chat_type: str, user: UserRecord) -> ChatRecord:
        """Return the chat, creating a private chat for the user or a group chat."""
        chat = self.chats.get(chat_id)
        if chat is None:
            private = chat_type == "private"
            chat = ChatRecord(id=chat_id, type=chat_type, user=user if private else None)
            self.chats[chat_id] = chat
        return chat

    def store_file(self, data: bytes, *, name: str, mime_type: str, kind: str) -> StoredFile:
        """Keep uploaded bytes and return their record with a fresh file_id."""
        number = len(self.files) + 1
        prefix = "AgAC" if kind == "photo" else "BQAC"
        width, height = _image_size(data) if kind == "photo" else (0, 0)
        suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
        stored = StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number:08d}",
            file_path=f"{kind}s/file_{number}.{suffix}",
            data=data,
            name=name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        """Return the file stored under a file_path."""
        return next((f for f in self.files.values() if f.file_path == path), None)

    def injected_error(self, bot: BotState, method: str) -> ApiError | None:
        """Return the error a test injected for this call, consuming one use of its rule."""
        rule = take_rule(bot.error_rules, method, self.random)
        if rule is None:
            return None
        return injected(
            rule.code, description=rule.description, retry_after=rule.retry_after, html=rule.html
        )

    def log_call(
        self, bot: BotState, method: str, chat_id: int | None, error: ApiError | None
    ) -> None:
        """Record one answered Bot API call."""
        self.calls.append(
            CallRecord(
                at=self.clock(),
                bot_id=bot.id,
                method=method,
                chat_id=chat_id,
                ok=error is None,
                error_code=error.code if error else None,
                description=error.description if error else None,
            )
        )

    def close(self) -> None:
        """Release every waiting long poll, as on shutdown or reset."""
        for bot in self.bots.values():
            bot.closed = True
            bot.wake()
            for event in bot.outbox_events.values():
                event.set()

    def reset(self) -> None:
        """Forget every bot, user, chat, file and call; release waiting polls first."""
        self.close()
        self.bots.clear()
        self.users.clear()
        self.chats.clear()
        self.files.clear()
        self.calls.clear()
        self.rate.reset()


def _image_size(data: bytes) -> tuple[int, int]:
    """Read width and height from a PNG or GIF header; other formats get a nominal size."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:4] == b"GIF8" and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return 320, 240
