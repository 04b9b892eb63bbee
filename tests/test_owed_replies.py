"""Replies a channel gave up sending are owed: the person's next answer carries them first.

The channels mark them (`conversations.mark_owed`) when they give up for now; the
end-to-end case, with the messenger failing, is in tests/e2e/test_outage.py.
"""

from dataclasses import replace

from sqlmodel import Session, select, update

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


def edits(core: Core, user: str) -> None:
    """Make the kept replies of `user` edit the pressed message, as a decision's card does."""
    with shared_transaction(core.engine) as connection:
        state = connection.execute(
            select(ConversationState.id, ConversationState.replies).where(
                ConversationState.user_id == user
            )
        ).one()
        replies = dict(state.replies)
        replies["replies"] = [{**reply, "edit": True} for reply in replies["replies"]]
        connection.execute(
            update(ConversationState)
            .where(ConversationState.id == state.id)
            .values(replies=replies)
        )


def test_the_next_answer_carries_the_owed_replies_first_and_only_once(
    core: Core, unit_id: int
) -> None:
    at_title(core, "a", "b")
    assert keys(core.dispatcher.handle(message("a", TITLE, 1))) == ["wizard.ask_problem"]
    assert keys(core.dispatcher.handle(message("b", TITLE, 2))) == ["wizard.ask_problem"]
    assert owe(core, "1", "404") == 1  # nothing was kept for 404
    state = kept(core, "a")
    assert state.replies_to == "1" and state.replies and state.replies[OWED] == "1"
    edits(core, "a")  # as a card after a decision is: the carried one must not edit
    # Two updates of the person in one group: the first carries what is owed.
    group = [message("a", PROBLEM, 3), message("a", SOLUTION, 4), message("b", PROBLEM, 5)]
    first, second, other = core.dispatcher.handle_group(group)
    assert keys(first) == ["wizard.ask_problem", "wizard.ask_solution"]
    assert first is not None and not any(reply.edit for reply in first.replies)
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


def test_a_refused_press_brings_the_owed_replies_as_messages_not_a_notice(
    core: Core, unit_id: int
) -> None:
    """On Telegram a refused press is answered by a notice at the button only; a person
    who missed the last answer is likely to press the old buttons, and must get it."""
    at_title(core, "a")
    forged = replace(message("a", "", 0), text=None, choice="field:xx")
    core.dispatcher.handle(message("a", TITLE, 1))
    alone = core.dispatcher.handle(replace(forged, update_id="2"))
    assert alone is not None and alone.toast is not None  # a refusal, shown at the button
    core.dispatcher.handle(message("a", PROBLEM, 3))
    assert owe(core, "3") == 1  # the question for the solution never arrived
    carried = core.dispatcher.handle(replace(forged, update_id="4"))
    assert carried is not None and carried.toast is None  # sent as messages
    assert keys(carried) == ["wizard.ask_solution", *keys(alone)[:-1], "wizard.ask_solution"]
    state = kept(core, "a")
    assert state.replies_to == "4" and state.replies and OWED not in state.replies
