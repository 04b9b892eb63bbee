"""Ten SIGKILLs of `initiative-bot run` while 25 people on Telegram and 25 on Zalo go
through the wizard and submit: every answer arrives, and no initiative differs from what
was typed.

One process serves both messengers, as in production: Telegram by long polling, Zalo by
webhook (the emulator redelivers an update until the bot answered 200, which it does
only after the commit: by long polling, Zalo's answer in flight at a kill is lost, as
tests/zalo/test_run.py shows). Each person waits for the bot's answer before the next
message, as a person does: a lost answer stalls that chat and fails the test. The
emulator answers 429 to some sends, so kills also land while replies wait out a pause.
"""

import asyncio
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlmodel import Session, col, select

from bot.app import Core
from sandbox.client import SandboxClient
from sandbox.limits import Limits
from sandbox.server import SandboxConfig
from sandbox.zalo.client import ZaloSandboxClient
from sandbox.zalo.records import ZaloLimits
from storage.models import ChannelIdentity, ConversationState, Initiative, Member
from tests.conftest import DEMO_CODE
from tests.e2e.people import Person, TelegramPerson, ZaloPerson
from tests.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.zalo.conftest import TOKEN as ZALO_TOKEN
from tests.zalo.conftest import free_port, start_bot

EACH = 25  # people on each messenger
KILLS = 10
FIRST_USER = 9500
SECRET = "webhook-secret-of-the-crash-test"
# (what the person does, with what, a phrase of the bot's answer to it)
SCRIPT = [
    ("say", f"/start {DEMO_CODE}", "ngôn ngữ"),
    ("choose", "Tiếng Việt", "như mô tả ở trên"),
    ("choose", "Tôi đồng ý", "Chào mừng"),
    ("say", "/new", "(1/5)"),
    ("say", "Đồ gá số {n}", "(2/5)"),
    ("say", "Vấn đề của xưởng số {n}", "(3/5)"),
    ("say", "Giải pháp số {n}", "(4/5)"),
    ("choose", "Cải tiến kỹ thuật", "(5/5)"),
    ("say", "{m} triệu", "có thể gửi"),
    ("choose", "Bổ sung thông tin", "(6/10)"),
    ("say", "Tiết kiệm {m} giờ mỗi tuần", "(7/10)"),
    ("choose", "Một mình", "(8/10)"),
    ("choose", "Chưa", "(9/10)"),
    ("say", "/done", "(10/10)"),
    ("choose", "Không", "kiểm tra lại"),
    ("submit", "Gửi", "đã được gửi đến Hội đồng"),
]
# Fifty "Đồ gá số N" in one unit are alike: from the second on, the wizard may show the
# others first; the person submits anyway.
SIMILAR = "giống sáng kiến của bạn"


@pytest.fixture
def emulator_config() -> SandboxConfig:
    """The emulator, its limits off, retrying a webhook soon after the bot is back."""
    return SandboxConfig(
        Limits(bot_per_second=0, private_per_second=0, group_per_minute=0),
        ZaloLimits(bot_per_second=0, chat_per_second=0, group_per_minute=0),
        webhook_max_delay=0.4,
        seed=1,
    )


async def type_script(person: Person, n: int) -> None:
    """Type the script, waiting for each answer."""
    for kind, value, expected in SCRIPT:
        if kind == "say":
            await person.write(value.format(n=n, m=n + 1))
        else:
            await person.pick(value)
        if kind != "submit":
            await person.answered(expected)
        elif await person.answered(expected, SIMILAR) == SIMILAR:
            await person.pick("Vẫn gửi")
            await person.answered(expected)


def texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m.get("text") or "") for m in messages]


