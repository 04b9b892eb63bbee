"""An organizer's announcement with a photo reaches a workshop on each messenger, and the
progress turns into the final report; a second one, whose photos keep failing, is
stopped with /broadcast cancel and reported as stopped. On Telegram a worker who blocked
the bot unheard of is counted, reported as blocked, and then left out."""

from sqlmodel import select

from bot.app import Core
from core.messages import t
from sandbox.client import SandboxClient
from services import units
from storage.db import reading, transaction
from storage.models import Broadcast, ChannelIdentity, OutboxMessage
from tests.conftest import Clock
from tests.e2e.conftest import WAIT, Leading, Messenger, until
from tests.e2e.people import Person, text_of

ORGANIZER, WORKERS = 900, (901, 902, 903, 904)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
CAPTION = "Lễ tổng kết <b>thứ Sáu</b> lúc 8h"  # markup typed by the organizer is text


def finished(core: Core, broadcast_id: int) -> bool:
    with reading(core.engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        return broadcast is not None and broadcast.reported_final


async def reported(core: Core, bot: Leading, broadcast_id: int) -> None:
    """Wait until the broadcast's final report is marked, and wake the outbox sender for
    its copy, queued with the mark (the sender would look within a second anyway)."""
    await until(lambda: finished(core, broadcast_id), WAIT)
    bot.sender.notify()


def all_tried(core: Core, broadcast_id: int) -> bool:
    """Whether every message of the broadcast was tried once at least."""
    with reading(core.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        return all(message.attempts for message in session.exec(query).all())


async def announce(organizer: Person, shop: str, text: str) -> list[str]:
    """Write an announcement with a photo to a workshop and preview it; return the
    preview's texts."""
    asked = await organizer.say("/broadcast")
    assert shop in [label for label, _ in asked[0].options]
    await organizer.choose(shop)
    (audience,) = await organizer.send_photo(PNG, caption=text)
    preview = await organizer.choose(t("broadcast.opt_preview"), expect=4)
    assert preview[2].picture  # title, text, photo, question: as the workers will see it
    return [audience.text, *(m.text for m in preview)]


async def test_an_announcement_reaches_the_workshop_with_its_progress_and_one_is_cancelled(
    core: Core, clock: Clock, messenger: Messenger, bot: Leading
) -> None:
    with transaction(core.engine) as session:
        zone = units.add_unit(
            session=session, name="KCN", kind="zone_union", parent=None, now=clock()
        )
        shop = units.add_unit(
            session=session, name="Xưởng may 3", kind="workshop", parent=zone, now=clock()
        )
        zone_id, shop_id = zone.id or 0, shop.id or 0
    organizer = messenger.person(ORGANIZER, "Tổ chức")
    await messenger.enrol(organizer, zone_id)
    messenger.grant(organizer, "organizer", zone_id)
    workers = [messenger.person(n, "Công nhân") for n in WORKERS]
    for worker, language in zip(workers, ("vi", "vi", "en", "vi"), strict=True):
        await messenger.enrol(worker, shop_id, language)
    client = messenger.client
    blocks = isinstance(client, SandboxClient)  # Zalo never tells a bot it was blocked
    if isinstance(client, SandboxClient):  # unheard of: a blocking it hears of leaves out
        await client.block(WORKERS[-1], notify=False)
    reached = workers[:3] if blocks else workers

    audience, *_, confirm = await announce(organizer, "Xưởng may 3", CAPTION)
    assert "4 thành viên" in audience and "Gửi tới 4 thành viên" in confirm
    await organizer.choose(t("broadcast.opt_now"))
    await reported(core, bot, 1)
    for worker in reached:
        text, photo = await worker.replies(2)
        assert text.text == f"📢 {CAPTION}"  # shown as typed, on either messenger
        assert photo.picture and await worker.silence(0) == []
    sent = 3 if blocks else 4
    report = await organizer.shown(f"Đã gửi: {sent} / 4")
    assert "đã gửi xong" in report.text and f"Đã chặn bot: {4 - sent}" in report.text
    await bot.settle(organizer)
    assert await organizer.silence(0.4) == []  # two more rounds of the reporter: nothing
    reports = [m.text for m in await organizer.messages() if "đã gửi xong" in m.text]
    # Telegram edits the progress message into the report; a copy comes so it is noticed.
    assert len(reports) == (2 if organizer.edits else 1) and len(set(reports)) == 1
    with reading(core.engine) as session:
        copies = session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == organizer.user_id)
        ).all()
        assert [message.status for message in copies] == ["sent"]  # the copy, sent once
        if blocks:  # the 403 marked the worker: left out from now on
            blocked = session.exec(
                select(ChannelIdentity).where(
                    ChannelIdentity.external_user_id == workers[-1].user_id
                )
            ).one()
            assert blocked.unreachable_at is not None

    # The photos of the second one fail: its messages wait, and the organizer stops it.
    audience, *_ = await announce(organizer, "Xưởng may 3", "Họp tổ lúc 8h")
    await client.inject_error("sendPhoto", 500, count=len(reached))
    started = await organizer.choose(t("broadcast.opt_now"))
    assert "#2" in text_of(started)
    await until(lambda: all_tried(core, 2), WAIT)
    await organizer.shown(f"Còn lại: {len(reached)} / {len(reached)}")  # its progress
    await organizer.catch_up()
    await organizer.say("/broadcast cancel")
    # Zalo cannot edit: a progress line may come as a new message next to the answer.
    await organizer.pick(t("broadcast.opt_stop", id=2))
    stopped = await organizer.shown("Đã dừng thông báo #2")
    assert f"Đã dừng thông báo #2: {len(reached)} tin" in stopped.text
    await reported(core, bot, 2)
    report = await organizer.shown("Không gửi (đã dừng)")
    assert f"Không gửi (đã dừng): {len(reached)}" in report.text
    for worker in reached:  # the text went out before the photo failed; nothing after it
        (text,) = await worker.replies(1)
        assert text.text == "📢 Họp tổ lúc 8h"
        assert await worker.silence(0) == []
