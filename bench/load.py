"""Simulated users that send one message at a time and time each reply."""

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Protocol

from bench.processes import cpu_seconds

NAME = "Nguyễn Văn An"
REPLY_TIMEOUT = 30.0
# A steady wizard step: a title is answered by the problem question, /back by the title
# question again. The echo bot gets the very same texts.
STEADY = ("Máy dán nhãn tự động số 7", "/back")


class BenchError(Exception):
    """A bot did not answer as the benchmark expects."""


class Users(Protocol):
    """A face of the emulator acting as users: `SandboxClient` or `ZaloSandboxClient`."""

    async def send_text(self, user_id: Any, text: str, **details: Any) -> dict[str, Any]:
        """Write as the user."""

    async def messages(
        self, chat_id: Any, *, min_count: int = 0, timeout: float = 0.0, skip: int = 0
    ) -> list[dict[str, Any]]:
        """List what the bot sent to a chat."""


@dataclass
class Chat:
    """One user in a private chat with one bot (on Zalo the user's id is a string and
    the name is a `display_name`)."""

    users: Users
    user_id: int | str
    expected: dict[str, str]  # reply text per sent text, shared by the chats of one bot
    seen: int = 0
    turn: int = 0
    name_field: str = "first_name"

    async def say(self, text: str, expect: int = 1) -> str:
        """Send text, wait for `expect` new bot messages and return the last one's text."""
        await self.users.send_text(self.user_id, text, **{self.name_field: NAME})
        before, self.seen = self.seen, self.seen + expect
        sent = await self.users.messages(
            self.user_id, min_count=self.seen, timeout=REPLY_TIMEOUT, skip=before
        )
        if len(sent) != expect:
            raise BenchError(
                f"chat {self.user_id}: {len(sent)} new bot messages after {text!r}, "
                f"expected {expect}"
            )
        return str(sent[-1].get("text") or "")

    async def step(self) -> None:
        """Send the next steady text and check the reply is the one that text always gets."""
        text = STEADY[self.turn % len(STEADY)]
        self.turn += 1
        reply = await self.say(text)
        if self.expected.setdefault(text, reply) != reply:
            raise BenchError(f"chat {self.user_id}: {text!r} got {reply!r}")


@dataclass
class Result:
    """Latencies of one run and how long it took."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # of the bot's process, while measured

    @property
    def cpu_ms(self) -> float:
        """Return the bot's CPU milliseconds per answered update."""
        return 1000 * self.cpu_seconds / len(self.latencies)

    @property
    def rate(self) -> float:
        """Return updates answered per second."""
        return len(self.latencies) / self.seconds

    def percentile_ms(self, share: float) -> float:
        """Return a nearest-rank percentile of the latencies, in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def combined(results: Sequence[Result]) -> Result:
    """Return several runs of one bot as one: their time, latencies and CPU together."""
    return Result(
        seconds=sum(r.seconds for r in results),
        latencies=[latency for r in results for latency in r.latencies],
        cpu_seconds=sum(r.cpu_seconds for r in results),
    )


async def measure(chats: Sequence[Chat], messages: int, pid: int) -> Result:
    """Warm every chat up with one message, then time `messages` split over the chats.

    The result also holds the CPU time the bot's process (`pid`) spent on the timed part.
    """
    await asyncio.gather(*(chat.step() for chat in chats))
    per_chat = max(1, messages // len(chats))
    latencies: list[float] = []

    async def converse(chat: Chat) -> None:
        for _ in range(per_chat):
            started = perf_counter()
            await chat.step()
            latencies.append(perf_counter() - started)

    cpu = cpu_seconds(pid)
    started = perf_counter()
    await asyncio.gather(*(converse(chat) for chat in chats))
    seconds = perf_counter() - started
    return Result(seconds=seconds, latencies=latencies, cpu_seconds=cpu_seconds(pid) - cpu)
