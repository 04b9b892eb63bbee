"""Several long polls at a time (ZALO_POLLERS): what they bring is stored together, one
chat's messages are still handled in the order they were sent, and none twice."""

import asyncio
import errno
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from bot.app import Core
from bot.channels.zalo import held as held_module
from bot.channels.zalo import polling
from bot.channels.zalo.api import Update, ZaloApi
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.held import HeldUpdates
from sandbox.zalo.client import ZaloSandboxClient
from storage import db
from storage.models import InboxUpdate
from tests.conftest import DEMO_CODE
from tests.zalo.conftest import TOKEN, ZaloUser, text_of

# What SQLAlchemy raises when the server closed the connection under a statement.
LOST = Exception("server closed the connection unexpectedly")

USERS = 12


@pytest.fixture
async def three_pollers(channel: ZaloChannel) -> AsyncIterator[list[int]]:
    """Serve the channel with three polls at a time; yield the sizes of the stored batches."""
    sizes: list[int] = []
    receive = channel.receive

    async def counted(updates: list[Update], *, process: bool = True) -> None:
        sizes.append(len(updates))
        await receive(updates, process=process)

    channel.receive = counted  # type: ignore[method-assign]
    channel.pollers = 3
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    yield sizes
    stop.set()
    await asyncio.wait_for(serving, timeout=10)


async def test_three_pollers_store_together_and_keep_each_chats_order(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, three_pollers: list[int]
) -> None:
    users = [ZaloUser(zalo, f"u-burst-{n:02d}") for n in range(USERS)]

    async def type_fast(user: ZaloUser) -> None:
        # Join without waiting for an answer: the language, then consent, by number.
        for text in (f"/start {DEMO_CODE}", "1", "1"):
            await zalo.send_text(user.user_id, text, display_name=user.name)
            await asyncio.sleep(0.002)  # a person's messages are milliseconds apart at least

    await asyncio.gather(*(type_fast(user) for user in users))
    for user in users:
        sent = await user.replies(5)
        assert "Xưởng 1" in text_of(sent[3:4]), f"{user.user_id} got {sent}"
    assert await zalo.pending_updates() == []
    with Session(core.engine) as session:
        stored = session.exec(select(func.count()).select_from(InboxUpdate)).one()
    assert stored == 3 * USERS  # each once
    assert max(three_pollers) > 1  # some updates shared a transaction
    assert sum(three_pollers) == 3 * USERS


async def test_an_update_polled_while_the_database_is_away_is_held_until_stored(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, channel: ZaloChannel
) -> None:
    receive = channel.receive
    outage = [OperationalError("INSERT", {}, LOST, connection_invalidated=True)] * 2

    async def away_twice(updates: list[Update], *, process: bool = True) -> None:
        if outage:
            raise outage.pop()
        await receive(updates, process=process)

    channel.receive = away_twice  # type: ignore[method-assign]
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    try:
        question = await ZaloUser(zalo, "u-outage").say(f"/start {DEMO_CODE}")
        assert "1. Tiếng Việt" in text_of(question)
        assert outage == [] and not serving.done()  # polling went on after the outage
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    with Session(core.engine) as session:
        assert session.exec(select(func.count()).select_from(InboxUpdate)).one() == 1
    assert channel.writing == (core.engine.dialect.name != "sqlite")  # back as before


async def test_held_updates_that_cannot_be_stored_are_set_aside_and_the_bot_starts(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, channel: ZaloChannel
) -> None:
    """An update the database refuses (not away: the same at every start) would stop
    every start: the file is moved aside for a person, and polling begins."""
    bad = {"event_name": "message.text.received", "message": {"text": "x"}}
    channel.held.start()
    channel.held.append([bad])
    receive = channel.receive

    async def refusing(updates: list[Update], *, process: bool = True) -> None:
        if bad in updates:
            raise ValueError("refused")
        await receive(updates, process=process)

    channel.receive = refusing  # type: ignore[method-assign]
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    try:
        user = ZaloUser(zalo, "u-after-refused")
        assert "1. Tiếng Việt" in text_of(await user.say(f"/start {DEMO_CODE}"))
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    aside = [p.name for p in channel.held.path.parent.iterdir() if p.suffix == ".unreadable"]
    assert len(aside) == 1 and channel.held.read() == []


@pytest.fixture
def gate(channel: ZaloChannel) -> asyncio.Event:
    """Hold every store of the channel until the returned event is set."""
    opened = asyncio.Event()
    receive = channel.receive

    async def gated(updates: list[Update], *, process: bool = True) -> None:
        await opened.wait()
        await receive(updates, process=process)

    channel.receive = gated  # type: ignore[method-assign]
    return opened


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(5):
        while not await condition():
            await asyncio.sleep(0.02)


