"""Deliver queued messages: in order per chat, within flood limits, retrying what failed.

Each message is marked only after its send returned, so a crash can repeat the sends
that were in flight, and never loses one. A 429 requeues its message for `retry_after`
and pauses the flood limiter's scope (as a rule, the whole bot) for as long.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.channels.contract import Channel, Delivery
from storage import broadcasts, db, outbox
from storage.db import reading, transaction
from storage.outbox import BLOCKED, FAILED, QUEUED, SENT, Due, Outcome

logger = logging.getLogger(__name__)
MAX_TRANSIENT_ATTEMPTS = 10
PAGE = 200
# Messages read from the table and not yet written back. A message's outcome is written
# up to RECORD_EVERY after its send and the next page is read only when a page's room is
# free: at 1,000 sends/s on PostgreSQL two pages ran dry between reads (91 % of the limit
# with 100,000 queued); five keep the sends going (96 %).
MAX_AHEAD = 5 * PAGE
IDLE_WAIT = 1.0  # seconds between looks at the table when nothing is due
# Outcomes gather this long before they are written: at 1,000 sends/s a transaction
# per few sends cost more than the sends (each SQLite commit holds up the event loop).
RECORD_EVERY = 0.05
# Seconds between looks for cancelled broadcasts among the messages read ahead: those not
# yet sending are stopped (up to MAX_AHEAD would otherwise still go out after a cancel).
STOP_CHECK_EVERY = 1.0
# Seconds a send under way gets to finish when the sender stops (its lease lost, or
# the process asked to stop): well within the lease's margin (see `bot.leader.lease`).
STOP_GRACE = 5.0


class OutboxSender:
    """Send due outbox messages through each channel's `deliver`, `concurrency` at a time,
    within that channel's flood limiter.

    Outcomes are written in batches (one transaction for all that finished meanwhile),
    and a message counts as in flight until its outcome is written: a crash repeats at
    most the messages in flight, never loses one. At most `MAX_AHEAD` messages are read
    ahead, so memory stays flat however many are queued.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        make: Callable[[Due], Awaitable[Due]],
        concurrency: int = 32,
    ) -> None:
        self.engine = engine
        self.channels = channels
        self.clock = clock
        # A message's documents made as it is sent (`views.later`, through `Preparing.make`).
        self.make = make
        self.slots = asyncio.Semaphore(concurrency)
        # Messages being sent, or sent with their outcome not written yet.
        self.in_flight: dict[int, asyncio.Future[None]] = {}
        self.delivering: set[int] = set()  # those whose send is under way
        self.busy_chats: set[tuple[str, str]] = set()
        self.wakeup = asyncio.Event()
        self.finished: list[tuple[Due, Outcome]] = []
        self.to_record = asyncio.Event()
        self.waiting: dict[int, int] = {}  # broadcast messages not sending yet: their broadcast
        self.stopped: set[int] = set()  # those stopped because it was cancelled
        self.checked_at = 0.0

    def notify(self) -> None:
        """Tell the sender that messages were queued."""
        self.wakeup.set()

    async def run(self) -> None:
        """Send until cancelled; messages in flight are finished or left queued.

        It may run again after that (the lease came back): it starts from the table.
        """
        # Outcomes the database did not take when the last run ended: their messages
        # stay in hand (not read as due again, their chats busy) until they are written.
        for item, _ in self.finished:
            written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            written.set_result(None)
            self.in_flight[item.id] = written
            self.busy_chats.add((item.channel, item.chat_id))
        if self.finished:
            self.to_record.set()
        recorder = asyncio.create_task(self._recorder())
        try:
            while True:
                self.wakeup.clear()
                room = MAX_AHEAD - len(self.in_flight)
                due: list[Due] = []
                if room >= PAGE:
                    try:
                        due = await db.run(self.engine, self._due, room)
                    except Exception:  # the database is away: keep trying, never stop
                        logger.exception("reading the outbox failed; retrying in a second")
                        await asyncio.sleep(1)
                        continue
                for item in due:
                    chat = (item.channel, item.chat_id)
                    if chat in self.busy_chats or item.id in self.in_flight:
                        continue
                    self.busy_chats.add(chat)
                    task = self.in_flight[item.id] = asyncio.create_task(self._send(item))
                    if item.broadcast is not None:
                        self.waiting[item.id] = item.broadcast
                        task.add_done_callback(partial(self._stopped, item))
                if self.waiting and time.monotonic() - self.checked_at >= STOP_CHECK_EVERY:
                    await self._stop_cancelled()
                wait = STOP_CHECK_EVERY if self.waiting else IDLE_WAIT
                if not due and not self.in_flight:
                    with suppress(Exception):
                        wait = await db.run(self.engine, self._until_next)
                try:
                    async with asyncio.timeout(wait):
                        await self.wakeup.wait()
                except TimeoutError:
                    pass
        finally:
            await self._stop_sends()
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            with suppress(Exception):  # what was sent is written down if the database is up
                self._record_batch([outcome for _, outcome in self.finished])
                self.finished = []
            # Sends cancelled above were not recorded: their messages are still queued.
            self.in_flight.clear()
            self.busy_chats.clear()
            self.waiting.clear()
            self.stopped.clear()

    async def _stop_sends(self) -> None:
        """Stop the sends: those waiting for their turn at once; those under way get
        STOP_GRACE seconds to finish, since one cut off may have arrived without its
        outcome being known, and would go again."""
        under_way = [self.in_flight[i] for i in self.delivering if i in self.in_flight]
        tasks = list(self.in_flight.values())
        for task in tasks:
            if task not in under_way:
                task.cancel()
        if under_way:
            await asyncio.wait(under_way, timeout=STOP_GRACE)
        for task in under_way:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop_cancelled(self) -> None:
        """Stop the waiting messages of broadcasts cancelled since they were read."""
        self.checked_at = time.monotonic()
        try:
            cancelled = await db.run(self.engine, self._cancelled, set(self.waiting.values()))
        except Exception:  # the database is away: they are looked at next time
            return
        for message_id, broadcast_id in list(self.waiting.items()):
            task = self.in_flight.get(message_id)
            if broadcast_id in cancelled and task is not None and not task.done():
                del self.waiting[message_id]
                self.stopped.add(message_id)
                task.cancel()

    def _stopped(self, item: Due, task: asyncio.Task[None]) -> None:
        """Release a message stopped by its broadcast's cancel (cancelled in the table
        already), whether or not its task had started."""
        if task.cancelled() and item.id in self.stopped:
            self.stopped.discard(item.id)
            self._release(item)

    def _cancelled(self, broadcast_ids: set[int]) -> set[int]:
        with reading(self.engine) as session:
            return broadcasts.cancelled_among(session=session, ids=list(broadcast_ids))

    def _due(self, limit: int) -> list[Due]:
        with reading(self.engine) as session:
            return outbox.due(
                session=session,
                now=self.clock(),
                limit=limit,
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
        channel = self.channels[item.channel]
        try:
            if item.content.get("later"):  # seconds of work, away from the event loop
                item = await self.make(item)
            async with self.slots, channel.limiter.slot(item.chat_id, item.chat_kind):
                self.waiting.pop(item.id, None)  # it goes now: a cancel no longer stops it
                self.delivering.add(item.id)
                try:
                    delivery = await channel.deliver(item)
                finally:
                    self.delivering.discard(item.id)
        except Exception as error:
            # A fault of ours (a document that cannot be made, say): tried again after
            # the backoff of a transient failure, and given up as one, not at once forever.
            logger.exception("sending outbox message %s failed", item.id)
            delivery = Delivery("transient", detail=f"error: {type(error).__name__}")
        if delivery.outcome == "retry_after":
            # Telegram's flood control is per bot: every later send to the 429's scope
            # (replies too) waits it out, not only this message's retry.
            channel.limiter.pause(item.chat_id, item.chat_kind, delivery.retry_after or 1.0)
        self.finished.append((item, self._outcome(item, delivery)))
        self.to_record.set()

    async def _recorder(self) -> None:
        """Write the outcomes of finished sends, all that are waiting in one transaction."""
        while True:
            await self.to_record.wait()
            await asyncio.sleep(RECORD_EVERY)
            self.to_record.clear()
            batch, self.finished = self.finished, []
            if not batch:
                continue
            try:
                await db.run(self.engine, self._record_batch, [o for _, o in batch])
            except asyncio.CancelledError:
                self.finished[:0] = batch  # written on the way out, or at the next run
                raise
            except Exception:
                logger.exception("writing %s outbox outcomes failed; retrying", len(batch))
                self.finished[:0] = batch
                await asyncio.sleep(1)
                self.to_record.set()
                continue
            for item, _ in batch:
                self._release(item)

    def _release(self, item: Due) -> None:
        self.in_flight.pop(item.id, None)
        self.waiting.pop(item.id, None)
        self.busy_chats.discard((item.channel, item.chat_id))
        self.wakeup.set()

    def _record_batch(self, outcomes: list[Outcome]) -> None:
        if not outcomes:
            return
        try:
            with transaction(self.engine) as session:
                outbox.record(session=session, outcomes=outcomes)
        except IntegrityError:
            # A message erased (/deleteme) while its send was in flight has no row to
            # record an attempt of: record the others (this costs nothing when none is).
            with transaction(self.engine) as session:
                ids = outbox.existing(session=session, ids=[o.message_id for o in outcomes])
                outbox.record(
                    session=session, outcomes=[o for o in outcomes if o.message_id in ids]
                )

    def _outcome(self, item: Due, delivery: Delivery) -> Outcome:
        now = self.clock()
        outcome = Outcome(
            message_id=item.id,
            outcome=delivery.outcome,
            at=now,
            status=SENT,
            retry_after=delivery.retry_after,
            detail=delivery.detail,
            parts_sent=item.parts_sent + delivery.parts_sent,
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
        return outcome
