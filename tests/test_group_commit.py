"""Updates of several chats in one transaction: each gets what it would get alone."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from bot.app import Core
from core.errors import Refused
from core.messages import Incoming, Response
from handlers.conversation import Context, Outcome
from storage import conversations, inbox, pg_pipeline
from storage.conversations import State
from storage.db import shared_transaction
from storage.models import ConversationState, InboxUpdate, Initiative
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person

TITLE = "Máy dán nhãn tự động"


def at_title(core: Core, *users: str) -> None:
    """Join each user and open the wizard at its title question."""
    for user in users:
        person = Person(core.dispatcher, user_id=user, channel="telegram")
        person.join(DEMO_CODE)
        assert person.say("/new")[-1] == "wizard.ask_title"


def message(user: str, text: str, update_id: int) -> Incoming:
    return Incoming(
        channel="telegram", chat_id=user, user_id=user, text=text, update_id=str(update_id)
    )


def keys(response: Response | None) -> list[str]:
    assert response is not None and not response.failed
    return [reply.text.key for reply in response.replies]


def steps(core: Core) -> dict[str, str | None]:
    with Session(core.engine) as session:
        states = session.exec(select(ConversationState)).all()
        return {s.user_id: s.step for s in states if s.chat_id == s.user_id}  # private chats


def titles(core: Core) -> list[str]:
    with Session(core.engine) as session:
        query = select(Initiative.title).where(col(Initiative.title).is_not(None))
        return sorted(str(title) for title in session.exec(query).all())


def test_a_refusal_in_a_group_re_asks_only_that_update(
    core: Core, unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_title(core, "a", "b", "c")
    title = core.dispatcher.steps["wizard.title"]
    answered: list[str] = []

    def answer(ctx: Context) -> Outcome:
        answered.append(ctx.incoming.user_id)
        return title.answer(ctx)

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    group = [message("a", TITLE, 1), message("b", "ab", 2), message("c", TITLE + " 2", 3)]
    responses = core.dispatcher.handle_group(group)
    assert keys(responses[0]) == ["wizard.ask_problem"]
    assert keys(responses[1]) == ["wizard.text_too_short", "wizard.ask_title"]
    assert keys(responses[2]) == ["wizard.ask_problem"]
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.title", "c": "wizard.problem"}
    assert titles(core) == [TITLE, TITLE + " 2"]
    assert answered == ["a", "b", "c"]  # refused before writing: the others ran once
    assert core.dispatcher.handle_group(group) == [None, None, None]  # redelivered


def test_a_refusal_after_a_write_redoes_the_group_with_a_re_ask(
    core: Core, unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_title(core, "a", "b")
    title = core.dispatcher.steps["wizard.title"]
    answered: list[str] = []

    def answer(ctx: Context) -> Outcome:
        answered.append(ctx.incoming.user_id)
        outcome = title.answer(ctx)  # writes the title
        ctx.session.flush()
        if ctx.incoming.user_id == "b":
            raise Refused("wizard.text_too_short", min=5)
        return outcome

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    responses = core.dispatcher.handle_group([message("a", TITLE, 1), message("b", TITLE, 2)])
    assert keys(responses[0]) == ["wizard.ask_problem"]
    assert keys(responses[1]) == ["wizard.text_too_short", "wizard.ask_title"]
    assert answered == ["a", "b", "a"]
    assert titles(core) == [TITLE]  # b's write went with the first attempt
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.title"}


def test_a_failing_update_leaves_the_others_of_its_group_done(
    core: Core, unit_id: int, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_title(core, "a", "b", "c")
    title = core.dispatcher.steps["wizard.title"]

    def answer(ctx: Context) -> Outcome:
        if ctx.incoming.user_id == "b":
            raise RuntimeError("a bug in a step")
        return title.answer(ctx)

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    updates = [
        inbox.Row(str(u), u, chat, {"update_id": u}) for u, chat in ((1, "a"), (2, "b"), (3, "c"))
    ]
    received = inbox.Received("telegram", updates, frozenset({"1", "2", "3"}))
    group = [message("a", TITLE, 1), message("b", TITLE, 2), message("c", TITLE, 3)]
    responses = core.dispatcher.handle_group(group, received=received)
    assert keys(responses[0]) == keys(responses[2]) == ["wizard.ask_problem"]
    assert responses[1] is not None and responses[1].failed
    # Stored with the group, undone with it, then stored on its own, claiming nothing.
    assert received.new == {"1", "2", "3"}
    with Session(core.engine) as session:
        rows = session.exec(select(InboxUpdate).order_by(col(InboxUpdate.seq))).all()
        assert [(r.update_id, r.done_at is not None) for r in rows] == [
            ("1", True),
            ("2", False),  # left for the inbox processor to try again
            ("3", True),
        ]
        assert rows[1].payload == {"update_id": 2}
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.title", "c": "wizard.problem"}
    monkeypatch.undo()
    assert keys(core.dispatcher.handle_group([group[1]])[0]) == ["wizard.ask_problem"]


def test_one_persons_updates_in_two_chats_of_a_group_are_read_in_turn(
    core: Core, unit_id: int
) -> None:
    at_title(core, "a", "b")
    in_group = replace(message("a", "/new", 2), chat_id="-100", in_group=True)
    group = [message("a", TITLE, 1), in_group, message("b", TITLE, 3)]
    responses = core.dispatcher.handle_group(group)
    assert keys(responses[0]) == keys(responses[2]) == ["wizard.ask_problem"]
    assert keys(responses[1]) == ["group.private_only"]
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.problem"}


def test_two_updates_of_one_chat_in_a_group_are_processed_in_turn(
    core: Core, unit_id: int
) -> None:
    """The state is read once for the group: the second update must see the first's step."""
    at_title(core, "a")
    problem = "Thay khuôn mất 40 phút mỗi ca"
    responses = core.dispatcher.handle_group([message("a", TITLE, 1), message("a", problem, 2)])
    assert keys(responses[0]) == ["wizard.ask_problem"]
    assert keys(responses[1]) == ["wizard.ask_solution"]
    assert steps(core) == {"a": "wizard.solution"}
    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert (initiative.title, initiative.problem) == (TITLE, problem)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has none
