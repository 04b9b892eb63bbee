"""`initiative-bot run` serving Telegram and Zalo: submit, approve, notice, with a photo that
crosses over from Zalo to a Telegram reviewer and from Telegram to a Zalo reviewer."""

import asyncio
import time
from pathlib import Path

from aiohttp import ClientSession
from sqlmodel import Session, col, select

from bot.app import Core
from core.messages import t
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from services import roles
from storage.db import transaction
from storage.members import member_for
from storage.models import Attachment, Initiative, OutboxMessage
from storage.units import unit_by_id
from tests.conftest import DEMO_CODE, Clock
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.telegram.conftest import TelegramUser, wait_until
from tests.zalo.conftest import ZaloUser, free_port, start_bot, text_of

SECRET = "webhook-secret-of-the-test"
FROM_ZALO = b"\x89PNG\r\n\x1a\n" + b"zalo line " * 300
FROM_TELEGRAM = b"\x89PNG\r\n\x1a\n" + b"telegram jig " * 300
WAITING = "chờ bạn xem xét"  # the reviewers' notice, in Vietnamese
APPROVED = "đã được công nhận"  # the authors' notice


def make_reviewer(core: Core, clock: Clock, unit_id: int, channel: str, user_id: str) -> None:
    """Seat a member on the council of the workshop's enterprise."""
    with transaction(core.engine) as session:
        council = member_for(session=session, channel=channel, user_id=user_id)
        workshop = unit_by_id(session=session, unit_id=unit_id)
        assert council is not None and workshop is not None and workshop.parent_id
        enterprise = unit_by_id(session=session, unit_id=workshop.parent_id)
        assert enterprise is not None
        roles.grant(session=session, member=council, unit=enterprise, role="reviewer", now=clock())


