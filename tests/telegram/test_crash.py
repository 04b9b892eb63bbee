"""SIGKILL while updates arrive: after a restart every update is processed exactly once."""

import asyncio
import signal
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import Core
from sandbox.client import SandboxClient
from storage.models import ConversationState, InboxUpdate, Initiative, Member
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import each_driver, start_bot, wait_until

CHATS = 50
SCRIPT = [f"/start {DEMO_CODE}", "1", "1", "/new"]  # 4 updates a chat, order matters


def processed(core: Core) -> int:
    with Session(core.engine) as session:
        done = col(InboxUpdate.done_at).is_not(None)
        return int(session.exec(select(func.count()).select_from(InboxUpdate).where(done)).one())


@each_driver
async def test_sigkill_while_200_updates_arrive_processes_each_exactly_once(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path, driver: str
) -> None:
    log = tmp_path / "bot.log"
    bot = start_bot(core.settings.database_url, sandbox_url, log, TELEGRAM_DRIVER=driver)
    # Start the stream once the bot polls: a bot slow to start (a busy machine) would
    # otherwise find all 200 waiting and be done before the kill. The sandbox lists a
    # call when it is answered, and the first long poll is answered only by an update:
    # deleteWebhook comes right before it.
    deadline = asyncio.get_running_loop().time() + 60
    while not await users.calls("deleteWebhook"):
        assert asyncio.get_running_loop().time() < deadline, "the bot never polled"
        await asyncio.sleep(0.05)

    async def send_all() -> None:
        for line in SCRIPT:
            for chat in range(CHATS):
                await users.send_text(9000 + chat, line, first_name=f"Công nhân {chat}")
                await asyncio.sleep(0.005)  # a steady stream, so the kill lands inside it

    sending = asyncio.create_task(send_all())
    try:
        await wait_until(lambda: processed(core) >= 40, timeout=60)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    killed_at = processed(core)
    await sending
    print(f"\nSIGKILL after {killed_at} of {CHATS * len(SCRIPT)} updates were processed")
    assert killed_at < CHATS * len(SCRIPT), "the kill came too late to test anything"

    bot = start_bot(core.settings.database_url, sandbox_url, log, TELEGRAM_DRIVER=driver)
    try:
        await wait_until(lambda: processed(core) >= CHATS * len(SCRIPT), timeout=120)
        await wait_until(lambda: inbox_empty(core), timeout=30)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    with Session(core.engine) as session:
        assert processed(core) == CHATS * len(SCRIPT)
        members = session.exec(select(Member)).all()
        assert len(members) == CHATS and {m.language for m in members} == {"vi"}
        drafts = session.exec(select(Initiative)).all()
        assert len(drafts) == CHATS
        assert len({d.submitter_id for d in drafts}) == CHATS
        steps = [s.step for s in session.exec(select(ConversationState)).all()]
        assert steps == ["wizard.title"] * CHATS


def inbox_empty(core: Core) -> bool:
    with Session(core.engine) as session:
        waiting = col(InboxUpdate.done_at).is_(None)
        return session.exec(select(InboxUpdate).where(waiting)).first() is None
