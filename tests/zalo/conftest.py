"""Fixtures: the emulator's Zalo face on loopback, and the bot's Zalo channel talking to it."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.app import Core
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.channel import ZaloChannel
from bot.dispatch.dispatcher import utc_now
from sandbox.limits import Limits
from sandbox.server import SandboxConfig, running
from sandbox.zalo.client import ZaloSandboxClient
from tests.conftest import outbox_sending

# Seconds to wait for the bot's answer: a restarted `run` on a loaded CI machine takes
# over ten to answer; a passing test waits only as long as the answer takes.
REPLY_WAIT = 30

TOKEN = "1459232241454765289:zalo-test-secret"
ROOT = Path(__file__).resolve().parents[2]
POLL = 1  # seconds `run`'s long poll waits (ZALO_POLL_SECONDS): stopping waits that long
# The in-process channel's long poll (it takes fractions): a teardown waits out the last one.
IN_PROCESS_POLL = 0.25


def free_port() -> int:
    """Return a loopback port nobody listens on (for a webhook server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_bot(
    database_url: str, zalo: ZaloSandboxClient, log: Path, *args: str, **settings: str
) -> subprocess.Popen[bytes]:
    """Start `initiative-bot run ARGS` serving Zalo (polling unless `--zalo-webhook`)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")},
        "ZALO_RATE_PER_SECOND": "0",
        "ZALO_RATE_PER_CHAT": "0",
        "ZALO_RATE_PER_GROUP": "0",
        "ZALO_PAUSE_ON_429": "0.2",
        "ZALO_POLL_SECONDS": str(POLL),  # stopping waits for the poll in flight
        "DATABASE_URL": database_url,
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_BASE": zalo.api_base,
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


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    """Run the emulator (both faces) on a free loopback port."""
    config = SandboxConfig(Limits(bot_per_second=0, private_per_second=0, group_per_minute=0))
    async with running(config) as url:
        yield url


@pytest.fixture
async def zalo(sandbox_url: str) -> AsyncIterator[ZaloSandboxClient]:
    """Return the control client that plays the Zalo users; the face's limits are off."""
    async with ClientSession() as http:
        client = ZaloSandboxClient(sandbox_url, TOKEN, session=http)
        await client.set_limits(bot_per_second=0, chat_per_second=0, group_per_minute=0)
        yield client


@pytest.fixture
async def channel(core: Core, zalo: ZaloSandboxClient) -> AsyncIterator[ZaloChannel]:
    """Build the Zalo channel against the emulator, started, not yet serving."""
    built = ZaloChannel(core, ZaloApi(TOKEN, zalo.api_base), concurrency=4)
    built.limiter = built.sender.limiter = FloodLimiter(Rates(0, 0, 0))
    built.sender.pause = 0.2  # Zalo's 429 says nothing of how long: the test's pause is short
    built.poll_timeout = IN_PROCESS_POLL
    await built.start()
    yield built
    await built.close()


@pytest.fixture
async def polling(channel: ZaloChannel) -> AsyncIterator[ZaloChannel]:
    """Serve the channel (long polling, the inbox processor, confirmations) for the test."""
    stop = asyncio.Event()
    serving = asyncio.create_task(channel.serve(stop))
    yield channel
    stop.set()
    await asyncio.wait_for(serving, timeout=10)


class ZaloUser:
    """A Zalo user in a private chat with the bot (the chat's id is the user's)."""

    def __init__(self, zalo: ZaloSandboxClient, user_id: str, name: str = "Nguyễn Văn An") -> None:
        self.zalo = zalo
        self.user_id = user_id
        self.name = name
        self.seen = 0

    async def say(self, text: str, expect: int = 1) -> list[dict[str, Any]]:
        """Send text and return the `expect` messages the bot answers with."""
        await self.zalo.send_text(self.user_id, text, display_name=self.name)
        return await self.replies(expect)

    async def replies(self, expect: int, timeout: float = REPLY_WAIT) -> list[dict[str, Any]]:
        """Wait for `expect` new messages from the bot and return them."""
        sent = await self.zalo.messages(
            self.user_id, min_count=self.seen + expect, timeout=timeout
        )
        assert len(sent) >= self.seen + expect, f"bot sent {sent[self.seen :]}"
        new, self.seen = sent[self.seen :], len(sent)
        return new

    async def silence(self, seconds: float = 1.0) -> list[dict[str, Any]]:
        """Return what the bot sent beyond what was seen, after waiting `seconds` for more."""
        sent = await self.zalo.messages(self.user_id, min_count=self.seen + 1, timeout=seconds)
        return sent[self.seen :]


def text_of(messages: list[dict[str, Any]]) -> str:
    """Return the texts (and captions) of messages, one after the other."""
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


@contextlib.asynccontextmanager
async def sending(
    core: Core, channel: ZaloChannel, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[None]:
    """Run the leader's outbox sender through the Zalo channel while the block runs."""
    async with outbox_sending(core, {"zalo": channel}, clock):
        yield
