"""The bot through each real Telegram client library and the local Bot API emulator."""

import asyncio
from typing import Any

from aiohttp import ClientSession
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.webhook import SECRET_HEADER
from sandbox.client import SandboxClient
from storage.models import Attachment, Author, ConversationState, InboxUpdate, Initiative
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import TelegramUser, each_driver

pytestmark = each_driver


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


async def join(user: TelegramUser) -> None:
    assert "Tiếng Việt" in str((await user.say(f"/start {DEMO_CODE}"))[0]["reply_markup"])
    await user.tap("lang:vi", expect=2)
    await user.tap("consent:yes", expect=2)


async def test_scripted_conversation_stores_the_initiative_through_polling(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 5001)
    await join(user)
    await user.say("/new", expect=2)
    await user.say("Đồ gá thay khuôn nhanh <b>mới</b>")
    await user.say("Thay khuôn máy ép mất 45 phút mỗi lần, dây chuyền phải dừng")
    await user.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    await user.tap("field:technical:1")
    saved = await user.say("khoảng 1,5 tỷ/năm", expect=2)
    assert "1.500.000.000 đ" in texts(saved)
    await user.tap("next:details:1")
    await user.say("Giảm 35 phút dừng máy mỗi lần thay khuôn")
    await user.tap("authors:others:1")
    await user.say("Trần Thị Bình 30%")
    await user.say("Lê Văn Cường 20%")
    await user.say("/done")
    await user.tap("applied:yes:1")
    await user.say("15/03/2026")
    await users.send_photo(user.user_id, b"\x89PNG fake", first_name=user.name)
    await user.replies(1)
    await users.send_document(user.user_id, b"%PDF-1.4", "tinh-toan.pdf", first_name=user.name)
    await user.replies(1)
    await user.say("/done")
    summary = await user.tap("secret:no:1")
    assert summary[0]["parse_mode"] == "HTML"  # the emulator accepted it as valid HTML
    assert "&lt;b&gt;mới&lt;/b&gt;" in summary[0]["text"]  # user text is escaped
    await user.tap("summary:submit:1", expect=2)

    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert initiative.status == "submitted"
        assert initiative.title == "Đồ gá thay khuôn nhanh <b>mới</b>"
        assert initiative.estimated_benefit_vnd == 1_500_000_000
        assert str(initiative.first_applied_on) == "2026-03-15"
        authors = session.exec(select(Author).order_by(col(Author.id))).all()
        assert [(a.name, a.share_percent) for a in authors] == [
            ("Nguyễn Văn An", 50),
            ("Trần Thị Bình", 30),
            ("Lê Văn Cường", 20),
        ]
        files = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
        assert [(f.kind, f.channel) for f in files] == [
            ("photo", "telegram"),
            ("document", "telegram"),
        ]
    assert await users.file(files[1].file_ref) == b"%PDF-1.4"
    commands = await users.commands()
    assert any(key.endswith(":vi") for key in commands) and any(
        k.endswith(":id") for k in commands
    )


async def test_forged_callback_is_refused(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 6001)
    await user.say(f"/start {DEMO_CODE}")
    refused = await user.toast("consent:yes")  # a consent button before it was offered
    assert refused and refused.startswith("Bạn vui lòng chọn một phương án")
    await asyncio.sleep(0.2)
    assert len(await users.messages(user.user_id)) == user.seen  # the notice said it all
    with Session(core.engine) as session:
        state = session.exec(select(ConversationState)).one()
        assert state.step == "onboarding.language"


async def test_a_blocked_user_does_not_stop_the_bot(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    await users.inject_error("sendMessage", 403, count=1)
    await users.send_text(7001, f"/start {DEMO_CODE}", first_name="A")
    deadline = asyncio.get_running_loop().time() + 10
    while not any(c.get("error_code") == 403 for c in await users.calls("sendMessage")):
        assert asyncio.get_running_loop().time() < deadline, "the 403 was never answered"
        await asyncio.sleep(0.05)
    other = TelegramUser(users, 7002)
    await other.say(f"/start {DEMO_CODE}")
    with Session(core.engine) as session:
        done = session.exec(select(InboxUpdate).where(col(InboxUpdate.done_at).is_not(None)))
        assert len(done.all()) == 2
    assert await users.messages(7001) == []


async def test_webhook_checks_the_secret_and_processes_a_redelivery_once(
    core: Core, unit_id: int, channel: TelegramChannel, users: SandboxClient, unused_tcp_port: int
) -> None:
    from aiohttp import web

    runner = web.AppRunner(channel.webhook_app("/hook", "s3cret-token"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    processor = asyncio.create_task(channel.processor.run())
    url = f"http://127.0.0.1:{unused_tcp_port}/hook"
    try:
        await channel.set_webhook(url, "s3cret-token")
        user = TelegramUser(users, 8001)
        await join(user)
        update = {
            "update_id": 990001,
            "message": {
                "message_id": 77,
                "date": 1764000000,
                "text": "/new",
                "chat": {"id": 8001, "type": "private"},
                "from": {"id": 8001, "is_bot": False, "first_name": "An"},
            },
        }
        async with ClientSession() as http:
            for secret in (None, "wrong"):
                headers = {SECRET_HEADER: secret} if secret else {}
                async with http.post(url, json=update, headers=headers) as answer:
                    assert answer.status == 401
            for _ in range(2):
                async with http.post(
                    url, json=update, headers={SECRET_HEADER: "s3cret-token"}
                ) as answer:
                    assert answer.status == 200
        await user.replies(2)
        with Session(core.engine) as session:
            assert len(session.exec(select(Initiative)).all()) == 1
            assert session.exec(select(ConversationState)).one().step == "wizard.title"
        assert len(await users.messages(8001)) == user.seen
    finally:
        processor.cancel()
        await runner.cleanup()


async def test_polling_survives_server_errors_from_get_updates(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    await users.inject_error("getUpdates", 500, count=2)
    user = TelegramUser(users, 9101)
    assert "Tiếng Việt" in str((await user.say(f"/start {DEMO_CODE}"))[0]["reply_markup"])
    # The two failing getUpdates calls come after that answer; the bot must poll on.
    assert len(await user.say("1", expect=2)) == 2
