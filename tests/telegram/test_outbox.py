"""The outbox through the sandbox: order per chat, languages, 429s, 403s, and a SIGKILL."""

import asyncio
import contextlib
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.contract import Delivery
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.telegram.channel import TelegramChannel
from bot.dispatch.dispatcher import utc_now
from bot.leader import outbox as leader_outbox
from bot.leader.outbox import OutboxSender
from bot.leader.preparing import Preparing
from core.codec import reply_to_json
from core.messages import OutDocument, Reply, t
from sandbox.client import SandboxClient
from services import broadcasts, roles
from storage import outbox
from storage.db import transaction
from storage.models import Member, OutboxAttempt, OutboxMessage, Unit
from storage.outbox import Due
from tests.conftest import DEMO_CODE, Clock, outbox_sending
from tests.person import Person
from tests.telegram.conftest import each_driver, start_bot, wait_until

FAST = {
    "TELEGRAM_RATE_PER_SECOND": "400",
    "TELEGRAM_RATE_PER_CHAT": "0",
    "LEADER_LEASE_SECONDS": "2",  # the restarted process takes over soon after the kill
}
NUMBER = re.compile(r"\d+")


def notice(n: int) -> dict[str, object]:
    """A numbered notice (any catalog text with a number will do)."""
    return reply_to_json(Reply(t("wizard.text_too_short", min=n)))


def queue(
    core: Core, clock: Clock, chats: list[int], per_chat: int, member: int | None = None
) -> None:
    """Queue `per_chat` numbered notices to every chat, numbered in queue order."""
    with transaction(core.engine) as session:
        n = 0
        for _ in range(per_chat):
            for chat in chats:
                n += 1
                outbox.enqueue(
                    session=session,
                    channel="telegram",
                    chat_id=str(chat),
                    chat_kind="private",
                    language="vi",
                    content=notice(n),
                    now=clock(),
                    member_id=member,
                )


async def start_chats(users: SandboxClient, chats: list[int]) -> None:
    """Let each user start a chat with the bot, then drop those updates."""
    for chat in chats:
        await users.send_text(chat, "/start")
    await users.api("deleteWebhook", drop_pending_updates=True)


def numbers(sent: list[dict[str, object]]) -> list[int]:
    return [int(NUMBER.findall(str(m["text"]))[0]) for m in sent]


@contextlib.asynccontextmanager
async def sending(core: Core, channel: TelegramChannel, rates: Rates) -> AsyncIterator[None]:
    channel.limiter = FloodLimiter(rates)
    async with outbox_sending(core, {"telegram": channel}):
        yield


def statuses(core: Core) -> Counter[str]:
    with Session(core.engine) as session:
        return Counter(m.status for m in session.exec(select(OutboxMessage)).all())


async def test_notices_arrive_in_order_in_the_members_language(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    with transaction(core.engine) as session:
        english = Member(
            unit_id=unit_id,
            display_name="Ann",
            language="en",
            consent_at=clock(),
            created_at=clock(),
        )
        session.add(english)
        session.flush()
        member_id = english.id
    await start_chats(users, [501, 502])
    queue(core, clock, [501], 3, member=member_id)  # queued in vi, rendered in en
    queue(core, clock, [502], 2)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 5}), timeout=20)
    first = await users.messages(501)
    assert numbers(first) == [1, 2, 3]
    assert all("at least" in str(m["text"]) for m in first)
    assert numbers(await users.messages(502)) == [1, 2]
    assert "ít nhất" in str((await users.messages(502))[0]["text"])
    with Session(core.engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxAttempt)).one() == 5


@each_driver
async def test_deliver_tells_the_outbox_what_each_bot_api_error_means(
    channel: TelegramChannel, users: SandboxClient
) -> None:
    await start_chats(users, [551])
    for code in (429, 403, 400, 500):
        await users.inject_error("sendMessage", code, count=1, retry_after=3)
    item = Due(1, "telegram", "551", "private", "vi", notice(1), attempts=0)
    outcomes = [await channel.deliver(item) for _ in range(5)]
    assert [(d.outcome, d.retry_after) for d in outcomes] == [
        ("retry_after", 3.0),
        ("blocked", None),
        ("rejected", None),
        ("transient", None),
        ("sent", None),
    ]
    assert numbers(await users.messages(551)) == [1]


