"""Several long polls at a time (ZALO_POLLERS): what they bring is stored together, one
chat's messages are still handled in the order they were sent, and none twice."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from bot.app import Core
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


@pytest.mark.parametrize("pollers", [1, 3])
async def test_updates_held_while_the_database_is_away_outlive_a_crash(
    core: Core,
    unit_id: int,
    zalo: ZaloSandboxClient,
    channel: ZaloChannel,
    pollers: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stop or a crash during the outage: what was held is stored at the next start,
    with several polls in flight too (what the others brought while a batch waited)."""

    async def away(updates: list[Update], *, process: bool = True) -> None:
        raise OperationalError("INSERT", {}, LOST, connection_invalidated=True)

    channel.receive = away  # type: ignore[method-assign]
    channel.pollers = pollers
    # One try, then a long pause: what the other polls bring is written as it comes.
    monkeypatch.setattr(db, "AWAY_PAUSE", 60.0)
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    users = [ZaloUser(zalo, f"u-outage-crash-{n}") for n in range(3)]
    for user in users:
        await zalo.send_text(user.user_id, f"/start {DEMO_CODE}", display_name=user.name)
    async with asyncio.timeout(5):
        while len(channel.held.read()) < pollers:
            await asyncio.sleep(0.05)
    assert len(await zalo.pending_updates()) == 3 - pollers  # Zalo has forgotten the rest
    assert channel.polling is not None
    channel.polling.cancel()  # as a kill would, holding them
    serving.cancel()
    await asyncio.gather(channel.polling, serving, return_exceptions=True)

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
    assert not again.held.path.exists()
    with Session(core.engine) as session:
        assert session.exec(select(func.count()).select_from(InboxUpdate)).one() == 3


def test_a_held_updates_file_that_cannot_be_read_is_moved_aside(tmp_path: Path) -> None:
    held = HeldUpdates(tmp_path)
    assert held.read() == []
    update = {"event_name": "message.text.received", "message": {"text": "Đồ gá"}}
    held.write([update])
    assert held.read() == [update] and oct(held.path.stat().st_mode)[-3:] == "600"
    (tmp_path / ".held-crashed").write_text("[", encoding="utf-8")  # a write a crash cut
    held.sweep()
    for broken in (b'[{"event_name": "message.text', b"\xff\xfe not UTF-8", b'{"a": 1}'):
        held.path.write_bytes(broken)
        assert held.read() == []
        assert not held.path.exists()
    aside = sorted(p.name for p in tmp_path.iterdir())
    assert len(aside) == 3 and all(name.endswith(".unreadable") for name in aside)
    held.write([update])
    held.clear()
    assert held.read() == [] and len(list(tmp_path.iterdir())) == 3