async def two_start(zalo: ZaloSandboxClient, prefix: str) -> list[ZaloUser]:
    """Two users send /start at once."""
    users = [ZaloUser(zalo, f"{prefix}-{n}") for n in range(2)]
    for user in users:
        await zalo.send_text(user.user_id, f"/start {DEMO_CODE}", display_name=user.name)
    return users


async def zalo_keeps(zalo: ZaloSandboxClient, count: int) -> None:
    """Wait until Zalo keeps `count` updates unpolled, and check that it goes on so."""

    async def keeps() -> bool:
        return len(await zalo.pending_updates()) == count

    await until(keeps)
    await asyncio.sleep(0.3)
    assert await keeps()


async def test_a_poll_goes_out_while_the_update_before_it_is_stored(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, channel: ZaloChannel, gate: asyncio.Event
) -> None:
    """With a database server each polled update is written down first, so the next
    poll need not wait for a commit: Zalo has forgotten both while the first is still
    being stored. On SQLite nothing is written (the database is up) and the next poll
    waits for the commit."""
    server = core.engine.dialect.name != "sqlite"
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    try:
        users = await two_start(zalo, "u-ahead")
        await zalo_keeps(zalo, 0 if server else 1)
        written = await asyncio.to_thread(channel.held.read)
        assert len(written) == (2 if server else 0)
        gate.set()
        for user in users:
            assert "1. Tiếng Việt" in text_of(await user.replies(1))
        await until(lambda: asyncio.to_thread(lambda: channel.held.read() == []))
    finally:
        gate.set()
        stop.set()
        await asyncio.wait_for(serving, timeout=10)


