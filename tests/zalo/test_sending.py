"""What the bot sends through Zalo: errors waited out or refused, pictures, status messages."""

import asyncio
import errno
import random
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from sqlmodel import Session, select

from bot.app import Core
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.inbox import Queued
from bot.channels.public_files import PublicFiles, serving
from bot.channels.zalo import polling as zalo_polling
from bot.channels.zalo.api import ZaloError
from bot.channels.zalo.channel import ZaloChannel, from_settings
from bot.channels.zalo.convert import key_of
from bot.channels.zalo.outgoing import SEND_ATTEMPTS
from core.codec import reply_to_json, response_to_json
from core.messages import KEPT, OutDocument, Reply, Response, SharedFile, t
from sandbox.zalo.client import ZaloSandboxClient
from storage import outbox
from storage.conversations import OWED
from storage.db import transaction
from storage.models import ConversationState, OutboxMessage
from storage.outbox import Due
from tests.conftest import DEMO_CODE, Clock
from tests.telegram.conftest import wait_until
from tests.zalo.conftest import TOKEN, ZaloUser, sending, text_of

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def notice(n: int, **extra: object) -> dict[str, object]:
    """A numbered notice (any catalog text with a number will do)."""
    return reply_to_json(Reply(t("wizard.text_too_short", min=n), **extra))  # type: ignore[arg-type]


