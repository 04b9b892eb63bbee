"""Client-side flood control: wait for a free slot instead of earning a 429."""

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rates:
    """Messages allowed per window; 0 switches a limit off (Telegram's defaults)."""

    per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20


SLICES = 10
# Telegram counts a message when it arrives, we count it as it leaves: network and
# event-loop jitter can bring a window's worth closer together there and earn a 429,
# whose retry_after (a second at least) then stretches a broadcast's tail. So each of
# Telegram's windows is kept this much longer here (a 2 % margin on a 1 s window).
MARGIN = 0.02


class FloodLimiter:
    """Sliding windows overall, per private chat and per group, as Telegram counts them."""

    def __init__(self, rates: Rates, clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = rates
        self.clock = clock
        self.windows: dict[tuple[str, ...], deque[float]] = {}

    def _checks(self, chat_id: str, chat_kind: str) -> list[tuple[tuple[str, ...], int, float]]:
        checks: list[tuple[tuple[str, ...], int, float]] = [
            (("*",), self.rates.per_second, 1.0 + MARGIN)
        ]
        if self.rates.per_second >= 2 * SLICES:
            # The second's messages spread over its tenths: a full second sent in one burst
            # reaches Telegram spread by network jitter, and the next second's burst then
            # overlaps it there and earns 429s (each a second's wait).
            checks.append((("*", "slice"), self.rates.per_second // SLICES, 1.0 / SLICES))
        if chat_kind == "group":
            checks.append((("group", chat_id), self.rates.group_per_minute, 60.0 + MARGIN))
        else:
            checks.append((("private", chat_id), self.rates.private_per_second, 1.0 + MARGIN))
        return [c for c in checks if c[1] > 0]

    def wait_time(self, chat_id: str, chat_kind: str) -> float:
        """Return how long until a message to this chat fits every window (0: now)."""
        now = self.clock()
        wait = 0.0
        for key, count, window in self._checks(chat_id, chat_kind):
            stamps = self.windows.get(key)
            if stamps is None:
                continue
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) >= count:
                wait = max(wait, stamps[len(stamps) - count] + window - now)
        return wait

    async def acquire(self, chat_id: str, chat_kind: str) -> None:
        """Wait for a slot, then count one message to the chat."""
        while (wait := self.wait_time(chat_id, chat_kind)) > 0:
            await asyncio.sleep(wait)
        self.count(chat_id, chat_kind)

    def count(self, chat_id: str, chat_kind: str) -> None:
        """Count one message to the chat, now."""
        now = self.clock()
        for key, _, _ in self._checks(chat_id, chat_kind):
            self.windows.setdefault(key, deque()).append(now)
        if len(self.windows) > 10_000:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        # A window whose last message is older than the window itself holds nothing: at
        # 1,000 private chats a second, keeping each for a minute cost 60,000 deques.
        for key in [
            k
            for k, stamps in self.windows.items()
            if not stamps or stamps[-1] <= now - (60.0 if k[0] == "group" else 1.0) - MARGIN
        ]:
            del self.windows[key]
