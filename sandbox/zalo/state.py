"""The Zalo face's in-memory world: bots known by token, their one-at-a-time update
queues, the chats they may write to, what they sent, the photos users sent."""

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError
from sandbox.limits import RateLimiter
from sandbox.records import WebhookState, take_rule
from sandbox.zalo.records import (
    GROUP,
    PRIVATE,
    ServedFile,
    Update,
    ZaloCall,
    ZaloErrorRule,
    ZaloLimits,
    ZaloMessage,
)

TOKEN_PATTERN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
# What a message the bot sent holds -> the event that echoes it.
ECHO_EVENTS = {"text": "text", "photo_url": "image", "sticker": "sticker", "voice_url": "voice"}


@dataclass
class ZaloBot:
    """One bot, known by its token `<digits>:<secret>`."""

    id: str
    token: str
    updates: list[Update] = field(default_factory=list)
    last_update: Update | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    webhook: WebhookState = field(default_factory=WebhookState)
    webhook_updated_at: int = 0
    bare_webhook: bool = False  # post the update itself, not {"ok": true, "result": update}
    self_echo: bool = False  # each send comes back as an update from the bot ([GC]'s claim)
    chats: dict[str, str] = field(default_factory=dict)  # chat id -> PRIVATE or GROUP
    sent: dict[str, list[ZaloMessage]] = field(default_factory=dict)  # by chat id
    sent_by_id: dict[str, ZaloMessage] = field(default_factory=dict)
    error_rules: list[ZaloErrorRule] = field(default_factory=list)
    sent_events: dict[str, asyncio.Event] = field(default_factory=dict)

    def get_me(self) -> dict[str, Any]:
        """Return the getMe answer."""
        return {
            "id": self.id,
            "account_name": f"bot.sandbox{self.id}",
            "account_type": "BASIC",
            "can_join_groups": True,
        }

    def queue(self, update: Update) -> None:
        """Queue an update for getUpdates or the webhook, and wake whoever waits."""
        self.updates.append(update)
        self.last_update = update
        self.wakeup.set()

    async def wait_for_updates(self, timeout: float) -> None:
        """Return when an update is queued, the bot closes or the timeout passes."""
        if self.updates or self.closed:
            return
        self.wakeup.clear()
        try:
            await asyncio.wait_for(self.wakeup.wait(), timeout)
        except TimeoutError:
            return

    def webhook_body(self, update: Update) -> object:
        """Return a webhook request's body: Zalo's envelope, or the bare update."""
        return update if self.bare_webhook else {"ok": True, "result": update}

    def delivered(self, update: Update) -> None:
        """Take the update the webhook accepted off the head of the queue."""
        if self.updates and self.updates[0] is update:
            del self.updates[0]

    def record(self, message: ZaloMessage) -> None:
        """Keep a message the bot sent and wake whoever waits for the chat's messages."""
        self.sent.setdefault(message.chat_id, []).append(message)
        self.sent_by_id[message.message_id] = message
        event = self.sent_events.get(message.chat_id)
        if event is not None:
            event.set()
        if self.self_echo:
            self.queue(self._echo(message))

    def _echo(self, message: ZaloMessage) -> Update:
        """Return the update that tells the bot of its own message."""
        content = {
            name: getattr(message, name)
            for name in ("text", "photo_url", "caption", "sticker", "voice_url")
            if getattr(message, name) is not None
        }
        kind = next(kind for name, kind in ECHO_EVENTS.items() if name in content)
        sender = {"id": self.id, "display_name": self.get_me()["account_name"], "is_bot": True}
        echoed = {
            "from": sender,
            "chat": {"id": message.chat_id, "chat_type": self.chats.get(message.chat_id)},
            **content,
            "message_id": message.message_id,
            "date": message.date,
        }
        return {"event_name": f"message.{kind}.received", "message": echoed}

    def sent_event(self, chat_id: str) -> asyncio.Event:
        """Return the event set whenever the bot sends to a chat."""
        return self.sent_events.setdefault(chat_id, asyncio.Event())

    def close(self) -> None:
        """Release every waiting long poll and reader."""
        self.closed = True
        self.wakeup.set()
        for event in self.sent_events.values():
            event.set()


Fetch = Callable[[str], Awaitable[bytes | None]]


async def _no_fetch(url: str) -> bytes | None:
    return None


class ZaloWorld:
    """Everything the Zalo face knows; one instance per running app."""

    def __init__(
        self,
        limits: ZaloLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int | None = None,
        long_poll_max: float = 50.0,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.wall_clock = wall_clock
        self.long_poll_max = long_poll_max
        self.random = random.Random(seed)
        self.rate = RateLimiter(clock)
        self.bots: dict[str, ZaloBot] = {}
        self.names: dict[str, str] = {}  # user id -> display name
        self.files: dict[str, ServedFile] = {}
        self.calls: list[ZaloCall] = []
        self.fetch: Fetch = _no_fetch
        self.on_webhook_change: Callable[[ZaloBot], None] = lambda bot: None

    def bot_for_token(self, token: str) -> ZaloBot | None:
        """Return the bot of a well-formed token, creating it on first use; None if wrong."""
        match = TOKEN_PATTERN.match(token)
        if match is None:
            return None
        bot = self.bots.get(match.group(1))
        if bot is None:
            bot = self.bots[match.group(1)] = ZaloBot(id=match.group(1), token=token)
        return bot if bot.token == token else None  # another secret for a known bot id

    def now_ms(self) -> int:
        """Return the time of messages and webhook changes, in ms since the epoch."""
        return int(self.wall_clock() * 1000)

    def now_s(self) -> int:
        """Return the time in seconds since the epoch (webhook errors)."""
        return int(self.wall_clock())

    def new_id(self) -> str:
        """Return a fresh 20-hex-digit id, the shape of Zalo's message ids."""
        return f"{self.random.getrandbits(80):020x}"

    def user(self, user_id: str, display_name: str | None = None) -> dict[str, Any]:
        """Return the `from` of a user's message, remembering the name a test gave."""
        if display_name:
            self.names[user_id] = display_name
        name = self.names.setdefault(user_id, f"User {user_id}")
        return {"id": user_id, "display_name": name, "is_bot": False}

    def acquire(self, bot: ZaloBot, chat_id: str) -> None:
        """Count one message the bot sends, or refuse it with Zalo's 429."""
        chat_type = bot.chats.get(chat_id, PRIVATE)
        if chat_type == GROUP:
            per_chat = ((bot.id, chat_id), self.limits.group_per_minute, 60.0)
        else:
            per_chat = ((bot.id, chat_id), self.limits.chat_per_second, 1.0)
        if self.rate.take([((bot.id, None), self.limits.bot_per_second, 1.0), per_chat]) > 0:
            raise ApiError(429, "Quota exceeded")

    def injected(self, bot: ZaloBot, method: str) -> ZaloErrorRule | None:
        """Return the failure a test injected for this call, consuming one use of it."""
        return take_rule(bot.error_rules, method, self.random)

    def log_call(
        self, bot: ZaloBot, method: str, params: dict[str, Any], error_code: int | None
    ) -> None:
        """Record one answered Bot API call."""
        self.calls.append(ZaloCall(self.clock(), bot.id, method, params, error_code))

    def close(self) -> None:
        """Release every waiting long poll, as on shutdown or reset."""
        for bot in self.bots.values():
            bot.close()

    def reset(self) -> None:
        """Forget every bot, user, file and call; release waiting polls first."""
        self.close()
        self.bots.clear()
        self.names.clear()
        self.files.clear()
        self.calls.clear()
        self.rate.reset()