def impatient(channel: ZaloChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the channel retry a failed send at once, with no flood limits."""

    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr(zalo_polling, "ERROR_PAUSE", 0.01)
    channel.sender.sleep = no_wait
    channel.limiter = channel.sender.limiter = FloodLimiter(Rates(0, 0, 0))


def keep(core: Core, clock: Clock, chat: str, response: Response) -> None:
    """Leave a response kept and unconfirmed, as a process that died after the commit."""
    with transaction(core.engine) as session:
        session.add(
            ConversationState(
                channel="zalo",
                chat_id=chat,
                user_id=chat,
                updated_at=clock(),
                replies=response_to_json(response),
                replies_to=f"message.text.received:{chat}",
            )
        )


async def started(zalo: ZaloSandboxClient, chats: list[str]) -> None:
    """Let each user write to the bot once (nobody polls: the updates wait unread)."""
    for chat in chats:
        await zalo.send_text(chat, "xin chào")


async def test_429s_and_500s_on_replies_are_waited_out_sending_each_once(
    core: Core, unit_id: int, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    user = ZaloUser(zalo, "u-errors")
    await zalo.inject_error("sendMessage", 429, count=2)
    await zalo.inject_error("sendMessage", 500, count=2)
    question = await user.say(f"/start {DEMO_CODE}")
    assert "1. Tiếng Việt" in text_of(question)
    assert await user.silence(1.0) == []  # and nothing came twice
    calls = await zalo.calls("sendMessage")
    assert Counter(c.get("error_code") for c in calls) == Counter({429: 2, 500: 2, None: 1})
    await user.say("1", expect=2)  # the conversation goes on


async def test_after_a_failed_step_the_next_attempts_reply_goes_out_whole(
    core: Core,
    unit_id: int,
    polling: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = ZaloUser(zalo, "u-failed-once")
    await user.say(f"/start {DEMO_CODE}")
    real = core.dispatcher._group_once
    # Not the database being away (that waits, saying nothing): a step that failed.
    failures = [RuntimeError("a step failed")] * 2

    def failing(*args: Any, **kwargs: Any) -> Any:
        # Processed as it is stored (then this falls back to storing it alone) or, if
        # its chat is still busy, by the processor: one error text, or two.
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(core.dispatcher, "_group_once", failing)
    sent = await user.say("2", expect=2)  # English
    while "Do you agree" not in text_of(sent[-1:]):
        sent += await user.replies(1)
    error = core.catalogs.render(t("common.internal_error"), "vi")
    texts = [text_of([message]) for message in sent]
    errors = texts.count(error)
    assert 1 <= errors <= 2 and texts[:errors] == [error] * errors
    notice, question = texts[errors:]  # each part of the real reply, none skipped
    assert "how we use your data" in notice and "Do you agree" in question
    assert await user.silence(0.5) == []


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (429, "retry_after"),
        (400, "rejected"),
        (404, "rejected"),
        (401, "transient"),
        (403, "transient"),
        (408, "transient"),
        (500, "transient"),
        (502, "transient"),
    ],
)
async def test_deliver_tells_the_outbox_what_each_zalo_error_means(
    channel: ZaloChannel, zalo: ZaloSandboxClient, code: int, outcome: str
) -> None:
    await started(zalo, ["u551"])
    await zalo.inject_error("sendMessage", code, count=1)
    item = Due(1, "zalo", "u551", "private", "vi", notice(1), attempts=0)
    failed = await channel.deliver(item)
    assert failed.outcome == outcome  # never "blocked": Zalo has no such answer
    assert failed.retry_after == (0.2 if code == 429 else None)
    assert (await channel.deliver(item)).outcome == "sent"
    assert len(await zalo.messages("u551")) == 1


def statuses(core: Core) -> Counter[str]:
    with Session(core.engine) as session:
        return Counter(m.status for m in session.exec(select(OutboxMessage)).all())


async def test_notices_with_429_and_500_on_a_third_arrive_once_each_in_order(
    core: Core, unit_id: int, clock: Clock, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    chats = [f"u7{n:02d}" for n in range(6)]
    await started(zalo, chats)
    with transaction(core.engine) as session:
        for n in range(1, 25):
            outbox.enqueue(
                session=session,
                channel="zalo",
                chat_id=chats[n % len(chats)],
                chat_kind="private",
                language="vi",
                content=notice(n),
                now=clock(),
            )
    await zalo.inject_error("sendMessage", 429, ratio=0.2)
    await zalo.inject_error("sendMessage", 500, ratio=0.15)
    async with sending(core, channel):
        await wait_until(lambda: statuses(core) == Counter({"sent": 24}), timeout=60)
    for index, chat in enumerate(chats):
        got = [m["text"] for m in await zalo.messages(chat)]
        expected = [n for n in range(1, 25) if n % len(chats) == index]
        assert [int("".join(c for c in text if c.isdigit())) for text in got] == expected


async def test_a_picture_without_a_public_url_goes_as_text_and_a_line_saying_so(
    core: Core, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    await started(zalo, ["u801"])
    chart = OutDocument("chart.png", PNG)
    item = Due(1, "zalo", "u801", "private", "vi", notice(3, documents=(chart,)), attempts=0)
    assert (await channel.deliver(item)).outcome == "sent"
    (sent,) = await zalo.messages("u801")
    missing = core.catalogs.render(t("channel.picture_unavailable"), "vi")
    assert sent["text"].endswith("\n" + missing) and "3" in sent["text"]
    assert not await zalo.calls("sendPhoto")


async def test_a_picture_goes_by_its_signed_public_url_when_there_is_one(
    core: Core, clock: Clock, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    await started(zalo, ["u802"])
    public = PublicFiles(core.files, "http://placeholder", b"k" * 32, clock, timedelta(hours=1))
    async with serving(public, "127.0.0.1:0") as address:
        public.base_url = f"http://{address}"
        channel.sender.public_url = public.url
        kept = core.files.put(PNG, ".png")
        shared = SharedFile("photo", KEPT, kept)
        chart = OutDocument("chart.png", PNG[::-1])
        content = notice(4, files=(shared,), documents=(chart,))
        item = Due(1, "zalo", "u802", "private", "vi", content, attempts=0)
        assert (await channel.deliver(item)).outcome == "sent"
    text, first, second = await zalo.messages("u802")
    assert "4" in text["text"] and "\n(" not in text["text"]
    assert await zalo.photo(first["message_id"]) == PNG
    assert await zalo.photo(second["message_id"]) == PNG[::-1]


async def test_a_full_disk_delays_a_notices_chart_without_repeating_its_text(
    core: Core,
    unit_id: int,
    clock: Clock,
    channel: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await started(zalo, ["u804"])
    put = core.files.put
    full = [OSError(errno.ENOSPC, "No space left on device")] * 2

    def put_on_a_full_disk(content: bytes, suffix: str, *, handed: bool = False) -> str:
        if handed and full:
            raise full.pop()
        return put(content, suffix, handed=handed)

    monkeypatch.setattr(core.files, "put", put_on_a_full_disk)
    public = PublicFiles(core.files, "http://placeholder", b"k" * 32, clock, timedelta(hours=1))
    with transaction(core.engine) as session:
        outbox.enqueue(
            session=session,
            channel="zalo",
            chat_id="u804",
            chat_kind="private",
            language="vi",
            content=notice(6, documents=(OutDocument("chart.png", PNG),)),
            now=clock(),
        )
    async with serving(public, "127.0.0.1:0") as address, sending(core, channel):
        public.base_url = f"http://{address}"
        channel.sender.public_url = public.url
        await wait_until(lambda: statuses(core) == Counter({"sent": 1}), timeout=15)
    text, chart = await zalo.messages("u804")  # the text once, then the chart
    assert "6" in text["text"] and await zalo.photo(chart["message_id"]) == PNG
    assert full == []


async def test_a_workbook_goes_as_a_link_that_serves_its_bytes(
    core: Core, clock: Clock, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    await started(zalo, ["u803"])
    public = PublicFiles(core.files, "http://placeholder", b"k" * 32, clock, timedelta(hours=1))
    workbook = OutDocument("sáng-kiến.xlsx", b"PK\x03\x04 a workbook")
    async with serving(public, "127.0.0.1:0") as address, ClientSession() as http:
        public.base_url = f"http://{address}"
        channel.sender.public_url = public.url
        item = Due(1, "zalo", "u803", "private", "vi", notice(5, documents=(workbook,)), 0)
        assert (await channel.deliver(item)).outcome == "sent"
        text, link = await zalo.messages("u803")
        assert "5" in text["text"] and "\n(" not in text["text"]  # nothing said missing
        assert link["text"].startswith("📎 sáng-kiến.xlsx")
        (url,) = re.findall(r"http://\S+", link["text"])
        async with http.get(url) as answer:
            assert answer.status == 200 and await answer.read() == workbook.content
    assert not await zalo.calls("sendPhoto")
    # Handed out, not kept: it goes once the link stops working (tests/test_kept_files.py).
    assert [p.suffix for p in core.files.handed.iterdir()] == [".xlsx"]
    assert not core.files.folder.exists() or not any(core.files.folder.iterdir())


async def test_a_persons_photo_is_downloaded_and_kept_and_an_expired_one_is_lost(
    core: Core, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    update = await zalo.send_photo("u901", PNG, caption="Đồ gá")
    row = Queued(key_of(update), "u901", 1, update)
    incoming = await channel.incoming_of(row)
    assert incoming is not None and incoming.caption == "Đồ gá" and not incoming.unsupported
    (photo,) = incoming.attachments
    assert (photo.kind, photo.channel) == ("photo", KEPT) and core.files.read(
        photo.file_ref
    ) == PNG
    await zalo.expire_file(update["message"]["photo_url"])
    lost = await channel.incoming_of(row)
    assert lost is not None and lost.picture_lost and lost.attachments == ()


async def test_a_photo_of_a_phones_size_is_kept_whole(
    core: Core, channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    picture = PNG + random.Random(7).randbytes(600 * 1024)  # arrives in many pieces
    update = await zalo.send_photo("u902", picture)
    incoming = await channel.incoming_of(Queued(key_of(update), "u902", 1, update))
    assert incoming is not None and not incoming.picture_lost
    (photo,) = incoming.attachments
    assert photo.size == len(picture) and core.files.read(photo.file_ref) == picture


async def test_kept_replies_resent_after_a_restart_go_on_from_the_part_that_failed(
    core: Core,
    clock: Clock,
    channel: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await started(zalo, ["u905"])
    kept = Response("vi", tuple(Reply(t("wizard.text_too_short", min=n)) for n in (1, 2, 3)))
    keep(core, clock, "u905", kept)
    send_message = channel.api.send_message
    calls = []

    async def then_zalo_fails(chat_id: str, text: str) -> str:
        calls.append(text)
        sent = await send_message(chat_id, text)
        if len(calls) == 1:  # the first reply went; the second meets a long outage
            await zalo.inject_error("sendMessage", 500, count=SEND_ATTEMPTS)
        return sent

    monkeypatch.setattr(channel.api, "send_message", then_zalo_fails)
    impatient(channel, monkeypatch)
    async with asyncio.timeout(20):
        assert await channel.recover() == 1
    got = [int("".join(c for c in m["text"] if c.isdigit())) for m in await zalo.messages("u905")]
    assert got == [1, 2, 3]  # each once, in order
    with Session(core.engine) as session:  # confirmed before any update is processed
        query = select(ConversationState).where(ConversationState.chat_id == "u905")
        assert session.exec(query).one().replies_to is None


async def test_a_kept_reply_zalo_keeps_refusing_does_not_hold_up_the_start(
    core: Core,
    clock: Clock,
    channel: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await started(zalo, ["u906", "u907"])
    for chat in ("u906", "u907"):
        keep(core, clock, chat, Response("vi", (Reply(t("wizard.text_too_short", min=6)),)))
    refusing = channel.api.send_message

    async def refused_in_one_chat(chat_id: str, text: str) -> str:
        if chat_id == "u906":
            raise ZaloError("sendMessage", -201, "the person cannot be reached", 200)
        return await refusing(chat_id, text)

    monkeypatch.setattr(channel.api, "send_message", refused_in_one_chat)
    impatient(channel, monkeypatch)
    async with asyncio.timeout(20):
        assert await channel.recover() == 1  # the other chat's went
    assert len(await zalo.messages("u907")) == 1 and await zalo.messages("u906") == []
    channel.replies.flush()
    with Session(core.engine) as session:
        left = session.exec(select(ConversationState).where(ConversationState.chat_id == "u906"))
        state = left.one()
    assert state.replies_to is not None  # tried again at the next start,
    assert state.replies and state.replies[OWED] == state.replies_to  # or with the next answer


async def test_kept_replies_wait_at_start_while_zalo_is_away_then_go(
    core: Core,
    clock: Clock,
    channel: ZaloChannel,
    zalo: ZaloSandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await started(zalo, ["u908"])
    keep(core, clock, "u908", Response("vi", (Reply(t("wizard.text_too_short", min=8)),)))
    await zalo.inject_error("sendMessage", 502, count=3 * SEND_ATTEMPTS)  # three rounds
    impatient(channel, monkeypatch)
    async with asyncio.timeout(20):
        assert await channel.recover() == 1  # not given up while nothing goes at all
    assert len(await zalo.messages("u908")) == 1


async def test_status_messages_go_anew_once_a_minute_at_most_as_the_work_moves(
    channel: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    await started(zalo, ["u990"])
    now = [1000.0]
    channel.monotonic = lambda: now[0]
    channel.limiter = channel.sender.limiter = FloodLimiter(Rates(0, 0, 0))
    progress = Reply(t("wizard.text_too_short", min=1))

    async def post(message_id: str | None, seconds: float, done: float) -> str | None:
        now[0] += seconds
        return await channel.post_status("u990", progress, "vi", message_id, done=done)

    first = await post(None, 0, done=0.0)
    assert first is not None
    assert await post(first, 59, done=0.5) == first  # not a minute yet
    assert await post(first, 2, done=0.05) == first  # less than a tenth more done
    second = await post(first, 5, done=0.2)
    assert second not in (None, first)
    assert await post(second, 600, done=0.2) == second  # stalled: nothing new to say
    third = await post(second, 300, done=0.2)  # but a quarter of an hour passed
    assert third not in (None, second)
    assert len(await zalo.messages("u990")) == 3
    now[0] += 120
    assert await channel.post_status("u990", progress, "vi", third, final=True) == third


async def test_the_configured_rates_keep_a_long_reply_within_zalos_limits(
    core: Core, zalo: ZaloSandboxClient
) -> None:
    zalo_settings = {
        "zalo_bot_token": SecretStr(TOKEN),
        "zalo_api_base": zalo.api_base,
        "zalo_rate_per_chat": 1,
    }
    settings = core.settings.model_copy(update=zalo_settings)
    built = from_settings(replace(core, settings=settings), None)
    await zalo.set_limits(bot_per_second=0, chat_per_second=1, group_per_minute=0)
    await started(zalo, ["u-rate"])
    lines = "\n".join(f"dòng {n} " + "ệ" * 60 for n in range(80))  # three parts
    response = Response("vi", (Reply(t("money.amount", amount=lines)),))
    try:
        assert await built.send_response("u-rate", "private", response)
    finally:
        await built.close()
    assert len(await zalo.messages("u-rate")) == 3
    assert [c for c in await zalo.calls("sendMessage") if c.get("error_code")] == []
