"""Telegram's transport under each client library, through the emulator: a reply refused
with 403, the webhook's secret and redeliveries, getUpdates failing.

The scenarios a person goes through are in tests/e2e, on Telegram and Zalo alike."""

import asyncio

from aiohttp import ClientSession
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.webhook import SECRET_HEADER
from sandbox.client import SandboxClient
from storage.models import ConversationState, InboxUpdate, Initiative
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import TelegramUser, each_driver, join

pytestmark = each_driver


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
