"""Process stored updates: one chat's updates in order, different chats concurrently.

Every update is in the inbox table before it reaches the processor, so memory only
holds a working copy: a channel hands over what it has just stored, and on start
(or after a backlog too big to hold) the processor reads the table in pages.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine

from bot.channels.replies import Progress
from storage import conversations, db, inbox
from storage.db import reading, transaction

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
PAGE = 5000
# Telegram redelivers an update for at most a day; processed ids are kept for two.
KEEP_PROCESSED = timedelta(days=2)
PURGE_EVERY = 3600.0  # seconds


@dataclass
class Queued:
    """A stored update waiting in memory; `parsed` is the channel's own object, if any."""

    update_id: str
    chat_id: str
    seq: int
    payload: dict[str, Any]
    parsed: Any = None
    attempts: int = 0
    # Set by the channel once the core's work on it is committed, replies not yet sent.
    processed: bool = False
    # What the core returned, once it did (when the channel processed it as it stored
    # it, see `InboxProcessor.reserve`, or in an earlier attempt): then only that is sent.
    handled: Any = None
    progress: Progress = field(default_factory=Progress)  # of sending what the core returned


Handle = Callable[[Queued], Awaitable[bool]]


class InboxProcessor:
    """Drain the inbox of one channel with at most `concurrency` chats at a time."""

    def __init__(
        self,
        *,
        engine: Engine,
        channel: str,
        handle: Handle,
        concurrency: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.handle = handle
        self.concurrency = concurrency
        self.clock = clock
        # Chats in the order their oldest waiting update arrived.
        self.queues: dict[str, deque[Queued]] = {}
        self.known: set[str] = set()
        # A chat's drain, or a placeholder while a channel processes its update (`reserve`).
        self.active: dict[str, asyncio.Future[None]] = {}
        # Chats whose next update a channel is processing as it stores it.
        self.reserved: dict[str, asyncio.Event] = {}
        self.wakeup = asyncio.Event()
        # True while the table may hold updates that are not in memory: then the table,
        # not what channels hand over, decides the order.
        self.backlog = True
        self.missed = False  # something was handed over while the table was in charge

    def submit(self, items: Iterable[Queued]) -> None:
        """Take updates that were just stored in the inbox table."""
        if self.backlog:
            self.missed = True  # read the table again once what was read from it is done
        else:
            self._enqueue(items)
        self.wakeup.set()

    def reserve(self, items: Iterable[Queued]) -> list[Queued]:
        """Let the caller process updates as it stores them: the first of each free chat.

        A chat is free when none of its updates is in hand (not even sending replies: a
        step's kept replies, unless owed, are replaced by the next step's, see
        `bot.channels.replies`)
        and it is not reserved; a chat not in hand needs one of the
        `concurrency` places. Until `resume` or `release` the processor processes nothing
        of a reserved chat: what arrives for it meanwhile waits behind.
        """
        if self.backlog:
            return []  # the table decides the order until it is read
        taken = []
        for item in sorted(items, key=lambda q: q.seq):
            chat = item.chat_id
            if chat in self.reserved or item.update_id in self.known or self.queues.get(chat):
                continue
            if chat not in self.active:
                if len(self.active) >= self.concurrency:
                    continue
                self.active[chat] = asyncio.get_running_loop().create_future()
            self.reserved[chat] = asyncio.Event()
            taken.append(item)
        return taken

    def resume(self, items: Iterable[Queued]) -> None:
        """Take reserved updates back, stored and processed (`handled` set): deliver them.

        An update whose processing failed (`processed` false) is tried again as usual.
        """
        for item in items:
            self._enqueue([item])
            self.reserved.pop(item.chat_id).set()
            task = self.active.get(item.chat_id)
            if not isinstance(task, asyncio.Task):  # a placeholder, or its drain ended
                # The chat keeps its place among those in hand: its replies go out now.
                self.active[item.chat_id] = asyncio.create_task(self._drain(item.chat_id))
        self.wakeup.set()

    def release(self, items: Iterable[Queued]) -> None:
        """Give reserved chats back when storing their updates failed."""
        for item in items:
            self.reserved.pop(item.chat_id).set()
            task = self.active.get(item.chat_id)
            if task is not None and not isinstance(task, asyncio.Task):
                del self.active[item.chat_id]
        self.wakeup.set()

    def _enqueue(self, items: Iterable[Queued]) -> None:
        for item in items:
            if item.update_id in self.known:
                continue
            self.known.add(item.update_id)
            queue = self.queues.setdefault(item.chat_id, deque())
            queue.append(item)
            if len(queue) > 1 and queue[-2].seq > item.seq:
                # A late arrival: sort in place, the chat's drain holds this deque.
                ordered = sorted(queue, key=lambda q: q.seq)
                queue.clear()
                queue.extend(ordered)

    async def run(self) -> None:
        """Start a drain task per waiting chat until cancelled; purge old ids hourly."""
        next_purge = 0.0
        first_look = True  # what the table holds then was left by the previous run
        try:
            while True:
                self.wakeup.clear()
                try:
                    if time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + PURGE_EVERY
                        await db.run(self.engine, self._purge)
                    if self.backlog and not self.queues and not self.active:
                        self.missed = False
                        rows = await db.run(self.engine, self._load)
                        if rows and first_look:
                            logger.info("%s stored updates wait to be processed", len(rows))
                        first_look = False
                        self.backlog = len(rows) == PAGE or self.missed
                        self._enqueue(rows)
                except Exception:  # the database is away: keep trying, never stop
                    logger.exception("reading the inbox failed; retrying in a second")
                    await asyncio.sleep(1)
                    continue
                for chat_id in list(self.queues):
                    if len(self.active) >= self.concurrency:
                        break
                    if chat_id not in self.active and chat_id not in self.reserved:
                        self.active[chat_id] = asyncio.create_task(self._drain(chat_id))
                if self.backlog and not self.queues and not self.active:
                    continue
                # Not wait_for: on 3.11 it can swallow a cancel that races with the event.
                with suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_purge - time.monotonic())):
                        await self.wakeup.wait()
        finally:
            for task in self.active.values():
                task.cancel()
            await asyncio.gather(*self.active.values(), return_exceptions=True)

    def _load(self) -> list[Queued]:
        with reading(self.engine) as session:
            rows = inbox.oldest(session=session, channel=self.channel, limit=PAGE)
            return [
                Queued(r.update_id, r.chat_id, r.seq, r.payload, attempts=r.attempts) for r in rows
            ]

    def _failed(self, item: Queued, attempts: int) -> None:
        with transaction(self.engine) as session:
            inbox.record_failure(session=session, channel=self.channel, update_id=item.update_id)
            if attempts < MAX_ATTEMPTS:
                return
            if item.processed:  # processed and committed: only its replies did not go
                conversations.mark_owed(
                    connection=session.connection(),
                    channel=self.channel,
                    update_ids=[item.update_id],
                )
                logger.error(
                    "gave up sending the replies to update %s for now; they go with the "
                    "chat's next answer or at the next start",
                    item.update_id,
                )
                return
            inbox.finish(
                session=session, channel=self.channel, update_id=item.update_id, now=self.clock()
            )
            logger.error("dropped update %s after %s attempts", item.update_id, MAX_ATTEMPTS)

    def _purge(self) -> None:
        with transaction(self.engine) as session:
            purged = inbox.purge(
                session=session, channel=self.channel, before=self.clock() - KEEP_PROCESSED
            )
        logger.info("purged %s processed updates of %s", purged, self.channel)

    async def _handled(self, item: Queued) -> bool:
        """Handle an update once: False if it failed; the database away is raised."""
        try:
            return await self.handle(item)
        except Exception as error:
            if db.unavailable(error):
                raise
            logger.exception("update %s failed", item.update_id)
            return False

    async def _drain(self, chat_id: str) -> None:
        queue = self.queues.setdefault(chat_id, deque())
        try:
            while queue:
                item = queue[0]
                if not item.processed and (reserved := self.reserved.get(chat_id)):
                    await reserved.wait()  # its update before this one is being processed
                    continue
                # The database being away is no attempt: the update waits for it.
                done = await db.until_answers(
                    partial(self._handled, item), f"update {item.update_id}"
                )
                if not done:  # counted once recorded (the database may go meanwhile)
                    await db.until_answers(
                        partial(db.run, self.engine, self._failed, item, item.attempts + 1),
                        f"the failure of update {item.update_id}",
                    )
                    item.attempts += 1
                    if item.attempts < MAX_ATTEMPTS:
                        await asyncio.sleep(0.2 * item.attempts)
                        continue  # the same update again: the order must hold
                queue.remove(item)  # not popleft: a late arrival may now stand first
                self.known.discard(item.update_id)
        except Exception:
            logger.exception("draining a chat failed")
        finally:
            if not queue:
                self.queues.pop(chat_id, None)
            self.active.pop(chat_id, None)
            self.wakeup.set()
