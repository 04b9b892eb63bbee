"""The messenger refuses the bot's sends for minutes: what a person is owed still comes.

The channel tries a reply `SEND_ATTEMPTS` times, the inbox three times more, then gives
up for now and marks the kept reply owed; the answer to the person's next message
brings it first (the pauses between tries are cut to nothing here).
"""

import pytest
from sqlmodel import Session, select

from bot.app import Core
from bot.channels.inbox import MAX_ATTEMPTS
from bot.channels.telegram import outgoing as telegram_outgoing
from bot.channels.zalo import outgoing as zalo_outgoing
from storage.conversations import OWED
from storage.models import ConversationState
from tests.conftest import DEMO_CODE
from tests.e2e.conftest import Leading, Messenger, until
from tests.e2e.people import text_of

ATTEMPTS = telegram_outgoing.SEND_ATTEMPTS * MAX_ATTEMPTS
assert zalo_outgoing.SEND_ATTEMPTS == telegram_outgoing.SEND_ATTEMPTS


async def test_a_reply_given_up_during_an_outage_comes_before_the_next_answer(
    core: Core,
    unit_id: int,
    messenger: Messenger,
    bot: Leading,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telegram_outgoing, "MAX_BACKOFF", 0.0)
    monkeypatch.setattr(zalo_outgoing, "MAX_BACKOFF", 0.0)
    worker = messenger.person(5301)
    await worker.join(DEMO_CODE)
    await worker.say("/new", expect=2)
    await messenger.client.inject_error("sendMessage", 502, count=ATTEMPTS)
    await worker.write("Đồ gá thay khuôn nhanh")

    def owed() -> bool:
        with Session(core.engine) as session:
            query = select(ConversationState).where(ConversationState.user_id == worker.user_id)
            state = session.exec(query).one()
            return bool(state.replies and state.replies.get(OWED))

    await until(owed, 30)  # every try failed: the question for the problem never came
    assert await worker.silence(0.2) == []
    answer = await worker.say("Thay khuôn mất 45 phút, dây chuyền phải dừng", expect=2)
    problem, solution = (text_of([sent]) for sent in answer)
    assert "(2/5)" in problem and "(3/5)" in solution
    assert await worker.silence(0.5) == []  # and nothing twice