def test_the_postgresql_pipeline_stores_and_reads_what_the_generic_path_does(
    core: Core, unit_id: int, clock: Clock
) -> None:
    """`pg_pipeline.begin` is hand-written SQL: it must match `inbox` and `conversations`."""
    assert core.engine.dialect.name == "postgresql"
    at_title(core, "a", "b")
    keys = [("telegram", "a", "a"), ("telegram", "b", "b"), ("telegram", "x", "x")]
    updates = [inbox.Row("7", 7, "a", {"update_id": 7}), inbox.Row("8", 8, "b", {"update_id": 8})]
    now = clock()
    with shared_transaction(core.engine) as connection:
        received = inbox.Received("telegram", updates, frozenset({"7"}))
        claimed, ahead = pg_pipeline.begin(
            connection, received=received, claims=[], keys=keys, now=now
        )
        expected = conversations.load_with_members(connection=connection, keys=keys, now=now)
    assert claimed == {("telegram", "7")} and received.new == {"7", "8"}
    assert ahead is not None
    assert [state for state, _, _ in ahead] == [state for state, _, _ in expected]
    assert [m and m.model_dump() for _, m, _ in ahead] == [
        m and m.model_dump() for _, m, _ in expected
    ]
    assert [used for *_, used in ahead] == [used for *_, used in expected]
    assert ahead[0][2] is not None  # at_title's people wrote to the bot
    assert ahead[0][0].step == "wizard.title" and ahead[0][1] is not None
    assert ahead[2] == (State("telegram", "x", "x", None, None, {}, now), None, None)
    with Session(core.engine) as session:
        rows = {r.update_id: r for r in session.exec(select(InboxUpdate)).all()}
        assert rows["7"].done_at == now and rows["7"].payload == {}
        assert rows["8"].done_at is None and rows["8"].payload == {"update_id": 8}
    with shared_transaction(core.engine) as connection:
        claims = [("telegram", "7", "a"), ("telegram", "8", "b"), ("telegram", "9", "c")]
        claimed, ahead = pg_pipeline.begin(
            connection, received=None, claims=claims, keys=[], now=now
        )
    assert claimed == {("telegram", "8"), ("telegram", "9")} and ahead == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_pipeline_single_row_statements_and_state_writes_match_the_generic_path(
    core: Core, unit_id: int, clock: Clock
) -> None:
    """A lone update takes single-row statements; states are written through the driver."""
    at_title(core, "a", "b")
    key = ("telegram", "a", "a")
    now = clock()
    for update_id, claimed, new in ((7, True, {"7"}), (8, False, {"8"}), (7, True, set())):
        claims = frozenset({str(update_id)} if claimed else ())
        received = inbox.Received(
            "telegram", [inbox.Row(str(update_id), update_id, "a", {"id": update_id})], claims
        )
        with shared_transaction(core.engine) as connection:
            got, ahead = pg_pipeline.begin(
                connection, received=received, claims=[], keys=[key], now=now
            )
            expected = conversations.load_with_members(connection=connection, keys=[key], now=now)
        assert received.new == new  # the third is a redelivery: neither stored nor claimed
        assert got == ({("telegram", str(update_id))} if claimed and new else set())
        assert ahead is not None and ahead[0][0] == expected[0][0]
        assert ahead[0][1] is not None and expected[0][1] is not None
        assert ahead[0][1].model_dump() == expected[0][1].model_dump()
        assert ahead[0][2] == expected[0][2]
    with Session(core.engine) as session:
        rows = {r.update_id: r for r in session.exec(select(InboxUpdate)).all()}
        assert rows["7"].done_at == now and rows["7"].payload == {}
        assert rows["8"].done_at is None and rows["8"].payload == {"id": 8}
    # Claims (a stored update processed later): a done one is not claimed again; a
    # stranger has a fresh state and no member.
    stranger = ("telegram", "x", "x")
    for update_id, person, claimed_now in (
        ("8", key, True),
        ("8", key, False),
        ("9", stranger, True),
        ("7", key, False),
    ):
        with shared_transaction(core.engine) as connection:
            got, ahead = pg_pipeline.begin(
                connection,
                received=None,
                claims=[("telegram", update_id, person[1])],
                keys=[person],
                now=now,
            )
            expected = conversations.load_with_members(
                connection=connection, keys=[person], now=now
            )
        assert got == ({("telegram", update_id)} if claimed_now else set())
        assert ahead[0][0] == expected[0][0] and ahead[0][2] == expected[0][2]
        assert (ahead[0][1] is None) == (expected[0][1] is None) == (person == stranger)
    assert ahead[0][0].id is not None  # "7" read a's existing state
    with Session(core.engine) as session:
        rows = {r.update_id: r for r in session.exec(select(InboxUpdate)).all()}
        assert rows["8"].done_at == now and rows["8"].payload == {}
        assert rows["9"].done_at == now

    keys = [key, ("telegram", "b", "b"), stranger]
    with shared_transaction(core.engine) as connection:
        a, b, x = conversations.load_many(connection=connection, keys=keys, now=now)
        later = now + timedelta(minutes=1)
        a.step, a.data, a.updated_at = "wizard.problem", {"wizard": {"id": 1}, "ý": "Đ"}, later
        b.step, b.data = None, {}  # emptied: deleted
        x.step, x.data = "wizard.title", {"lang": "vi"}  # new: inserted
        pg_pipeline.save_and_commit(connection, [a, b, x])
        with shared_transaction(core.engine) as other:  # committed already, before the exit
            saved = conversations.load_many(connection=other, keys=keys, now=now)
    assert saved[0] == a
    assert (saved[1].id, saved[1].step, saved[1].data) == (None, None, {})
    assert (saved[2].step, saved[2].data, saved[2].id is not None) == (
        "wizard.title",
        {"lang": "vi"},
        True,
    )


