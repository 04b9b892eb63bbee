"""`initiative-bot run` with Zalo: next to Telegram by webhook, and a SIGKILL while polling."""

import asyncio
import signal
from pathlib import Path

from aiohttp import ClientSession
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.zalo.webhook import SECRET_HEADER
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from storage.models import InboxUpdate
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.telegram.conftest import TelegramUser, wait_until
from tests.zalo.conftest import ZaloUser, free_port, start_bot, text_of

SECRET = "webhook-secret-of-the-test"
CHATS = 30
SCRIPT = [f"/start {DEMO_CODE}", "1", "1", "/new"]  # 4 updates a chat, order matters


def processed(core: Core) -> int:
    with Session(core.engine) as session:
        done = col(InboxUpdate.done_at).is_not(None)
        query = select(func.count()).select_from(InboxUpdate).where(done)
        return int(session.exec(query.where(InboxUpdate.channel == "zalo")).one())


def waiting(core: Core) -> int:
    with Session(core.engine) as session:
        query = select(func.count()).select_from(InboxUpdate)
        return int(session.exec(query.where(col(InboxUpdate.done_at).is_(None))).one())


async def test_run_serves_telegram_and_zalo_by_webhook_in_one_process(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/zalo-hook"
    log = tmp_path / "bot.log"
    bot = start_bot(
        core.settings.database_url,
        zalo,
        log,
        "--zalo-webhook",
        hook,
        "--zalo-listen",
        f"127.0.0.1:{port}",
        ZALO_WEBHOOK_SECRET=SECRET,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE=sandbox_url,
        TELEGRAM_RATE_PER_CHAT="0",
    )
    try:
        async with ClientSession() as http:
            telegram = TelegramUser(SandboxClient(sandbox_url, TELEGRAM_TOKEN, session=http), 7002)
            worker = ZaloUser(zalo, "z-7003")
            asked = await telegram.say(f"/start {DEMO_CODE}")
            assert "Tiếng Việt" in str(asked[0]["reply_markup"])
            assert "1. Tiếng Việt" in text_of(await worker.say(f"/start {DEMO_CODE}"))
            update = {"event_name": "message.text.received", "message": {"text": "x"}}
            for headers in ({}, {SECRET_HEADER: "not-the-secret"}):
                async with http.post(hook, json=update, headers=headers) as answer:
                    assert answer.status == 401
            await zalo.redeliver(count=2)
            consent = await worker.say("1", expect=2)  # the redelivered /start: handled once
            assert "1. Tôi đồng ý" in text_of(consent)
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    printed = log.read_text("utf-8", errors="replace")
    assert "serving telegram, zalo" in printed and "Traceback" not in printed
    assert TELEGRAM_TOKEN not in printed and "zalo-test-secret" not in printed


async def test_sigkill_while_polling_loses_at_most_the_update_in_flight_and_doubles_none(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    bot = start_bot(core.settings.database_url, zalo, log)
    deadline = asyncio.get_running_loop().time() + 60
    while not await zalo.calls("getMe"):  # start the stream once the bot is up
        assert asyncio.get_running_loop().time() < deadline, "the bot never started"
        await asyncio.sleep(0.05)

    async def send_all() -> None:
        for line in SCRIPT:
            for chat in range(CHATS):
                await zalo.send_text(f"z{chat:03d}", line, display_name=f"Công nhân {chat}")
                await asyncio.sleep(0.005)  # a steady stream, so the kill lands inside it

    sending = asyncio.create_task(send_all())
    try:
        await wait_until(lambda: processed(core) >= 30, timeout=60)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    killed_at = processed(core)
    await sending
    total = CHATS * len(SCRIPT)
    assert killed_at < total, "the kill came too late to test anything"

    bot = start_bot(core.settings.database_url, zalo, log)
    try:
        await wait_until(lambda: processed(core) >= total - 1, timeout=120)

        async def drained() -> bool:
            return not await zalo.pending_updates() and waiting(core) == 0

        while not await drained():
            await asyncio.sleep(0.05)
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    done = processed(core)
    print(f"\nSIGKILL after {killed_at} of {total}; {total - done} lost in flight")
    assert done in (total - 1, total)  # at most the one update of the answer in flight