async def test_a_blocked_chat_is_marked_and_not_retried(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    await start_chats(users, [601, 602])
    await users.block(601)
    queue(core, clock, [601, 602], 2)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"blocked": 2, "sent": 2}), timeout=20)
    calls = [c for c in await users.calls("sendMessage") if c["chat_id"] == 601]
    assert len(calls) == 2 and all(c["error_code"] == 403 for c in calls)


async def test_with_429_on_30_percent_every_notice_arrives_after_its_retry_after(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    chats = list(range(701, 721))
    await start_chats(users, chats)
    queue(core, clock, chats, 3)
    await users.inject_error("sendMessage", 429, ratio=0.3, retry_after=1)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 60}), timeout=60)
    calls = await users.calls("sendMessage")
    refused = [c for c in calls if c["error_code"] == 429]
    assert refused, "the sandbox refused nothing: the test proves nothing"
    for chat in chats:
        assert numbers(await users.messages(chat)) == sorted(numbers(await users.messages(chat)))
        assert len(await users.messages(chat)) == 3
        mine = [c for c in calls if c["chat_id"] == chat]
        for before, after in zip(mine, mine[1:], strict=False):
            if before["error_code"] == 429:
                assert after["at"] - before["at"] >= 1.0 - 0.01
    print(f"\n{len(refused)} of {len(calls)} sends answered 429")
    with Session(core.engine) as session:
        retries = session.exec(
            select(func.count()).where(col(OutboxAttempt.outcome) == "retry_after")
        ).one()
        assert retries == len(refused)


async def test_429s_do_not_use_up_the_tries_a_message_gets_for_failures(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leader_outbox, "MAX_TRANSIENT_ATTEMPTS", 3)
    await start_chats(users, [731])
    queue(core, clock, [731], 1)
    await users.inject_error("sendMessage", 429, count=2, retry_after=1)
    await users.inject_error("sendMessage", 500, count=1)  # a first failure, after two waits
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=15)
    assert numbers(await users.messages(731)) == [1]
    with Session(core.engine) as session:
        (message,) = session.exec(select(OutboxMessage)).all()
        assert message.attempts == 2  # the failure and the send that went


async def test_a_429_pauses_the_sends_to_every_chat_for_its_retry_after(
    core: Core, clock: Clock
) -> None:
    """Telegram's flood control is per bot: one notice's 429 holds back the others too."""
    queue(core, clock, [1001, 1002, 1003, 1004], 1)
    sends: list[tuple[str, float]] = []

    class Refusing:
        """A channel whose first send gets a 429."""

        limiter = FloodLimiter(Rates(per_second=30, private_per_second=1))

        async def deliver(self, item: Due) -> Delivery:
            sends.append((item.chat_id, time.monotonic()))
            if len(sends) == 1:
                return Delivery("retry_after", retry_after=0.5)
            return Delivery("sent")

    sender = OutboxSender(
        engine=core.engine,
        channels={"telegram": Refusing()},
        clock=utc_now,
        make=Preparing(core.engine, core.settings, core.catalogs).make,
    )
    task = asyncio.create_task(sender.run())
    try:
        await wait_until(lambda: statuses(core) == Counter({"sent": 4}), timeout=20)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    (refused, refused_at), later = sends[0], sends[1:]
    assert sorted(chat for chat, _ in later) == ["1001", "1002", "1003", "1004"]
    assert refused in [chat for chat, _ in later]  # retried
    assert all(at - refused_at >= 0.5 - 0.01 for _, at in later)  # none went during the pause


@each_driver
async def test_a_retry_sends_only_what_did_not_go_out(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    """A digest is a text and a chart: when the chart fails, the retry sends the chart.

    The chart goes as a photo (shown in the chat), a table as a document."""
    await start_chats(users, [761])
    chart = OutDocument("chart.png", b"\x89PNG chart")
    table = OutDocument("table.csv", b"a,b\n1,2\n")
    with transaction(core.engine) as session:
        outbox.enqueue(
            session=session,
            channel="telegram",
            chat_id="761",
            chat_kind="private",
            language="vi",
            content=reply_to_json(
                Reply(t("wizard.text_too_short", min=7), documents=(chart, table))
            ),
            now=clock(),
        )
    await users.inject_error("sendPhoto", 502, count=1, html=True)  # a proxy's page
    await users.inject_error("sendPhoto", 500, count=1)
    await users.inject_error("sendPhoto", 429, count=1, retry_after=1)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=20)
    sent = await users.messages(761)
    assert numbers([m for m in sent if m.get("text")]) == [7]  # the text once
    assert len([m for m in sent if m["photo"]]) == 1  # the chart once, as a photo
    assert [m["document_name"] for m in sent if m["document"]] == ["table.csv"]
    assert [c["method"] for c in await users.calls() if c["chat_id"] == 761][-6:] == [
        "sendMessage",
        "sendPhoto",  # 502, an HTML page
        "sendPhoto",  # 500
        "sendPhoto",  # 429
        "sendPhoto",
        "sendDocument",
    ]