def test_a_database_error_of_the_work_itself_is_answered_the_others_go_on(
    core: Core, unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error of the kind a database that is away raises, while it answers: the step
    could not run (SQLite says "too many SQL variables"), so it failed; waiting it out
    would hold the chat (and, polling, the channel) forever."""
    at_title(core, "a", "b")
    title = core.dispatcher.steps["wizard.title"]

    def answer(ctx: Context) -> Outcome:
        if ctx.incoming.user_id == "b":
            raise OperationalError("SELECT", {}, Exception("too many SQL variables"))
        return title.answer(ctx)

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    first, second = core.dispatcher.handle_group([message("a", TITLE, 1), message("b", TITLE, 2)])
    assert keys(first) == ["wizard.ask_problem"]
    assert second is not None and second.failed
    assert [r.text.key for r in second.replies] == ["common.internal_error"]
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.title"}


def test_a_lost_connection_is_raised_for_the_caller_to_wait_out(
    core: Core, unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_title(core, "a", "b")
    title = core.dispatcher.steps["wizard.title"]

    def answer(ctx: Context) -> Outcome:
        outcome = title.answer(ctx)
        if ctx.incoming.user_id == "b":
            lost = Exception("server closed the connection unexpectedly")
            raise OperationalError("UPDATE", {}, lost, connection_invalidated=True)
        return outcome

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    with pytest.raises(OperationalError):
        core.dispatcher.handle_group([message("a", TITLE, 1), message("b", TITLE, 2)])
    assert steps(core) == {"a": "wizard.title", "b": "wizard.title"}  # nothing written
    assert titles(core) == []


def test_the_database_going_while_a_failed_group_is_redone_one_by_one_fails_quietly(
    core: Core, unit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's earlier updates may have committed: the one that met the database
    away fails without a word (its next try waits for the database), the others stand."""
    at_title(core, "a", "b")
    title = core.dispatcher.steps["wizard.title"]
    calls: list[str] = []

    def answer(ctx: Context) -> Outcome:
        calls.append(ctx.incoming.user_id)
        if calls == ["a"]:
            raise RuntimeError("a bug, once: the group is redone one by one")
        if ctx.incoming.user_id == "b":
            lost = Exception("server closed the connection unexpectedly")
            raise OperationalError("UPDATE", {}, lost, connection_invalidated=True)
        return title.answer(ctx)

    monkeypatch.setitem(core.dispatcher.steps, "wizard.title", replace(title, answer=answer))
    first, second = core.dispatcher.handle_group([message("a", TITLE, 1), message("b", TITLE, 2)])
    assert keys(first) == ["wizard.ask_problem"]
    assert second is not None and second.failed and second.replies == ()
    assert steps(core) == {"a": "wizard.problem", "b": "wizard.title"}
