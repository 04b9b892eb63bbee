"""Client-side flood control: wait for a free slot instead of earning a 429.

Replies to people, outbox notices and broadcasts share one limiter, so they share
Telegram's budget: a reply (`urgent`) goes ahead of the others when the bot-wide budget
is short, and a 429 pauses its scope for every sender (`FloodLimiter.pause`).
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Rates:
    """Messages allowed per window; 0 switches a limit off (Telegram's defaults)."""

    per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20


SLICES = 10
SLICE_BURST = 2  # a tenth of a second may carry this many tenths' share
# Telegram counts a message when it arrives; we know only that it arrived between the
# moment we let it go and the moment its answer came back. A send made in a `slot`
# counts from the first moment while in flight and from the second once answered, so a
# window never holds more than Telegram can have counted, whatever the network or an
# event-loop stall did in between (a message let go before a stall leaves after it).
# Counted only as it leaves, a stall longer than the margin then in use (20 ms) sent a
# burst over the limit and earned 429s. What is left here is clock granularity.
MARGIN = 0.002
# A group's 429 pauses the whole bot when the bot-wide window held this share of the
# allowed rate (Telegram does not say which of its limits a 429 hit).
NEAR_FULL = 0.8
# After a bot-wide 429 the bot-wide rate drops to what Telegram accepted, but to no less
# than MIN_SHARE of what it was: a 429 that was not the bot-wide limit's (Telegram's
# dynamic flood control) must not cut a broadcast to a message a second. It holds there
# RECOVERY_HOLD seconds after the pause (doubled for each further 429 before it is back,
# at most MAX_HOLD), then rises by RECOVERY_GROWTH a second, at least a message a second.
MIN_SHARE = 0.25
RECOVERY_HOLD = 5.0
MAX_HOLD = 60.0
MAX_STRIKES = 8  # RECOVERY_HOLD doubled this often is past MAX_HOLD
RECOVERY_GROWTH = 0.1

Check = tuple[tuple[str, ...], int, float]  # a window's key, its message count, its length


class FloodLimiter:
    """Sliding windows overall, per private chat and per group, as Telegram counts them.

    On top of the windows: pauses ordered by 429s, a bot-wide rate lowered by them and
    recovering on its own, and urgent acquires (replies) served before the others.
    """

    def __init__(
        self,
        rates: Rates,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rates = rates
        self.clock = clock
        self.sleep = sleep  # the clock's: tests move both by hand
        self.windows: dict[tuple[str, ...], deque[float]] = {}
        self.bot_paused_until = float("-inf")
        self.chat_paused: dict[tuple[str, ...], float] = {}  # a window's key: until
        # Adaptation: the lowered bot-wide rate (None: the configured one), when it starts
        # rising again, and how many 429s came while it was lowered (each doubles the hold).
        self.lowered: int | None = None
        self.rising_from = float("-inf")
        self.strikes = 0
        # The burst of 429s being answered: the messages in the bot-wide window at its
        # first 429, those refused since, and the rate allowed before it.
        self.burst_sent = 0
        self.burst_refused = 0
        self.burst_rate = 0
        # Urgent acquires waiting for the bot-wide budget; the others wait while any do.
        self.urgent_waiting = 0
        self.no_urgent = asyncio.Event()
        self.no_urgent.set()

    def per_second(self, now: float) -> int:
        """Return the bot-wide rate allowed now: the configured one, or lower after 429s."""
        if self.lowered is None:
            return self.rates.per_second
        rising = now - self.rising_from
        if rising <= 0:
            return self.lowered
        # At least a message a second more each second; and RECOVERY_GROWTH compounded
        # (past a few minutes of it the rate is back anyway: the power stays finite).
        rate = max(
            self.lowered + rising,
            self.lowered * (1 + RECOVERY_GROWTH) ** min(rising, 300.0),
        )
        if rate >= self.rates.per_second:
            self.lowered = None
            self.strikes = 0
            return self.rates.per_second
        return int(rate)

    def _checks(self, chat_id: str, chat_kind: str, now: float) -> list[Check]:
        per_second = self.rates.per_second if self.lowered is None else self.per_second(now)
        checks: list[Check] = [(("*",), per_second, 1.0 + MARGIN)]
        if per_second >= 2 * SLICES:
            # The second's messages spread over its tenths, so that a reply never waits
            # behind a whole second sent in one burst; a tenth may take twice its share, to
            # catch up after a pause of the bot (the second's window above stays exact).
            checks.append((("*", "slice"), SLICE_BURST * per_second // SLICES, 1.0 / SLICES))
        if chat_kind == "group":
            checks.append((("group", chat_id), self.rates.group_per_minute, 60.0 + MARGIN))
        else:
            checks.append((("private", chat_id), self.rates.private_per_second, 1.0 + MARGIN))
        return [c for c in checks if c[1] > 0]

    def _waits(self, chat_id: str, chat_kind: str, now: float) -> tuple[float, float]:
        """Return how long until the bot-wide budget, and the chat's, allow a message."""
        bot_wait = self.bot_paused_until - now
        chat_wait = 0.0
        for key, count, window in self._checks(chat_id, chat_kind, now):
            stamps = self.windows.get(key)
            if stamps is None:
                continue
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) >= count:
                wait = stamps[len(stamps) - count] + window - now
                if key[0] == "*":
                    bot_wait = max(bot_wait, wait)
                else:
                    chat_wait = max(chat_wait, wait)
        if self.chat_paused and chat_kind == "group":
            key = ("group", chat_id)
            until = self.chat_paused.get(key)
            if until is not None:
                if until <= now:
                    del self.chat_paused[key]
                else:
                    chat_wait = max(chat_wait, until - now)
        return bot_wait, chat_wait

    def wait_time(self, chat_id: str, chat_kind: str) -> float:
        """Return how long until a message to this chat fits every window (0: now)."""
        bot_wait, chat_wait = self._waits(chat_id, chat_kind, self.clock())
        return max(bot_wait, chat_wait, 0.0)

    @asynccontextmanager
    async def slot(
        self, chat_id: str, chat_kind: str, *, urgent: bool = False
    ) -> AsyncIterator[None]:
        """Acquire a message's place, send it in the block, count it from its answer on.

        Telegram counted it at the latest when it answered, so counting from then on
        keeps the windows here at or above Telegram's, however long the send took.
        """
        stamp = await self.acquire(chat_id, chat_kind, urgent=urgent)
        try:
            yield
        finally:
            self._recount(chat_id, chat_kind, stamp)

    async def acquire(self, chat_id: str, chat_kind: str, *, urgent: bool = False) -> float:
        """Wait for a slot, then count one message to the chat; return when it counts from.

        An urgent acquire (a reply to a person) goes first: while one waits for the
        bot-wide budget, the others take no bot-wide slot before it.
        """
        if urgent:
            return await self._acquire_urgent(chat_id, chat_kind)
        while True:
            wait = self.wait_time(chat_id, chat_kind)
            if wait > 0:
                await self.sleep(wait)
            elif self.urgent_waiting:
                await self.no_urgent.wait()
            else:
                break
        return self.count(chat_id, chat_kind)

    async def _acquire_urgent(self, chat_id: str, chat_kind: str) -> float:
        queued = False  # counted in urgent_waiting
        try:
            while True:
                bot_wait, chat_wait = self._waits(chat_id, chat_kind, self.clock())
                if bot_wait <= 0 and chat_wait <= 0:
                    break
                # Only the bot-wide budget is held for it: its own chat's window (or
                # pause) blocks nobody else.
                if (bot_wait >= chat_wait) != queued:
                    queued = not queued
                    self._queue_urgent(1 if queued else -1)
                await self.sleep(max(bot_wait, chat_wait))
            return self.count(chat_id, chat_kind)
        finally:
            if queued:
                self._queue_urgent(-1)

    def _queue_urgent(self, change: int) -> None:
        self.urgent_waiting += change
        if self.urgent_waiting:
            self.no_urgent.clear()
        else:
            self.no_urgent.set()

    def count(self, chat_id: str, chat_kind: str) -> float:
        """Count one message to the chat, now; return now."""
        now = self.clock()
        for key, _, _ in self._checks(chat_id, chat_kind, now):
            self.windows.setdefault(key, deque()).append(now)
        if len(self.windows) > 10_000:
            self._forget_idle(now)
        return now

    def _recount(self, chat_id: str, chat_kind: str, stamp: float) -> None:
        """Move a message counted at `stamp` to now, the moment its send was answered.

        Now is no earlier than any stamp in a window, so the windows stay in order. The
        tenths of a second are left as they were: they only spread a second's sends.
        """
        now = self.clock()
        for key, _, _ in self._checks(chat_id, chat_kind, now):
            if key[-1] == "slice":
                continue
            stamps = self.windows.setdefault(key, deque())
            try:  # usually among the last ones: look there first
                del stamps[stamps.index(stamp, max(0, len(stamps) - 64))]
            except ValueError:
                # Further back (a slow answer), or gone: in flight longer than its
                # window, it was forgotten meanwhile and is simply counted anew.
                with contextlib.suppress(ValueError):
                    stamps.remove(stamp)
            stamps.append(now)

    def pause(self, chat_id: str, chat_kind: str, seconds: float) -> None:
        """Send nothing to a 429's scope for its `retry_after` seconds.

        Telegram does not say which limit a 429 hit. Every private chat is kept within its
        own window here, so a private chat's 429 is taken as bot-wide (the bot's rate, or
        Telegram's dynamic flood control) and pauses the whole bot; so is a group's when
        the bot-wide window held at least NEAR_FULL of the allowed rate. A group's 429
        with room left bot-wide pauses that group only. A pause never shortens one in
        force. A bot-wide 429 also lowers the bot-wide rate to what Telegram accepted in
        the last second (when that is less; at most fourfold at once), from where it
        recovers gradually toward the configured rate (`per_second`). With no bot-wide
        rate configured (0) there is nothing to lower, and a group's 429 pauses the group
        only.
        """
        now = self.clock()
        until = now + max(seconds, 0.0)
        if chat_kind == "group" and not self._bot_near_full(now):
            key = ("group", chat_id)
            self.chat_paused[key] = max(self.chat_paused.get(key, until), until)
            return
        self._lower(now, until)
        self.bot_paused_until = max(self.bot_paused_until, until)

    def _bot_near_full(self, now: float) -> bool:
        per_second = self.per_second(now)
        return per_second > 0 and len(self._bot_window(now)) >= NEAR_FULL * per_second

    def _bot_window(self, now: float) -> deque[float]:
        stamps = self.windows.get(("*",), deque())
        while stamps and stamps[0] <= now - 1.0 - MARGIN:
            stamps.popleft()
        return stamps

    def _lower(self, now: float, until: float) -> None:
        """Lower the bot-wide rate to what Telegram accepted before this 429."""
        if self.rates.per_second <= 0:
            return
        if now >= self.bot_paused_until:
            # The first 429 of a burst; those of messages already sent follow during
            # its pause, each one message fewer that Telegram accepted.
            if self.lowered is not None:
                self.strikes = min(self.strikes + 1, MAX_STRIKES)
            self.burst_rate = self.per_second(now)
            self.burst_sent = len(self._bot_window(now))
            self.burst_refused = 0
        self.burst_refused += 1
        accepted = max(1, self.burst_sent - self.burst_refused, int(self.burst_rate * MIN_SHARE))
        if accepted < self.burst_rate:
            self.lowered = accepted
        if self.lowered is not None:
            hold = min(RECOVERY_HOLD * 2**self.strikes, MAX_HOLD)
            self.rising_from = max(self.rising_from, until + hold)

    def _forget_idle(self, now: float) -> None:
        # A window whose last message is older than the window itself holds nothing: at
        # 1,000 private chats a second, keeping each for a minute cost 60,000 deques.
        for key in [
            k
            for k, stamps in self.windows.items()
            if not stamps or stamps[-1] <= now - (60.0 if k[0] == "group" else 1.0) - MARGIN
        ]:
            del self.windows[key]
        for key in [k for k, until in self.chat_paused.items() if until <= now]:
            del self.chat_paused[key]
