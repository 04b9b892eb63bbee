"""`initiative-bot run` with Zalo: next to Telegram by webhook, and a SIGKILL while polling."""

import asyncio
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.public_files import PublicFiles, shared_secret
from bot.channels.zalo.channel import from_settings
from bot.channels.zalo.webhook import SECRET_HEADER
from bot.dispatch.dispatcher import utc_now
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from storage.files import FileStore
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


@pytest.mark.parametrize("pollers", [1, 3])
async def test_sigkill_while_polling_loses_at_most_one_update_a_poller_and_doubles_none(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, tmp_path: Path, pollers: int
) -> None:
    log = tmp_path / "bot.log"
    polls = {"ZALO_POLLERS": str(pollers)}
    bot = start_bot(core.settings.database_url, zalo, log, **polls)
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

    bot = start_bot(core.settings.database_url, zalo, log, **polls)
    try:
        await wait_until(lambda: processed(core) >= total - pollers, timeout=120)

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
    assert total - pollers <= done <= total  # at most the update of each poll in flight


async def test_run_serves_kept_files_at_signed_urls_when_a_public_address_is_set(
    core: Core, unit_id: int, zalo: ZaloSandboxClient, tmp_path: Path
) -> None:
    port, hook_port = free_port(), free_port()
    files = tmp_path / "files"
    log = tmp_path / "bot.log"
    base = f"http://127.0.0.1:{port}"
    bot = start_bot(  # by webhook: stopping does not wait out a long poll
        core.settings.database_url,
        zalo,
        log,
        "--zalo-webhook",
        f"http://127.0.0.1:{hook_port}/zalo-hook",
        "--zalo-listen",
        f"127.0.0.1:{hook_port}",
        ZALO_WEBHOOK_SECRET=SECRET,
        PUBLIC_BASE_URL=base,
        PUBLIC_FILES_LISTEN=f"127.0.0.1:{port}",
        FILES_DIR=str(files),
    )
    try:
        worker = ZaloUser(zalo, "z-7101")
        assert "1. Tiếng Việt" in text_of(await worker.say(f"/start {DEMO_CODE}"))  # up
        # Signed as the bot signs (the secret is kept beside the files, made by the bot).
        public = PublicFiles(FileStore(files), base, shared_secret(files), utc_now)
        key = FileStore(files).put(b"\x89PNG chart", ".png")
        async with ClientSession() as http:
            async with http.get(public.url(key)) as answer:
                assert answer.status == 200 and await answer.read() == b"\x89PNG chart"
            async with http.get(f"{base}/files/{key}/9999999999/{'0' * 32}") as answer:
                assert answer.status == 404
    finally:
        bot.terminate()
        bot.wait(timeout=60)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")


def test_the_zalo_channel_sends_pictures_by_the_public_address_it_is_given(
    core: Core,
) -> None:
    settings = core.settings.model_copy(
        update={"zalo_bot_token": SecretStr("1:x"), "public_base_url": "https://bot.example"}
    )
    channel = from_settings(replace(core, settings=settings), None)
    assert channel.sender.public_url is not None
    assert channel.sender.public_url("a" * 64 + ".png").startswith("https://bot.example/files/")
    bare = core.settings.model_copy(update={"zalo_bot_token": SecretStr("1:x")})
    assert from_settings(replace(core, settings=bare), None).sender.public_url is None


def test_the_long_poll_lasts_zalo_poll_seconds_with_zalo_pollers_at_a_time(core: Core) -> None:
    token = {"zalo_bot_token": SecretStr("1:x")}
    default = from_settings(replace(core, settings=core.settings.model_copy(update=token)), None)
    assert (default.poll_timeout, default.pollers) == (20, 1)
    short = core.settings.model_copy(update={**token, "zalo_poll_seconds": 2, "zalo_pollers": 4})
    chosen = from_settings(replace(core, settings=short), None)
    assert (chosen.poll_timeout, chosen.pollers) == (2, 4)
