"""Deliver queued messages: in order per chat, within flood limits, retrying what failed.

Each message is marked only after its send returned, so a crash can repeat the sends
that were in flight, and never loses one.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine

from bot.flood import FloodLimiter
from storage import db, outbox
from storage.db import reading, transaction
from storage.outbox import BLOCKED, FAILED, QUEUED, SENT, Due, Outcome

logger = logging.getLogger(__name__)
MAX_TRANSIENT_ATTEMPTS = 10
PAGE = 200
IDLE_WAIT = 1.0  # seconds between looks at the table when nothing is due


@dataclass(frozen=True)
class Delivery:
    """What a channel says about one attempt."""

    outcome: Literal["sent", "retry_after", "blocked", "transient", "rejected"]
    retry_after: float | None = None
    detail: str | None = None


Deliver = Callable[[Due], Awaitable[Delivery]]


class OutboxSender:
    """Send due outbox messages through each channel's `deliver`, `concurrency` at a time."""

    def __init__(
        self,
        *,
        engine: Engine,
        channels: Mapping[str, Deliver],
        limiter: FloodLimiter,
        clock: Callable[[], datetime],
        concurrency: int = 16,
    ) -> None:
        self.engine = engine
        self.channels = channels
        self.limiter = limiter
        self.clock = clock
        self.slots = asyncio.Semaphore(concurrency)
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.busy_chats: set[tuple[str, str]] = set()
        self.wakeup = asyncio.Event()

    def notify(self) -> None:
        """Tell the sender that messages were queued."""
        self.wakeup.set()

    async def run(self) -> None:
        """Send until cancelled; messages in flight are finished or left queued."""
        try:
            while True:
                self.wakeup.clear()
                try:
                    due = await db.run(self.engine, self._due)
                except Exception:  # the database is away: keep trying, never stop sending
                    logger.exception("reading the outbox failed; retrying in a second")
                    await asyncio.sleep(1)
                    continue
                for item in due:
                    chat = (item.channel, item.chat_id)
                    if chat in self.busy_chats or item.id in self.in_flight:
                        continue
                    self.busy_chats.add(chat)
                    self.in_flight[item.id] = asyncio.create_task(self._send(item))
                wait = IDLE_WAIT
                if not due:
                    with suppress(Exception):
                        wait = await db.run(self.engine, self._until_next)
                try:
                    async with asyncio.timeout(wait):
                        await self.wakeup.wait()
                except TimeoutError:
                    pass
        finally:
            tasks = list(self.in_flight.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _due(self) -> list[Due]:
        with reading(self.engine) as session:
            return outbox.due(
                session=session,
                now=self.clock(),
                limit=PAGE,
                skip=list(self.in_flight),
                channels=list(self.channels),  # others (the console) deliver their own
            )

    def _until_next(self) -> float:
        with reading(self.engine) as session:
            at = outbox.next_due_at(session=session, channels=list(self.channels))
        if at is None:
            return IDLE_WAIT
        return min(IDLE_WAIT, max((at - self.clock()).total_seconds(), 0.01))

    async def _send(self, item: Due) -> None:
        try:
            # A slot covers the send and its record, so a crash repeats at most
            # `concurrency` messages.
            async with self.slots:
                await self.limiter.acquire(item.chat_id, item.chat_kind)
                delivery = await self.channels[item.channel](item)
                await db.run(self.engine, self._record, item, delivery)
        except Exception:
            logger.exception("sending outbox message %s failed", item.id)
        finally:
            self.in_flight.pop(item.id, None)
            self.busy_chats.discard((item.channel, item.chat_id))
            self.wakeup.set()

    def _record(self, item: Due, delivery: Delivery) -> None:
        now = self.clock()
        outcome = Outcome(
            message_id=item.id,
            outcome=delivery.outcome,
            at=now,
            status=SENT,
            retry_after=delivery.retry_after,
            detail=delivery.detail,
        )
        if delivery.outcome == "retry_after":
            outcome.status = QUEUED
            outcome.retry_at = now + timedelta(seconds=delivery.retry_after or 1)
        elif delivery.outcome == "transient":
            if item.attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
                outcome.status = FAILED
                logger.error("gave up outbox message %s: %s", item.id, delivery.detail)
            else:
                outcome.status = QUEUED
                outcome.retry_at = now + outbox.backoff(item.attempts + 1)
        elif delivery.outcome == "blocked":
            outcome.status = BLOCKED
        elif delivery.outcome == "rejected":
            outcome.status = FAILED
            logger.warning("outbox message %s refused: %s", item.id, delivery.detail)
        with transaction(self.engine) as session:
            outbox.record(session=session, outcomes=[outcome])
