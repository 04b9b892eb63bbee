"""Fixtures: the sandbox on loopback, and the bot's Telegram channel talking to it."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.app import Core
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.runner import build_channel
from sandbox.client import SandboxClient
from sandbox.limits import Limits
from sandbox.server import SandboxConfig, running
from tests.conftest import DEMO_CODE

# Seconds to wait for the bot's answer: a restarted `run` on a loaded CI machine takes
# over ten to answer; a passing test waits only as long as the answer takes.
REPLY_WAIT = 30

TOKEN = "424242:AAH" + "t" * 32
ROOT = Path(__file__).resolve().parents[2]
# Tests that must hold on every Telegram client library run under each of them.
DRIVERS = ("aiogram", "ptb")
each_driver = pytest.mark.parametrize("driver", DRIVERS)


def start_bot(
    database_url: str, sandbox_url: str, log: Path, *args: str, **settings: str
) -> subprocess.Popen[bytes]:
    """Start `initiative-bot run ARGS` (long polling unless `--webhook`), logging to `log`."""
    env = {
        **os.environ,
        # As the sandbox fixture: no per-chat limits (a test sets them to try them).
        "TELEGRAM_RATE_PER_CHAT": "0",
        "TELEGRAM_RATE_GROUP_PER_MINUTE": "0",
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": sandbox_url,
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args],
            env=env,
            stdout=out,
            stderr=out,
            cwd=log.parent,
        )


async def wait_until(check: Callable[[], bool], timeout: float) -> None:
    """Wait until a (blocking) check passes; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Return sandbox limits; flood limits are off unless a test turns them on."""
    return SandboxConfig(
        Limits(bot_per_second=0, private_per_second=0, group_per_minute=0), seed=1
    )


@pytest.fixture
async def sandbox_url(sandbox_config: SandboxConfig) -> AsyncIterator[str]:
    """Run the Bot API emulator on a free loopback port."""
    async with running(sandbox_config) as url:
        yield url


@pytest.fixture
async def users(sandbox_url: str) -> AsyncIterator[SandboxClient]:
    """Return the control client that plays the Telegram users."""
    async with ClientSession() as http:
        yield SandboxClient(sandbox_url, TOKEN, session=http)


@pytest.fixture
def driver() -> str:
    """Return the Telegram client library (`each_driver` runs a test under every one)."""
    return "aiogram"


@pytest.fixture
async def channel(core: Core, sandbox_url: str, driver: str) -> AsyncIterator[TelegramChannel]:
    """Build the Telegram channel against the sandbox, without starting to poll."""
    built = build_channel(core, driver, token=TOKEN, api_base=sandbox_url, concurrency=4)
    built.limiter = FloodLimiter(Rates(0, 0, 0))  # as the sandbox fixture's: limits off
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def polling(channel: TelegramChannel) -> AsyncIterator[TelegramChannel]:
    """Serve the channel (long polling, the inbox processor, confirmations) for the test."""
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    yield channel
    stop.set()
    await asyncio.wait_for(serving, timeout=10)  # a channel stops when asked


class TelegramUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(self, users: SandboxClient, user_id: int, name: str = "Nguyễn Văn An") -> None:
        self.users = users
        self.user_id = user_id
        self.name = name
        self.seen = 0

    async def say(self, text: str, expect: int = 1) -> list[dict[str, Any]]:
        """Send text and return the `expect` messages the bot answers with."""
        await self.users.send_text(self.user_id, text, first_name=self.name)
        return await self.replies(expect)

    async def tap(self, data: str, expect: int = 1) -> list[dict[str, Any]]:
        """Press a button of the bot's last keyboard (any data: forged payloads too)."""
        sent = await self.users.messages(self.user_id)
        with_keyboard = [m for m in sent if m.get("reply_markup")]
        message_id = with_keyboard[-1]["message_id"] if with_keyboard else sent[-1]["message_id"]
        await self.users.press(self.user_id, self.user_id, message_id, data)
        return await self.replies(expect)

    async def toast(self, data: str) -> str | None:
        """Press a button of the bot's last keyboard; return the notice shown at it.

        Fails unless the press is answered; a refused press gets a notice and no message.
        """
        sent = await self.users.messages(self.user_id)
        with_keyboard = [m for m in sent if m.get("reply_markup")] or sent
        update = await self.users.press(
            self.user_id, self.user_id, with_keyboard[-1]["message_id"], data
        )
        query_id = update["callback_query"]["id"]
        for _ in range(200):
            if answer := await self.users.callback_answer(query_id):
                text: str | None = answer["text"]
                return text
            await asyncio.sleep(0.05)
        raise AssertionError("the press was never answered")

    async def replies(self, expect: int) -> list[dict[str, Any]]:
        """Wait for `expect` new messages from the bot and return them."""
        sent = await self.users.messages(
            self.user_id, min_count=self.seen + expect, timeout=REPLY_WAIT
        )
        assert len(sent) >= self.seen + expect, f"bot sent {sent[self.seen :]}"
        new, self.seen = sent[self.seen :], len(sent)
        return new


def texts(messages: list[dict[str, Any]]) -> str:
    """Return the texts (and captions) of the bot's messages, one after the other."""
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


async def join(user: TelegramUser, language: str = "vi") -> None:
    """Join the test unit by pressing the language and the consent buttons."""
    assert "Tiếng Việt" in str((await user.say(f"/start {DEMO_CODE}"))[0]["reply_markup"])
    await user.tap(f"lang:{language}", expect=2)
    await user.tap("consent:yes", expect=2)


async def typed(
    user: TelegramUser, text: str, expect: int = 1
) -> tuple[int, list[dict[str, Any]]]:
    """Send text as the user; return the id of their message and the bot's `expect` answers."""
    update = await user.users.send_text(user.user_id, text, first_name=user.name)
    return update["message"]["message_id"], await user.replies(expect)