def all_sent(core: Core) -> bool:
    with Session(core.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
        return bool(rows) and all(m.status == "sent" for m in rows)


def newest(core: Core) -> Initiative:
    with Session(core.engine) as session:
        query = select(Initiative).order_by(col(Initiative.id).desc())
        return session.exec(query).first() or Initiative()


def attachment_of(core: Core, initiative_id: int | None) -> Attachment:
    with Session(core.engine) as session:
        query = select(Attachment).where(Attachment.initiative_id == initiative_id)
        return session.exec(query).one()


async def settled(core: Core) -> None:
    """Wait until every queued notice went out."""
    await wait_until(lambda: all_sent(core), timeout=20)


async def up(zalo: ZaloSandboxClient, users: SandboxClient, timeout: float = 60) -> None:
    """Wait until `run` serves both messengers (starting takes seconds on a loaded machine):
    the Zalo webhook is set and Telegram's first poll is on its way."""
    deadline = time.monotonic() + timeout
    while not (await zalo.calls("setWebhook") and await users.calls("deleteWebhook")):
        assert time.monotonic() < deadline, "the bot never started"
        await asyncio.sleep(0.05)


async def join_on_zalo(person: ZaloUser) -> None:
    """Join the test unit in Vietnamese, consenting (options answered by number)."""
    await person.say(f"/start {DEMO_CODE}")
    await person.say("1", expect=2)
    await person.say("1", expect=2)


async def join_on_telegram(person: TelegramUser) -> None:
    """Join the test unit in Vietnamese, consenting (buttons pressed)."""
    await person.say(f"/start {DEMO_CODE}")
    await person.tap("lang:vi", expect=2)
    await person.tap("consent:yes", expect=2)


async def submit_on_zalo(person: ZaloUser, zalo: ZaloSandboxClient) -> None:
    """Write an initiative with the details, FROM_ZALO attached, and submit it."""
    for line, expect in (
        ("/new", 2),
        ("Máy dán nhãn tự động", 1),
        ("Công nhân dán nhãn bằng tay, mất nhiều thời gian", 1),
        ("Lắp cảm biến và cơ cấu dán nhãn tự động", 1),
        ("1", 1),  # technical
        ("100 triệu", 2),
        ("2", 1),  # add details
        ("/skip", 1),  # other effects
        ("1", 1),  # alone
        ("1", 1),  # not applied yet
    ):
        await person.say(line, expect=expect)
    await zalo.send_photo(person.user_id, FROM_ZALO)
    await person.replies(1)
    await person.say("/done")
    await person.say("1")  # not confidential: the summary
    await person.say("1")  # submit


async def submit_on_telegram(person: TelegramUser, users: SandboxClient) -> None:
    """Write an initiative with the details, FROM_TELEGRAM attached, and submit it."""
    await person.say("/new", expect=2)
    await person.say("Đồ gá thay khuôn nhanh")
    await person.say("Thay khuôn máy ép mất 45 phút, dây chuyền phải dừng")
    await person.say("Chế tạo đồ gá định vị, thay khuôn trong 10 phút")
    await person.tap("field:technical:2")
    await person.say("200 triệu", expect=2)
    await person.tap("next:details:2")
    await person.say("/skip")
    await person.tap("authors:alone:2")
    await person.tap("applied:no:2")
    await users.send_photo(person.user_id, FROM_TELEGRAM, first_name=person.name)
    await person.replies(1)
    await person.say("/done")
    await person.tap("secret:no:2")
    await person.tap("summary:submit:2")


async def test_a_photo_crosses_over_between_zalo_and_telegram_through_review_both_ways(
    core: Core,
    clock: Clock,
    unit_id: int,
    zalo: ZaloSandboxClient,
    sandbox_url: str,
    tmp_path: Path,
) -> None:
    hook_port, files_port = free_port(), free_port()
    hook = f"http://127.0.0.1:{hook_port}/zalo-hook"
    files = tmp_path / "files"
    log = tmp_path / "bot.log"
    bot = start_bot(
        core.settings.database_url,
        zalo,
        log,
        "--zalo-webhook",
        hook,
        "--zalo-listen",
        f"127.0.0.1:{hook_port}",
        ZALO_WEBHOOK_SECRET=SECRET,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE=sandbox_url,
        TELEGRAM_RATE_PER_CHAT="0",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{files_port}",
        PUBLIC_FILES_LISTEN=f"127.0.0.1:{files_port}",
        FILES_DIR=str(files),
    )
    try:
        render = core.catalogs.render
        files_option = render(t("review.opt_files", count=1), "vi")
        approve = render(t("review.opt_approve"), "vi")
        async with ClientSession() as http:
            users = SandboxClient(sandbox_url, TELEGRAM_TOKEN, session=http)
            on_zalo, on_telegram = ZaloUser(zalo, "z-9001"), TelegramUser(users, 9002, "Bảo")
            await up(zalo, users)
            await join_on_zalo(on_zalo)
            await join_on_telegram(on_telegram)
            make_reviewer(core, clock, unit_id, "telegram", "9002")

            # A worker on Zalo, a reviewer on Telegram: the photo was kept at intake.
            await submit_on_zalo(on_zalo, zalo)
            first = newest(core)
            assert attachment_of(core, first.id).channel == "kept"
            (notice,) = await on_telegram.replies(1)
            assert WAITING in notice["text"] and first.title in notice["text"]
            await on_telegram.say("/review")
            await on_telegram.tap(f"review:{first.id}")
            _, photo = await on_telegram.tap(f"act:files:{first.id}", expect=2)
            assert await users.file(photo["photo"]) == FROM_ZALO  # uploaded from the bot's copy
            await on_telegram.tap(f"act:approve:{first.id}")
            await on_telegram.say("100 triệu")
            await on_telegram.tap(f"level:grassroots:{first.id}")
            await settled(core)
            to_worker = text_of(await zalo.messages(on_zalo.user_id))
            assert f"«{first.title}» {APPROVED}" in to_worker
            # The certificate PDF goes to Zalo as a link to the bot's signed copy.
            assert f"📎 chung-nhan-sang-kien-{first.id}.pdf" in to_worker

            # A worker on Telegram, a reviewer on Zalo: the photo is fetched from Telegram.
            worker, reviewer = TelegramUser(users, 9004, "Cường"), ZaloUser(zalo, "z-9003")
            await join_on_telegram(worker)
            await join_on_zalo(reviewer)
            make_reviewer(core, clock, unit_id, "zalo", "z-9003")
            await submit_on_telegram(worker, users)
            second = newest(core)
            assert attachment_of(core, second.id).channel == "telegram"
            (notice,) = await reviewer.replies(1)
            assert WAITING in notice["text"] and second.title in notice["text"]
            assert "1. " in text_of(await reviewer.say("/review"))  # the queue: open #2
            card = text_of(await reviewer.say("1"))
            assert second.title in card and f"1. {files_option}" in card
            for _ in range(2):  # the second time from the bot's own copy
                header, photo = await reviewer.say("1", expect=2)
                assert header["text"] == render(t("review.files", count=1), "vi")
                assert "text" not in photo  # a photo, not the "cannot be shown" line
                assert await zalo.photo(photo["message_id"]) == FROM_TELEGRAM  # Zalo's fetch
                async with http.get(photo["photo_url"]) as served:
                    assert await served.read() == FROM_TELEGRAM
            assert len(await users.calls("getFile")) == 1
            kept = {path.suffix for path in (files / "kept").iterdir()}
            photos = [path for path in (files / "kept").iterdir() if path.suffix != ".pdf"]
            assert len(photos) == 2 and kept <= {".jpg", ".png", ".pdf"}  # a copy of each
            await reviewer.say(approve)
            await reviewer.say("200 triệu")
            await reviewer.say("1", expect=2)  # the first level: grassroots
            await settled(core)
            to_worker = [m["text"] for m in await users.messages(worker.user_id)]
            assert any(f"«{second.title}» {APPROVED}" in text for text in to_worker)
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    printed = log.read_text("utf-8", errors="replace")
    assert "Traceback" not in printed and "WARNING" not in printed
    assert TELEGRAM_TOKEN not in printed and "zalo-test-secret" not in printed
    with Session(core.engine) as session:
        decided = session.exec(select(Initiative.status)).all()
    assert decided == ["approved", "approved"]
