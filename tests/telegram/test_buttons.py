"""Buttons through the sandbox: refused presses get a toast, typed answers retire buttons."""

import asyncio

from sqlmodel import Session, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from sandbox.client import SandboxClient
from storage.models import Initiative
from tests.telegram.conftest import TelegramUser, each_driver, join, texts

pytestmark = each_driver


async def at_field_question(user: TelegramUser) -> dict[str, object]:
    await join(user)
    await user.say("/new", expect=2)
    await user.say("Đồ gá thay khuôn nhanh")
    await user.say("Thay khuôn máy ép mất 45 phút mỗi lần")
    (question,) = await user.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    assert question.get("reply_markup")
    return question


async def test_typing_an_answer_takes_the_buttons_off_its_question(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 7101)
    question = await at_field_question(user)
    assert "(5/5)" in texts(await user.say("Cải tiến kỹ thuật"))
    sent = await users.messages(user.user_id)
    now = next(m for m in sent if m["message_id"] == question["message_id"])
    assert not now.get("reply_markup")
    with Session(core.engine) as session:
        assert session.exec(select(Initiative)).one().field == "technical"


async def test_a_refused_press_is_answered_with_a_toast_and_nothing_else(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 7102)
    await at_field_question(user)
    toast = await user.toast("field:hacked")
    assert toast and toast.startswith("Bạn vui lòng chọn một phương án")
    await asyncio.sleep(0.2)
    assert len(await users.messages(user.user_id)) == user.seen  # no message: the toast
    with Session(core.engine) as session:
        assert session.exec(select(Initiative)).one().field is None