async def test_sigkill_with_1000_notices_queued_delivers_every_one(
    core: Core, clock: Clock, users: SandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    chats = list(range(9000, 9250))
    await start_chats(users, chats)
    queue(core, clock, chats, 4)

    def sent_in_db() -> int:
        with Session(core.engine) as session:
            done = col(OutboxMessage.status) == "sent"
            return int(
                session.exec(select(func.count()).select_from(OutboxMessage).where(done)).one()
            )

    async def delivered() -> list[int]:
        found = []
        for chat in chats:
            found += numbers(await users.messages(chat))
        return found

    log = tmp_path / "bot.log"
    bot = start_bot(core.settings.database_url, sandbox_url, log, **FAST)
    try:
        await wait_until(lambda: sent_in_db() >= 200, timeout=60)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    await asyncio.sleep(0.2)
    marked, arrived = sent_in_db(), len(await delivered())
    in_flight = arrived - marked
    assert marked < 1000, "the kill came too late to test anything"

    bot = start_bot(core.settings.database_url, sandbox_url, log, **FAST)
    try:
        await wait_until(lambda: sent_in_db() == 1000, timeout=120)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    everything = await delivered()
    twice = len(everything) - len(set(everything))
    print(f"\nSIGKILL after {marked} marked sent, {in_flight} in flight; delivered twice: {twice}")
    assert set(everything) == set(range(1, 1001))
    assert twice <= in_flight
    for chat in chats:
        got = numbers(await users.messages(chat))
        assert sorted(set(got)) == sorted(set(got), key=got.index)  # in order


async def test_the_sender_survives_a_failed_read_of_the_outbox(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    await start_chats(users, [801])
    queue(core, clock, [801], 1)

    class Flaky(OutboxSender):
        """The database is away for the first read."""

        failed = False

        def _due(self, limit: int) -> list[Due]:
            if not self.failed:
                self.failed = True
                raise ConnectionError("database away")
            return super()._due(limit)

    channel.limiter = FloodLimiter(Rates(0, 0, 0))

    sender = Flaky(
        engine=core.engine,
        channels={"telegram": channel},
        clock=utc_now,
        make=Preparing(core.engine, core.settings, core.catalogs).make,
    )
    task = asyncio.create_task(sender.run())
    try:
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=20)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert sender.failed


async def test_a_fault_of_ours_while_sending_is_retried_with_a_backoff_not_at_once(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await start_chats(users, [802])
    queue(core, clock, [802], 1)
    tries = []

    async def broken(item: Due) -> Delivery:
        tries.append(item.attempts)
        raise RuntimeError("a document that cannot be made")

    monkeypatch.setattr(channel, "deliver", broken)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: len(tries) >= 2, timeout=10)
        await asyncio.sleep(0.5)
    assert tries == [0, 1]  # then a backoff of 2 s (it once went again at once, forever)
    with Session(core.engine) as session:
        (message,) = session.exec(select(OutboxMessage)).all()
        assert (message.status, message.attempts) == ("queued", 2)


async def test_a_sender_stopped_mid_send_sends_everything_when_it_runs_again(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await start_chats(users, [803])
    queue(core, clock, [803], 1)
    deliver, hanging = channel.deliver, asyncio.Event()

    async def hangs_once(item: Due) -> Delivery:
        if not hanging.is_set():
            hanging.set()
            await asyncio.sleep(3600)  # the lease is lost meanwhile
        return await deliver(item)

    monkeypatch.setattr(channel, "deliver", hangs_once)
    monkeypatch.setattr(leader_outbox, "STOP_GRACE", 0.2)  # a send that hangs is cut
    channel.limiter = FloodLimiter(Rates(0, 0, 0))
    sender = OutboxSender(
        engine=core.engine,
        channels={"telegram": channel},
        clock=utc_now,
        make=Preparing(core.engine, core.settings, core.catalogs).make,
    )
    first = asyncio.create_task(sender.run())
    await asyncio.wait_for(hanging.wait(), timeout=10)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    queue(core, clock, [803], 1)  # and one more for the same chat
    again = asyncio.create_task(sender.run())  # the lease came back to this process
    try:
        await wait_until(lambda: statuses(core) == Counter({"sent": 2}), timeout=10)
    finally:
        again.cancel()
        await asyncio.gather(again, return_exceptions=True)
    assert numbers(await users.messages(803)) == [1, 1]  # each queue() numbers from 1


def stopped_sender(core: Core, channel: TelegramChannel) -> OutboxSender:
    channel.limiter = FloodLimiter(Rates(0, 0, 0))
    return OutboxSender(
        engine=core.engine,
        channels={"telegram": channel},
        clock=utc_now,
        make=Preparing(core.engine, core.settings, core.catalogs).make,
    )


async def test_a_send_under_way_when_the_sender_stops_finishes_and_is_not_sent_again(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await start_chats(users, [806])
    queue(core, clock, [806], 1)
    deliver, arrived = channel.deliver, asyncio.Event()

    async def slow_answer(item: Due) -> Delivery:
        delivery = await deliver(item)  # it arrived; Telegram's answer is slow to come
        arrived.set()
        await asyncio.sleep(0.5)
        return delivery

    monkeypatch.setattr(channel, "deliver", slow_answer)
    sender = stopped_sender(core, channel)
    first = asyncio.create_task(sender.run())
    await asyncio.wait_for(arrived.wait(), timeout=10)
    first.cancel()  # the process is asked to stop, or the lease is lost
    await asyncio.gather(first, return_exceptions=True)
    assert statuses(core) == Counter({"sent": 1})  # finished and written on the way out
    again = asyncio.create_task(sender.run())
    await asyncio.sleep(0.5)
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    assert numbers(await users.messages(806)) == [1]  # once


async def test_outcomes_the_database_did_not_take_keep_their_messages_from_going_again(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database away for writes when a run ends, and still when the next starts."""
    await start_chats(users, [807])
    queue(core, clock, [807], 1)
    sender = stopped_sender(core, channel)
    record, away = sender._record_batch, [True]

    def while_away(outcomes: list[outbox.Outcome]) -> None:
        if away[0]:
            raise OperationalError("UPDATE", {}, Exception("could not extend file: No space"))
        record(outcomes)

    monkeypatch.setattr(sender, "_record_batch", while_away)
    monkeypatch.setattr(leader_outbox, "RECORD_EVERY", 0.01)
    first = asyncio.create_task(sender.run())
    await wait_until(lambda: bool(sender.finished), timeout=10)  # sent, not written
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    again = asyncio.create_task(sender.run())  # the outcome still waits for the database
    try:
        await asyncio.sleep(1.0)
        assert numbers(await users.messages(807)) == [1]  # not sent again meanwhile
        away[0] = False
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=10)
    finally:
        again.cancel()
        await asyncio.gather(again, return_exceptions=True)
    assert numbers(await users.messages(807)) == [1]


async def test_a_member_erased_while_their_notice_is_sent_stops_no_other_outcome(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await start_chats(users, [804, 805])
    queue(core, clock, [804, 805], 1)
    deliver = channel.deliver

    async def erased_meanwhile(item: Due) -> Delivery:
        if item.chat_id == "804":  # /deleteme commits while this send is on its way
            with transaction(core.engine) as session:
                outbox.forget(session=session, member_id=0, chats=[("telegram", "804")])
        return await deliver(item)

    monkeypatch.setattr(channel, "deliver", erased_meanwhile)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=10)
        await asyncio.sleep(0.3)  # the recorder has written its batches
    with Session(core.engine) as session:
        (left,) = session.exec(select(OutboxMessage)).all()
        attempts = session.exec(select(OutboxAttempt)).all()
    assert left.chat_id == "805" and [a.message_id for a in attempts] == [left.id]


async def broadcast_to(
    core: Core, clock: Clock, users: SandboxClient, unit_id: int, chats: list[int]
) -> tuple[int, int]:
    """Let `chats` join on Telegram and the first be an organizer who broadcasts to them
    all now; return the organizer's and the broadcast's ids."""
    await start_chats(users, chats)
    for chat in chats:
        Person(core.dispatcher, str(chat), channel="telegram").join(DEMO_CODE)
    with transaction(core.engine) as session:
        boss = session.exec(select(Member)).first()
        unit = session.get(Unit, unit_id)
        assert boss is not None and unit is not None
        roles.grant(session=session, member=boss, unit=unit, role="organizer", now=clock())
        made = broadcasts.create(
            session=session,
            member=boss,
            audience=broadcasts.Audience(unit_id=unit_id),
            versions={"vi": "Hội thi sáng kiến hoãn lại"},
            default_language="vi",
            attachment=None,
            send_at=clock(),
            report_to=("telegram", str(chats[0]), "vi"),
            now=clock(),
        )
        return boss.id or 0, made.id or 0


def cancel(core: Core, clock: Clock, organizer_id: int, broadcast_id: int) -> None:
    with transaction(core.engine) as session:
        organizer = session.get(Member, organizer_id)
        assert organizer is not None
        broadcasts.cancel(
            session=session, member=organizer, broadcast_id=broadcast_id, now=clock()
        )


async def test_a_broadcast_cancelled_before_its_messages_start_leaves_their_chats_free(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chats = [1201, 1202]
    boss, broadcast_id = await broadcast_to(core, clock, users, unit_id, chats)
    real = OutboxSender._cancelled

    def cancelled_meanwhile(sender: OutboxSender, ids: set[int]) -> set[int]:
        cancel(core, clock, boss, broadcast_id)  # commits between the read and the look
        return real(sender, ids)

    monkeypatch.setattr(OutboxSender, "_cancelled", cancelled_meanwhile)
    monkeypatch.setattr(leader_outbox, "STOP_CHECK_EVERY", 0.0)
    async with sending(core, channel, Rates(0, 0, 0)):
        # On SQLite the look comes before the sends start (the database work runs in
        # place); on PostgreSQL they are already on their way, and go.
        await wait_until(lambda: not statuses(core)["queued"], timeout=10)
        queue(core, clock, chats, 1)  # a notice to each afterwards still goes
        await wait_until(lambda: not statuses(core)["queued"], timeout=10)
    last = [(await users.messages(chat))[-1] for chat in chats]
    assert numbers(last) == [1, 2]  # neither chat was left busy by a message never started


async def test_a_cancelled_broadcasts_messages_read_ahead_are_not_sent(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chats = list(range(1101, 1141))
    boss, broadcast_id = await broadcast_to(core, clock, users, unit_id, chats)
    monkeypatch.setattr(leader_outbox, "STOP_CHECK_EVERY", 0.1)

    async def received() -> int:
        return sum([len(await users.messages(chat)) for chat in chats])

    before = await received()  # the joining's replies
    async with sending(core, channel, Rates(10, 0, 0)):  # all 40 are read ahead at once
        await wait_until(lambda: statuses(core)["sent"] >= 3, timeout=10)
        cancel(core, clock, boss, broadcast_id)
        went = statuses(core)["sent"]
        await asyncio.sleep(1.5)  # 15 more would have gone at 10/s
    assert statuses(core)["sent"] <= went + 2  # those already on their way at most
    assert await received() - before == statuses(core)["sent"]


async def test_the_sender_leaves_other_channels_messages_to_them(
    core: Core, unit_id: int, clock: Clock, channel: TelegramChannel, users: SandboxClient
) -> None:
    await start_chats(users, [901])
    with transaction(core.engine) as session:
        outbox.enqueue(
            session=session,
            channel="console",
            chat_id="someone",
            chat_kind="private",
            language="vi",
            content=notice(1),
            now=clock(),
        )
    queue(core, clock, [901], 1)
    async with sending(core, channel, Rates(0, 0, 0)):
        await wait_until(lambda: statuses(core) == Counter({"sent": 1, "queued": 1}), timeout=20)
        await asyncio.sleep(0.3)
    assert statuses(core) == Counter({"sent": 1, "queued": 1})  # the console shows its own
