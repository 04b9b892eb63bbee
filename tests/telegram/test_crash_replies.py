"""Ten SIGKILLs while 50 people answer wizard steps: every answer arrives, no draft is off.

Each person waits for the bot's answer before typing the next message, as a person
does: a lost answer stalls that chat and fails the test. The sandbox answers 429 to some
sends, so kills also land while replies wait out a `retry_after`.
"""

import asyncio
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.app import Core
from sandbox.client import SandboxClient
from storage.models import ConversationState, Initiative, Member
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import start_bot

CHATS = 50
KILLS = 10
FIRST_USER = 9500
# (what the person does, text that the answer to it contains)
SCRIPT = [
    ("say", f"/start {DEMO_CODE}", "ngôn ngữ"),
    ("tap", "lang:vi", "đồng ý"),
    ("tap", "consent:yes", "Chào mừng"),
    ("say", "/new", "(1/5)"),
    ("say", "Đồ gá số {n}", "(2/5)"),
    ("say", "Vấn đề của xưởng số {n}", "(3/5)"),
    ("say", "Giải pháp số {n}", "(4/5)"),
]


class Person:
    """One worker who types the script, waiting for each answer."""

    def __init__(self, users: SandboxClient, n: int) -> None:
        self.users = users
        self.n = n
        self.user_id = FIRST_USER + n
        self.seen = 0  # bot messages counted so far, repeats included
        self.step = 0

    async def run(self) -> None:
        for kind, value, expected in SCRIPT:
            text = value.format(n=self.n)
            if kind == "say":
                await self.users.send_text(self.user_id, text, first_name=f"Công nhân {self.n}")
            else:
                sent = await self.users.messages(self.user_id)
                keyboards = [m for m in sent if m.get("reply_markup")]
                message_id = keyboards[-1]["message_id"]
                await self.users.press(self.user_id, self.user_id, message_id, text)
            await self._answer(expected)
            self.step += 1

    async def _answer(self, expected: str) -> None:
        """Wait for the answer, which contains `expected` (a repeat of an earlier one does not)."""
        while True:
            sent = await self.users.messages(self.user_id, min_count=self.seen + 1, timeout=30)
            if any(expected in str(m.get("text") or "") for m in sent[self.seen :]):
                self.seen = len(sent)
                return
            self.seen = max(self.seen, len(sent) - 1)  # wait for one more


def bot_texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m.get("text") or "") for m in messages]


async def polls(users: SandboxClient, before: int, timeout: float = 60) -> None:
    """Wait until the bot (re)started polls: deleteWebhook comes right before the first
    long poll, which the sandbox lists only once an update answers it."""
    deadline = time.monotonic() + timeout
    while len(await users.calls("deleteWebhook")) <= before:
        assert time.monotonic() < deadline, "the bot never polled"
        await asyncio.sleep(0.05)


# Each driver once and each database once: a run takes a minute and a half.
@pytest.mark.parametrize(
    ("database_url", "driver"),
    [("sqlite", "aiogram"), ("postgresql", "ptb")],
    indirect=["database_url"],
)
async def test_ten_sigkills_lose_no_answer_and_no_draft_differs_from_what_was_typed(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path, driver: str
) -> None:
    log = tmp_path / "bot.log"
    chance = random.Random(20261204)
    await users.inject_error("sendMessage", 429, ratio=0.02, retry_after=1)

    def start() -> subprocess.Popen[bytes]:
        return start_bot(
            core.settings.database_url,
            sandbox_url,
            log,
            TELEGRAM_DRIVER=driver,
            TELEGRAM_RATE_PER_SECOND="0",  # the sandbox has no limit: only its 429s count
        )

    people = [Person(users, n) for n in range(CHATS)]
    bot = start()
    await polls(users, 0)
    typing = [asyncio.create_task(person.run()) for person in people]
    try:
        for _ in range(KILLS):
            await asyncio.sleep(chance.uniform(0.2, 1.5))
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=30)
            before = len(await users.calls("deleteWebhook"))
            bot = start()
            await polls(users, before)
        done, pending = await asyncio.wait(typing, timeout=180)
        assert not pending, (
            f"stalled chats: {[p.n for p, t in zip(people, typing, strict=True) if not t.done()]}"
        )
        for task in done:
            task.result()
    finally:
        for task in typing:
            task.cancel()
        bot.terminate()
        bot.wait(timeout=30)

    repeats = 0
    for person in people:
        texts = bot_texts(await users.messages(person.user_id))
        repeats += len(texts) - len(dict.fromkeys(texts))
        at = 0
        for _, _, expected in SCRIPT:  # every answer, in order
            found = [i for i in range(at, len(texts)) if expected in texts[i]]
            assert found, f"chat {person.n} never got {expected!r} after {texts[:at]}: {texts}"
            at = found[0] + 1
    print(f"\n{KILLS} kills, {repeats} repeated messages over {CHATS} chats")
    assert repeats <= KILLS * 32  # at most what was in flight at each kill
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    with Session(core.engine) as session:
        assert len(session.exec(select(Member)).all()) == CHATS
        drafts = session.exec(select(Initiative).order_by(col(Initiative.id))).all()
        typed = {
            (f"Đồ gá số {n}", f"Vấn đề của xưởng số {n}", f"Giải pháp số {n}")
            for n in range(CHATS)
        }
        assert {(d.title, d.problem, d.solution) for d in drafts} == typed
        assert len(drafts) == CHATS
        steps = session.exec(select(ConversationState.step)).all()
        assert sorted(s for s in steps if s) == ["wizard.field"] * CHATS
