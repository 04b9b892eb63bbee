"""Replies a channel gave up sending are owed: the person's next answer carries them first.

The channels mark them (`conversations.mark_owed`) when they give up for now; the
end-to-end case, with the messenger failing, is in tests/e2e/test_outage.py.
"""

from dataclasses import replace

from sqlmodel import Session, select

from bot.app import Core
from storage import conversations
from storage.conversations import OWED
from storage.db import shared_transaction
from storage.models import ConversationState
from tests.test_group_commit import TITLE, at_title, keys, message

PROBLEM = "Thay khuôn mất 40 phút mỗi ca"
SOLUTION = "Chế tạo đồ gá định vị để thay khuôn trong 10 phút"


def owe(core: Core, *update_ids: str) -> int:
    with shared_transaction(core.engine) as connection:
        return conversations.mark_owed(
            connection=connection, channel="telegram", update_ids=update_ids
        )


def kept(core: Core, user: str) -> ConversationState:
    with Session(core.engine) as session:
        query = select(ConversationState).where(ConversationState.user_id == user)
        return session.exec(query).one()


def test_the_next_answer_carries_the_owed_replies_first_and_only_once(
    core: Core, unit_id: int
) -> None:
    at_title(core, "a", "b")
    assert keys(core.dispatcher.handle(message("a", TITLE, 1))) == ["wizard.ask_problem"]
    assert keys(core.dispatcher.handle(message("b", TITLE, 2))) == ["wizard.ask_problem"]
    assert owe(core, "1", "404") == 1  # nothing was kept for 404
    state = kept(core, "a")
    assert state.replies_to == "1" and state.replies and state.replies[OWED] == "1"
    # Two updates of the person in one group: the first carries what is owed.
    group = [message("a", PROBLEM, 3), message("a", SOLUTION, 4), message("b", PROBLEM, 5)]
    first, second, other = core.dispatcher.handle_group(group)
    assert keys(first) == ["wizard.ask_problem", "wizard.ask_solution"]
    assert first is not None and not first.replies[0].edit  # sent anew, never as an edit
    assert keys(second) == ["wizard.ask_field"]
    assert keys(other) == ["wizard.ask_solution"]  # b owed nothing
    state = kept(core, "a")
    assert state.replies_to == "4" and state.replies and OWED not in state.replies


def test_an_answer_that_keeps_nothing_leaves_the_owed_replies_kept(
    core: Core, unit_id: int
) -> None:
    at_title(core, "a")
    core.dispatcher.handle(message("a", TITLE, 1))
    assert owe(core, "1") == 1
    unnumbered = replace(message("a", PROBLEM, 0), update_id=None)  # a reply kept by no one
    assert keys(core.dispatcher.handle(unnumbered)) == ["wizard.ask_solution"]
    state = kept(core, "a")
    assert state.replies_to == "1" and state.replies and state.replies[OWED] == "1"
    carried = core.dispatcher.handle(message("a", SOLUTION, 2))
    assert keys(carried) == ["wizard.ask_problem", "wizard.ask_field"]
    with shared_transaction(core.engine) as connection:
        unsent = conversations.unsent(connection=connection, channel="telegram")
    assert [(update_id, OWED in replies) for _, update_id, replies in unsent] == [("2", False)]