# Each Telegram client library once and each database once: a run takes 40 to 110 s (an
# aiogram process takes seconds longer to start than a python-telegram-bot one).
@pytest.mark.parametrize(
    ("database_url", "driver"),
    [("sqlite", "aiogram"), ("postgresql", "ptb")],
    indirect=["database_url"],
)
async def test_ten_sigkills_lose_no_answer_on_either_messenger_and_nothing_typed_differs(
    core: Core, unit_id: int, emulator: str, tmp_path: Path, driver: str
) -> None:
    log = tmp_path / "bot.log"
    port = free_port()
    chance = random.Random(20261204)
    async with ClientSession() as http:
        telegram = SandboxClient(emulator, TELEGRAM_TOKEN, session=http)
        zalo = ZaloSandboxClient(emulator, ZALO_TOKEN, session=http)
        await telegram.inject_error("sendMessage", 429, ratio=0.02, retry_after=1)
        await zalo.inject_error("sendMessage", 429, ratio=0.02)

        def start() -> subprocess.Popen[bytes]:
            return start_bot(
                core.settings.database_url,
                zalo,
                log,
                "--zalo-webhook",
                f"http://127.0.0.1:{port}/zalo-hook",
                "--zalo-listen",
                f"127.0.0.1:{port}",
                ZALO_WEBHOOK_SECRET=SECRET,
                TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
                TELEGRAM_API_BASE=emulator,
                TELEGRAM_DRIVER=driver,
                TELEGRAM_RATE_PER_SECOND="0",  # the emulator has no limit: only its 429s
                TELEGRAM_RATE_PER_CHAT="0",
                TELEGRAM_RATE_GROUP_PER_MINUTE="0",
            )

        async def serving(before: tuple[int, int], timeout: float = 60) -> None:
            """Wait until the bot (re)started serving both: Telegram's deleteWebhook comes
            right before its first long poll, Zalo's setWebhook once it listens."""
            deadline = time.monotonic() + timeout
            while not all(now > then for now, then in zip(await started(), before, strict=True)):
                assert time.monotonic() < deadline, "the bot never served"
                await asyncio.sleep(0.05)

        async def started() -> tuple[int, int]:
            polled = len(await telegram.calls("deleteWebhook"))
            return polled, len(await zalo.calls("setWebhook"))

        catalogs = core.catalogs
        people: list[Person] = [
            TelegramPerson(telegram, FIRST_USER + n, f"Công nhân {n}", "vi", catalogs)
            for n in range(EACH)
        ]
        people += [
            ZaloPerson(zalo, f"z{FIRST_USER + n}", f"Công nhân {n}", "vi", catalogs)
            for n in range(EACH, 2 * EACH)
        ]
        bot = start()
        await serving((0, 0))
        typing = [asyncio.create_task(type_script(p, n)) for n, p in enumerate(people)]
        try:
            for _ in range(KILLS):
                await asyncio.sleep(chance.uniform(0.2, 1.5))
                bot.send_signal(signal.SIGKILL)
                bot.wait(timeout=30)
                before = await started()
                bot = start()
                await serving(before)
            done, pending = await asyncio.wait(typing, timeout=180)
            stalled = [p for p, t in zip(people, typing, strict=True) if not t.done()]
            seen = {p.user_id: [m.text[:60] for m in await p.messages()][-6:] for p in stalled}
            assert not pending, f"stalled chats, with the bot's last messages to each: {seen}"
            for task in done:
                task.result()
        finally:
            for task in typing:
                task.cancel()
            bot.terminate()
            bot.wait(timeout=30)

        repeats = {"telegram": 0, "zalo": 0}
        for person in people:
            raw = await (
                telegram.messages(int(person.user_id))
                if isinstance(person, TelegramPerson)
                else zalo.messages(person.user_id)
            )
            said = texts(raw)
            repeats[person.messenger] += len(said) - len(dict.fromkeys(said))
            at = 0
            for _, _, expected in SCRIPT:  # every answer, in order
                found = [i for i in range(at, len(said)) if expected in said[i]]
                assert found, f"{person.user_id} never got {expected!r} after {said[:at]}: {said}"
                at = found[0] + 1
    print(f"\n{KILLS} kills; repeated messages: {repeats}")
    assert all(count <= KILLS * 32 for count in repeats.values())  # at most what was in flight
    assert "Traceback" not in log.read_text("utf-8", errors="replace")
    with Session(core.engine) as session:
        assert len(session.exec(select(Member)).all()) == 2 * EACH
        identities = session.exec(select(ChannelIdentity.channel)).all()
        assert sorted(identities) == ["telegram"] * EACH + ["zalo"] * EACH
        sent = session.exec(select(Initiative).order_by(col(Initiative.id))).all()
        typed = {
            (
                f"Đồ gá số {n}",
                f"Vấn đề của xưởng số {n}",
                f"Giải pháp số {n}",
                (n + 1) * 10**6,
                f"Tiết kiệm {n + 1} giờ mỗi tuần",
            )
            for n in range(2 * EACH)
        }
        got = {
            (i.title, i.problem, i.solution, i.estimated_benefit_vnd, i.other_effects)
            for i in sent
        }
        assert got == typed and len(sent) == 2 * EACH
        assert {(i.field, i.status, i.confidential) for i in sent} == {
            ("technical", "submitted", False)
        }
        steps = session.exec(select(ConversationState.step)).all()
        assert [step for step in steps if step] == []  # every wizard finished
