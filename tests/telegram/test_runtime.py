"""One process serves every configured channel: Telegram and this terminal together."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import Core
from bot.dispatch.dispatcher import Dispatcher
from handlers import get_conversations
from handlers.conversation import Conversation
from locales import Catalogs
from sandbox.client import SandboxClient
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import ROOT, TOKEN, TelegramUser


def serve_both(core: Core, sandbox_url: str, out: Path) -> subprocess.Popen[bytes]:
    """Start `run --console 7001`: Telegram by polling the sandbox, and stdin."""
    env = {
        **os.environ,
        "DATABASE_URL": core.settings.database_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": sandbox_url,
        "TELEGRAM_RATE_PER_CHAT": "0",
        "PYTHONPATH": str(ROOT),
    }
    with out.open("wb") as stdout:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--console", "7001", "--name", "Lê Văn Cường"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            cwd=out.parent,
        )


async def test_run_serves_telegram_and_the_console_in_one_process(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "run.out"
    bot = serve_both(core, sandbox_url, out)
    assert bot.stdin is not None
    try:
        deadline = time.monotonic() + 60  # starting takes seconds on a loaded machine
        while not await users.calls("deleteWebhook"):  # sent right before the first poll
            assert time.monotonic() < deadline, "the bot never polled"
            await asyncio.sleep(0.05)
        worker = TelegramUser(users, 7002)
        # Telegram answers, so the channel is up; the console answers in the same process.
        assert "Tiếng Việt" in str((await worker.say(f"/start {DEMO_CODE}"))[0]["reply_markup"])
        bot.stdin.write(f"/start {DEMO_CODE}\n".encode())
        bot.stdin.close()  # the end of the terminal's input ends the process
        assert bot.wait(timeout=60) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        bot.stdin.close()
    printed = out.read_text(encoding="utf-8")
    assert "serving telegram, console" in printed
    assert "1. Tiếng Việt" in printed  # the language question, as numbered options


async def test_the_command_menu_is_the_conversations_own_in_every_language(
    core: Core, users: SandboxClient, sandbox_url: str, tmp_path: Path
) -> None:
    bot = serve_both(core, sandbox_url, tmp_path / "run.out")
    try:
        deadline = time.monotonic() + 60
        while len(commands := await users.commands()) < 3:
            assert time.monotonic() < deadline, "the menu was never registered"
            await asyncio.sleep(0.1)
    finally:
        bot.kill()
        bot.wait()
        assert bot.stdin is not None
        bot.stdin.close()
    listed = [name for conversation in get_conversations() for name in conversation.menu]
    assert listed[:3] == ["new", "continue", "my"]  # a worker's first
    assert {"review", "broadcast", "campaign", "help"} <= set(listed)
    catalogs = Catalogs()
    for language in ("vi", "en", "id"):
        menu = commands[f"default:{language}"]
        assert [c["command"] for c in menu] == listed
        assert menu[0]["description"] == catalogs.template("command.new", language)
    for conversation in get_conversations():  # each listed command is one it answers
        assert set(conversation.menu) <= set(conversation.commands)


def test_a_menu_command_without_its_handler_is_refused_at_start(core: Core) -> None:
    broken = Conversation(name="broken", menu={"nothing": get_conversations()[0].menu["new"]})
    with pytest.raises(ValueError, match="broken lists commands it lacks"):
        Dispatcher(
            engine=core.engine,
            settings=core.settings,
            catalogs=core.catalogs,
            conversations=[*get_conversations(), broken],
        )
