"""The inbox processor: order per chat, retries, and the hand-over from the table."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.app import Core
from bot.channels.inbox import MAX_ATTEMPTS, InboxProcessor, Queued
from storage import db, inbox
from storage.db import one_statement, reading, transaction
from storage.models import InboxUpdate

CHANNEL = "test"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def store(engine: Engine, *updates: tuple[int, str]) -> list[Queued]:
    """Store (update id, chat id) pairs in the inbox; return them as the processor gets them."""
    with one_statement(engine) as connection:
        inbox.store(
            connection=connection,
            channel=CHANNEL,
            updates=[inbox.Row(str(u), u, chat, {"n": u}) for u, chat in updates],
            now=NOW,
        )
    return [Queued(str(u), chat, u, {"n": u}) for u, chat in updates]


def waiting(engine: Engine) -> list[InboxUpdate]:
    with reading(engine) as session:
        query = select(InboxUpdate).where(col(InboxUpdate.done_at).is_(None))
        return list(session.exec(query).all())


class Recorder:
    """A handle that records what it got and claims it in the inbox, as the core does."""

    def __init__(self, engine: Engine, fail: dict[int, int] | None = None) -> None:
        self.engine = engine
        self.fail = dict(fail or {})  # update id -> how many times to fail first
        self.done: list[tuple[str, int]] = []
        self.attempts: list[int] = []

    async def __call__(self, item: Queued) -> bool:
        self.attempts.append(item.seq)
        await asyncio.sleep(0)
        if self.fail.get(item.seq, 0) > 0:
            self.fail[item.seq] -= 1
            return False
        with transaction(self.engine) as session:
            claimed = inbox.claim(
                session=session,
                channel=CHANNEL,
                update_id=item.update_id,
                chat_id=item.chat_id,
                now=NOW,
            )
        assert claimed, f"update {item.seq} processed twice"
        self.done.append((item.chat_id, item.seq))
        return True


@asynccontextmanager
async def running(processor: InboxProcessor) -> AsyncIterator[InboxProcessor]:
    task = asyncio.create_task(processor.run())
    try:
        yield processor
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_stored_updates_are_processed_in_order_per_chat(core: Core) -> None:
    store(core.engine, (1, "a"), (2, "b"), (3, "a"))  # waiting from before a restart
    recorder = Recorder(core.engine)
    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=2, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: len(recorder.done) == 3)
        processor.submit(store(core.engine, (4, "b"), (5, "a"), (6, "c")))
        await until(lambda: len(recorder.done) == 6)
    for chat in "abc":
        seqs = [seq for c, seq in recorder.done if c == chat]
        assert seqs == sorted(seqs)
    assert sorted(seq for _, seq in recorder.done) == [1, 2, 3, 4, 5, 6]
    assert waiting(core.engine) == []


async def test_update_handed_over_while_the_table_is_read_is_not_left_behind(
    core: Core,
) -> None:
    store(core.engine, (1, "a"))
    recorder = Recorder(core.engine)

    class Racing(InboxProcessor):
        """Stores and hands over update 2 while the first read of the table runs."""

        raced = False

        def _load(self) -> list[Queued]:
            rows = super()._load()
            if not self.raced:
                self.raced = True
                items = store(core.engine, (2, "a"))
                loop.call_soon_threadsafe(self.submit, items)
            return rows

    loop = asyncio.get_running_loop()
    processor = Racing(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: len(recorder.done) == 2)
    assert recorder.done == [("a", 1), ("a", 2)]
    assert waiting(core.engine) == []


async def test_a_failed_update_is_retried_before_the_next_of_its_chat(core: Core) -> None:
    recorder = Recorder(core.engine, fail={1: 1})
    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (1, "a"), (2, "a")))
        await until(lambda: len(recorder.done) == 2)
    assert recorder.attempts == [1, 1, 2]
    assert recorder.done == [("a", 1), ("a", 2)]


async def test_an_update_that_keeps_failing_is_dropped_and_the_chat_goes_on(
    core: Core,
) -> None:
    recorder = Recorder(core.engine, fail={1: MAX_ATTEMPTS})
    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (1, "a"), (2, "a")))
        await until(lambda: len(recorder.done) == 1)
    assert recorder.attempts == [1] * MAX_ATTEMPTS + [2]
    assert recorder.done == [("a", 2)]
    assert waiting(core.engine) == []


def test_a_processed_update_is_not_stored_or_claimed_again_until_purged(core: Core) -> None:
    def claim(update_id: int) -> bool:
        with transaction(core.engine) as session:
            return inbox.claim(
                session=session, channel=CHANNEL, update_id=str(update_id), chat_id="a", now=NOW
            )

    store(core.engine, (1, "a"))
    assert claim(1) is True
    assert claim(1) is False
    with one_statement(core.engine) as connection:  # Telegram delivers it again
        new = inbox.store(
            connection=connection, channel=CHANNEL, updates=[inbox.Row("1", 1, "a", {})], now=NOW
        )
    assert new == set()
    assert waiting(core.engine) == []
    assert claim(2) is True  # never stored (a console, a test): recorded all the same
    with transaction(core.engine) as session:
        assert inbox.purge(session=session, channel=CHANNEL, before=NOW) == 0
        later = NOW + timedelta(seconds=1)
        assert inbox.purge(session=session, channel=CHANNEL, before=later) == 2
    assert claim(1) is True


def test_updates_keyed_by_strings_are_read_back_in_their_own_seq_order(core: Core) -> None:
    """A messenger without update numbers (Zalo) stores a string key and its own seq."""
    rows = [
        inbox.Row("message.text.received:b2", 20, "a", {"n": 2}),
        inbox.Row("message.text.received:a1", 10, "a", {"n": 1}),
    ]
    with one_statement(core.engine) as connection:
        new = inbox.store(connection=connection, channel=CHANNEL, updates=rows, now=NOW)
    assert new == {"message.text.received:a1", "message.text.received:b2"}
    with one_statement(core.engine) as connection:  # redelivered: same key, a later seq
        again = [inbox.Row("message.text.received:a1", 30, "a", {"n": 1})]
        assert inbox.store(connection=connection, channel=CHANNEL, updates=again, now=NOW) == set()
    with reading(core.engine) as session:
        found = inbox.oldest(session=session, channel=CHANNEL, limit=10)
        assert [(r.update_id, r.seq) for r in found] == [
            ("message.text.received:a1", 10),
            ("message.text.received:b2", 20),
        ]


async def test_the_processor_survives_a_failed_read_of_the_table(core: Core) -> None:
    store(core.engine, (1, "a"))
    recorder = Recorder(core.engine)

    class Flaky(InboxProcessor):
        """The database is away for the first read."""

        failed = False

        def _load(self) -> list[Queued]:
            if not self.failed:
                self.failed = True
                raise ConnectionError("database away")
            return super()._load()

    processor = Flaky(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: len(recorder.done) == 1)
    assert processor.failed and recorder.done == [("a", 1)]


async def test_a_late_update_of_a_busy_chat_is_processed_not_lost(core: Core) -> None:
    release = asyncio.Event()
    recorder = Recorder(core.engine)
    handling = asyncio.Event()

    async def slow(item: Queued) -> bool:
        if item.seq == 2:
            handling.set()
            await release.wait()
        return await recorder(item)

    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=slow, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (2, "a")))
        await handling.wait()  # update 2 is being handled
        processor.submit(store(core.engine, (3, "a"), (1, "a")))  # 1 arrives late
        processor.submit(store(core.engine, (4, "a")))
        release.set()
        await until(lambda: len(recorder.done) == 4)
    assert sorted(seq for _, seq in recorder.done) == [1, 2, 3, 4]
    assert recorder.done[0] == ("a", 2)  # it was already in hand
    assert waiting(core.engine) == []


async def test_a_reserved_chat_gets_nothing_processed_until_its_update_is_back(
    core: Core,
) -> None:
    recorder = Recorder(core.engine)
    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        first, other = store(core.engine, (1, "a"), (2, "b"))
        assert processor.reserve([first, other]) == [first, other]  # both chats free
        assert processor.reserve(store(core.engine, (3, "a"))) == []  # "a" is reserved
        processor.submit(store(core.engine, (4, "a")))
        processor.release([other])
        await until(lambda: not processor.wakeup.is_set())  # it looked at what it has
        assert [item.seq for item in processor.queues["a"]] == [4]
        assert recorder.attempts == []  # 4 waits for 1, which the caller has in hand
        first.processed = True
        processor.resume([first])
        await until(lambda: len(recorder.done) == 2)
    assert recorder.done == [("a", 1), ("a", 4)]


async def test_only_a_chat_with_nothing_in_hand_is_reserved(core: Core) -> None:
    release = asyncio.Event()
    recorder = Recorder(core.engine)

    in_hand = asyncio.Event()

    async def slow(item: Queued) -> bool:
        in_hand.set()
        await release.wait()
        return await recorder(item)

    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=slow, concurrency=1, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (1, "a")))
        await in_hand.wait()  # 1 is in hand, not processed yet
        second, busy = store(core.engine, (2, "a"), (3, "b"))
        assert processor.reserve([second, busy]) == []  # "b" finds no place either
        processor.queues["a"][0].processed = True  # now only its replies are being sent
        # Still in hand: the next step would replace the replies kept until they are sent.
        assert processor.reserve([second]) == []
        processor.submit([second])
        release.set()
        await until(lambda: len(recorder.done) == 2)
    assert recorder.done == [("a", 1), ("a", 2)]


async def test_a_reserved_update_that_failed_goes_before_the_next_of_its_chat(
    core: Core,
) -> None:
    recorder = Recorder(core.engine)
    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        first = store(core.engine, (1, "a"))
        assert processor.reserve(first) == first
        processor.resume(first)  # the core failed on it: `processed` stays false
        second = store(core.engine, (2, "a"))
        assert processor.reserve(second) == []  # 1 is to be processed first
        processor.submit(second)
        await until(lambda: len(recorder.done) == 2)
    assert recorder.done == [("a", 1), ("a", 2)]


async def test_an_update_waits_out_the_database_uncounted_and_is_not_dropped(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "AWAY_PAUSE", 0.01)
    outage = [2 * MAX_ATTEMPTS]
    recorder = Recorder(core.engine)

    async def away_first(item: Queued) -> bool:
        lost = Exception("server closed the connection unexpectedly")
        if outage[0] > 0:
            outage[0] -= 1
            raise OperationalError("INSERT", {}, lost, connection_invalidated=True)
        return await recorder(item)

    processor = InboxProcessor(
        engine=core.engine, channel=CHANNEL, handle=away_first, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (1, "a"), (2, "a")))
        await until(lambda: len(recorder.done) == 2)
    assert outage == [0] and recorder.done == [("a", 1), ("a", 2)]
    with reading(core.engine) as session:
        assert [u.attempts for u in session.exec(select(InboxUpdate))] == [0, 0]


async def test_a_failure_recorded_while_the_database_goes_is_recorded_not_redone(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "AWAY_PAUSE", 0.01)
    recorder = Recorder(core.engine, fail={1: 1})

    class Flaky(InboxProcessor):
        """Its first record of a failure meets the database away."""

        outage = 1

        def _failed(self, item: Queued, attempts: int) -> None:
            if self.outage:
                self.outage -= 1
                lost = Exception("server closed the connection unexpectedly")
                raise OperationalError("UPDATE", {}, lost, connection_invalidated=True)
            super()._failed(item, attempts)

    processor = Flaky(
        engine=core.engine, channel=CHANNEL, handle=recorder, concurrency=4, clock=lambda: NOW
    )
    async with running(processor):
        await until(lambda: not processor.backlog)
        processor.submit(store(core.engine, (1, "a")))
        await until(lambda: len(recorder.done) == 1)
    assert recorder.attempts == [1, 1]  # failed once, then done: not handled again to record
    with reading(core.engine) as session:
        assert session.exec(select(InboxUpdate)).one().attempts == 1
