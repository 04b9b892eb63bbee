"""Through the sandbox: an organizer sends an announcement with a photo to a workshop and
watches one progress message turn into the final report; a worker who blocked the bot
unheard of is counted, reported as blocked, and then left out."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.dispatch.dispatcher import utc_now
from bot.leader.broadcast_report import Reporter
from bot.leader.outbox import OutboxSender
from sandbox.client import SandboxClient
from services import roles, units
from storage.db import reading, transaction
from storage.models import Broadcast, ChannelIdentity, Member, OutboxMessage, Unit
from tests.conftest import Clock
from tests.telegram.conftest import TelegramUser, wait_until
from tests.tree import person

ORGANIZER, WORKERS = 900, (901, 902, 903, 904)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def add_member(core: Core, clock: Clock, unit: Unit, user_id: int, language: str) -> Member:
    """Add a member reached in the sandbox user's private chat."""
    with transaction(core.engine) as session:
        return person(session, unit, str(user_id), language, clock)


@pytest.fixture
async def leading(core: Core, polling: TelegramChannel) -> AsyncIterator[None]:
    """Run what the leader process runs next to polling: the sender and the reporter."""
    sender = OutboxSender(
        engine=core.engine,
        channels={"telegram": polling},
        clock=utc_now,
    )

    reporter = Reporter(
        engine=core.engine, posters={"telegram": polling.post_status}, clock=utc_now, every=0.2
    )
    polling.after_update = sender.notify
    tasks = [asyncio.create_task(sender.run()), asyncio.create_task(reporter.run())]
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_announcement_reaches_the_workshop_and_the_organizer_sees_the_report(
    core: Core, clock: Clock, users: SandboxClient, leading: None
) -> None:
    with transaction(core.engine) as session:
        zone = units.add_unit(
            session=session, name="KCN", kind="zone_union", parent=None, now=clock()
        )
        shop = units.add_unit(
            session=session, name="Xưởng may 3", kind="workshop", parent=zone, now=clock()
        )
    boss = add_member(core, clock, zone, ORGANIZER, "vi")
    with transaction(core.engine) as session:
        roles.grant(session=session, member=boss, unit=zone, role="organizer", now=clock())
    for user_id, language in zip(WORKERS, ("vi", "vi", "en", "vi"), strict=True):
        await users.send_text(user_id, "xin chào", first_name="Công nhân")  # a known chat
        add_member(core, clock, shop, user_id, language)
    # The bot missed this block (a blocking it hears of leaves the worker out at once).
    await users.block(WORKERS[-1], notify=False)
    organizer = TelegramUser(users, ORGANIZER)
    asked = await organizer.say("/broadcast")
    assert "Xưởng may 3" in str(asked[0]["reply_markup"])
    await organizer.tap(f"unit:{shop.id}")
    await users.send_photo(ORGANIZER, PNG, caption="Lễ tổng kết <b>thứ Sáu</b> lúc 8h")
    audience = (await organizer.replies(1))[0]["text"]
    assert "4 thành viên" in audience.replace("<b>", "").replace("</b>", "")
    preview = await organizer.tap("aud:go:1", expect=4)  # title, text, photo, question
    assert "Gửi tới 4 thành viên" in preview[-1]["text"]
    await organizer.tap("send:now:1", expect=1)

    def finished() -> bool:
        with reading(core.engine) as session:
            return all(b.reported_final for b in session.exec(select(Broadcast)).all())

    await wait_until(finished, timeout=20)
    for user_id in WORKERS[:3]:
        got = (await users.messages(user_id))[1:]  # after the answer to "xin chào"
        # The organizer's text is escaped: it shows as typed, not as bold.
        assert got[0].get("text") == "📢 Lễ tổng kết &lt;b&gt;thứ Sáu&lt;/b&gt; lúc 8h"
        assert "photo" in got[1] and len(got) == 2
    # The copy of the report comes through the outbox, queued as the report was marked.
    for _ in range(100):
        sent = await users.messages(ORGANIZER)
        if len(sent) >= 2 and sent[-1]["text"] == sent[-2]["text"]:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # two more rounds of the reporter: nothing is posted again
    sent = await users.messages(ORGANIZER)
    assert sum("đã gửi xong" in (message.get("text") or "") for message in sent) == 2
    with reading(core.engine) as session:
        copies = session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == str(ORGANIZER))
        ).all()
        assert [message.status for message in copies] == ["sent"]  # the copy, sent once
    progress, final = sent[-2], sent[-1]
    assert "đã gửi xong" in final["text"] and "Đã gửi: 3 / 4" in final["text"]
    assert "Đã chặn bot: 1" in final["text"]
    assert progress["text"] == final["text"]  # the progress message became the report
    with reading(core.engine) as session:
        blocked = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_user_id == str(WORKERS[-1]))
        ).one()
        assert blocked.unreachable_at is not None  # the 403 marked the worker: left out now