async def test_when_updates_cannot_be_written_down_each_poll_waits_for_its_commit(
    core: Core,
    unit_id: int,
    zalo: ZaloSandboxClient,
    channel: ZaloChannel,
    gate: asyncio.Event,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    channel.held = HeldUpdates(tmp_path / "not-a-folder")
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    try:
        users = await two_start(zalo, "u-unwritten")
        await zalo_keeps(zalo, 1)  # the first is polled and held: no poll before its commit
        gate.set()
        for user in users:
            assert "1. Tiếng Việt" in text_of(await user.replies(1))
    finally:
        gate.set()
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    failures = [r for r in caplog.records if "each poll now waits for its commit" in r.message]
    assert len(failures) == 1  # said once, not at every poll


@pytest.mark.parametrize(("pollers", "end"), [(1, "crash"), (3, "crash"), (1, "stop")])
async def test_updates_held_while_the_database_is_away_outlive_a_crash_or_a_stop(
    core: Core,
    unit_id: int,
    zalo: ZaloSandboxClient,
    channel: ZaloChannel,
    pollers: int,
    end: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash (or a stop, which gives up on the outage) during the outage: what was
    polled is stored at the next start; polling pauses once `AHEAD` updates wait (the
    rest stays with Zalo); on SQLite the file is written from the outage's first failed
    try."""

    async def away(updates: list[Update], *, process: bool = True) -> None:
        raise OperationalError("INSERT", {}, LOST, connection_invalidated=True)

    channel.receive = away  # type: ignore[method-assign]
    channel.pollers = pollers
    monkeypatch.setattr(db, "AWAY_PAUSE", 60.0)  # one try, then a long pause
    monkeypatch.setattr(polling, "AHEAD", 2)
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    users = [ZaloUser(zalo, f"u-outage-crash-{n}") for n in range(6)]
    for user in users:
        await zalo.send_text(user.user_id, f"/start {DEMO_CODE}", display_name=user.name)

    async def settled() -> bool:  # polling went as far as it goes
        before = len(await zalo.pending_updates())
        await asyncio.sleep(0.3)
        written = len(await asyncio.to_thread(channel.held.read))
        return len(await zalo.pending_updates()) == before == 6 - written

    await until(settled)
    held = await asyncio.to_thread(channel.held.read)
    left_with_zalo = 6 - len(held)  # each update is either written down or with Zalo
    if pollers == 1:  # on SQLite the poll waits for the commit of what it brought first
        assert len(held) == (1 if core.engine.dialect.name == "sqlite" else 3)  # + AHEAD
    assert left_with_zalo > 0  # polling paused
    assert channel.polling is not None
    if end == "crash":
        channel.polling.cancel()  # as a kill would, holding them
        serving.cancel()
        await asyncio.gather(channel.polling, serving, return_exceptions=True)
    else:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
        await asyncio.wait_for(channel.close(), timeout=channel.poll_timeout + 10)
        assert channel.polling.done()  # given up on, the file keeping its updates
    assert len(await asyncio.to_thread(channel.held.read)) == len(held)

    monkeypatch.setattr(db, "AWAY_PAUSE", 0.05)  # the database is back
    again = ZaloChannel(core, ZaloApi(TOKEN, zalo.api_base), concurrency=4)
    again.limiter = again.sender.limiter = channel.limiter
    again.poll_timeout = channel.poll_timeout
    await again.start()
    stop = asyncio.Event()
    serving = asyncio.create_task(again.serve(stop))
    try:
        for user in users:
            assert "1. Tiếng Việt" in text_of(await user.replies(1))
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
        await again.close()
    assert again.held.read() == []
    with Session(core.engine) as session:
        assert session.exec(select(func.count()).select_from(InboxUpdate)).one() == 6


def test_the_held_updates_file(tmp_path: Path) -> None:
    """Written over zeros and synced; a last line a crash cut is left out, as an earlier
    version's list is read; other lines that are not updates move the file aside (what
    it could read is kept); emptied once all is stored without changing its size; grown
    when full, and rewritten with what waits at the next commit."""
    held = HeldUpdates(tmp_path, size=400)
    assert held.read() == []
    one = {"event_name": "message.text.received", "message": {"text": "Đồ gá", "message_id": "1"}}
    two = {"event_name": "message.text.received", "message": {"text": "Máy", "message_id": "2"}}
    odd = {"event_name": "message.text.received", "message": {"text": "a\ud800b"}}
    held.start()
    assert held.append([one])
    assert held.append([two, odd])  # a lone surrogate, as JSON may carry, is kept too
    assert held.read() == [one, two, odd] and oct(held.path.stat().st_mode)[-3:] == "600"
    held.stored([])
    assert held.read() == [] and held.path.stat().st_size == 400
    assert held.append([two])  # over what was there
    assert held.read() == [two]
    for _ in range(3):
        held.append([one, two])  # past the zeros: the file grows
    assert held.read() == [two] + [one, two] * 3 and held.path.stat().st_size > 400
    held.stored([two])  # full, so rewritten with what waits
    assert held.read() == [two] and held.path.stat().st_size == 400
    held.append([one])
    assert held.read() == [two, one]
    held.close()
    assert not held.append([one])  # closed: the caller waits for the commit
    assert sorted(p.name for p in tmp_path.iterdir()) == [held.path.name]

    held.path.write_text(json.dumps([one]) + "\n" + json.dumps(two) + "\n" + '{"event', "utf-8")
    assert HeldUpdates(tmp_path).read() == [one, two]  # the cut line is left out
    assert held.path.exists()
    held.path.write_text(json.dumps(one) + "\n[1, 2]\n" + json.dumps(two) + "\n", "utf-8")
    assert HeldUpdates(tmp_path).read() == [one, two]
    assert not held.path.exists()
    (aside,) = tmp_path.iterdir()
    assert aside.name.endswith(".unreadable")
    aside.unlink()
    (tmp_path / ".held-crashed").write_text("[", encoding="utf-8")  # a rewrite a crash cut
    HeldUpdates(tmp_path).sweep()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_sync_makes_the_poller_wait_until_one_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held = HeldUpdates(tmp_path)
    held.start()
    update = {"event_name": "message.text.received", "message": {"text": "Đồ gá"}}

    def broken(descriptor: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(held_module.os, "fdatasync", broken)

    def synced() -> None:
        held.syncer.submit(lambda: None).result()

    held.append([update])  # written, and its sync fails
    synced()
    assert not held.append([update])  # failing: the poller waits for the commit
    synced()
    monkeypatch.undo()
    assert not held.append([update])  # until a sync succeeds
    synced()
    assert held.append([update])
    held.close()
    assert len(held.read()) == 4
    assert "could not sync the polled Zalo updates" in caplog.text


async def test_a_lone_surrogate_is_written_down_stored_and_answered(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, polling: ZaloChannel
) -> None:
    """JSON may carry half of a UTF-16 pair; UTF-8 cannot hold it, the file and the
    database must."""
    user = ZaloUser(zalo, "u-surrogate")
    assert "1. Tiếng Việt" in text_of(await user.say(f"/start {DEMO_CODE}"))
    assert text_of(await user.say("\ud800 Đồ gá"))  # answered (a re-ask), not dropped
    with Session(core.engine) as session:
        assert session.exec(select(func.count()).select_from(InboxUpdate)).one() == 2


def test_a_write_is_synced_unless_stored_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync comes `SYNC_AFTER` later, and is left out when the file was emptied by
    then: the commit made the updates durable."""
    held = HeldUpdates(tmp_path)
    held.start()
    synced: list[int] = []
    monkeypatch.setattr(held_module.os, "fdatasync", synced.append)
    update = {"event_name": "message.text.received", "message": {"text": "Đồ gá"}}
    monkeypatch.setattr(held_module, "SYNC_AFTER", 0.5)  # plenty for the next line
    held.append([update])
    held.stored([])  # stored at once
    held.syncer.submit(lambda: None).result()
    assert synced == []
    held.append([update])
    held.append([update])  # one sync covers both
    held.syncer.submit(lambda: None).result()
    assert len(synced) == 1
    held.close()
