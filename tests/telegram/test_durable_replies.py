"""Replies survive a crash, and a failed edit or button answer never drops one."""

import asyncio
import signal
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from sandbox.client import SandboxClient
from services import roles
from storage.db import transaction
from storage.members import member_for
from storage.models import ConversationState, Initiative
from storage.units import unit_by_id
from tests.conftest import Clock
from tests.telegram.conftest import TelegramUser, each_driver, join, start_bot, texts, wait_until

TITLE = "Đồ gá thay khuôn nhanh"
PROBLEM = "Thay khuôn máy ép mất 45 phút mỗi lần"


def state_of(core: Core, user_id: int) -> ConversationState | None:
    with Session(core.engine) as session:
        query = select(ConversationState).where(ConversationState.user_id == str(user_id))
        return session.exec(query).first()


async def failed_calls(users: SandboxClient, method: str) -> int:
    return sum(not call["ok"] for call in await users.calls(method))


@each_driver
async def test_sigkill_while_a_reply_waits_out_a_429_sends_it_after_the_restart(
    core: Core, unit_id: int, users: SandboxClient, sandbox_url: str, tmp_path: Path, driver: str
) -> None:
    log = tmp_path / "bot.log"
    bot = start_bot(core.settings.database_url, sandbox_url, log, TELEGRAM_DRIVER=driver)
    user = TelegramUser(users, 7001)
    try:
        await join(user)
        await user.say("/new", expect=2)
        await users.inject_error("sendMessage", 429, count=1, retry_after=5)
        await users.send_text(user.user_id, TITLE, first_name=user.name)
        # The step committed, and its reply waits out the 429 when the bot dies.
        await wait_until(
            lambda: (state_of(core, 7001) or ConversationState()).step == "wizard.problem",
            timeout=20,
        )
        while not await failed_calls(users, "sendMessage"):
            await asyncio.sleep(0.05)
        assert (state_of(core, 7001) or ConversationState()).replies_to is not None
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(timeout=30)
    assert await users.messages(user.user_id) == (await users.messages(user.user_id))[: user.seen]

    bot = start_bot(core.settings.database_url, sandbox_url, log, TELEGRAM_DRIVER=driver)
    try:
        question = await user.replies(1)
        assert "(2/5)" in texts(question)
        await user.say(PROBLEM)
        await wait_until(lambda: state_of(core, 7001).replies_to is None, timeout=10)  # type: ignore[union-attr]
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    with Session(core.engine) as session:
        draft = session.exec(select(Initiative)).one()
    assert (draft.title, draft.problem) == (TITLE, PROBLEM)
    assert "Traceback" not in log.read_text("utf-8", errors="replace")


async def test_a_502_on_the_button_answer_still_sends_the_next_question(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 7002)
    await join(user)
    await user.say("/new", expect=2)
    await user.say(TITLE)
    await user.say(PROBLEM)
    await user.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    await users.inject_error("answerCallbackQuery", 502, count=1)
    question = await user.tap("field:technical:1")
    assert "(5/5)" in texts(question)
    assert await failed_calls(users, "answerCallbackQuery") == 1
    with Session(core.engine) as session:
        assert session.exec(select(Initiative)).one().field == "technical"


def button(message: dict[str, Any], prefix: str) -> str:
    """Return the data of the message's button whose data starts with `prefix`."""
    rows = message["reply_markup"]["inline_keyboard"]
    return next(
        b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(prefix)
    )


async def test_a_429_on_an_edit_and_500s_on_a_send_are_waited_out(
    core: Core, clock: Clock, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    worker, reviewer = TelegramUser(users, 7003), TelegramUser(users, 7004, "Bảo")
    await join(worker)
    await join(reviewer)
    with transaction(core.engine) as session:
        council = member_for(session=session, channel="telegram", user_id="7004")
        workshop = unit_by_id(session=session, unit_id=unit_id)
        assert council is not None and workshop is not None
        roles.grant(session=session, member=council, unit=workshop, role="reviewer", now=clock())
    await worker.say("/new", expect=2)
    await worker.say(TITLE)
    await worker.say(PROBLEM)
    await worker.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    await worker.tap("field:technical:1")
    await worker.say("120 triệu", expect=2)
    await users.inject_error("sendMessage", 500, count=2)
    await worker.tap("next:submit:1", expect=1)  # sent on the third try
    with Session(core.engine) as session:
        initiative_id = session.exec(select(Initiative)).one().id
    await reviewer.say("/review")
    card = (await reviewer.tap(f"review:{initiative_id}"))[0]
    before = len(await users.calls("editMessageText"))
    await users.inject_error("editMessageText", 429, count=1, retry_after=1)
    question = await reviewer.tap(button(card, "act:changes"))  # the card is edited, then asks
    assert question[0]["message_id"] != card["message_id"]
    edits = (await users.calls("editMessageText"))[before:]
    assert [call["ok"] for call in edits] == [False, True]
    sent = await users.messages(reviewer.user_id)
    edited = next(m for m in sent if m["message_id"] == card["message_id"])
    assert not edited.get("reply_markup")  # the card lost its buttons: the decision is under way
