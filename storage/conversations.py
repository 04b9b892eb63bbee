"""Queries on conversation state.

The dispatcher reads and writes one state per update, so those statements are built
once and run through Core, without the ORM's identity map and unit of work.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, select, tuple_, update
from sqlmodel import Session
from sqlmodel import select as orm_select

from storage.members import members_for
from storage.models import ConversationState, Member, table

_TABLE = table(ConversationState)
# The key in kept replies that marks them owed (see `mark_owed`); its value is the id of
# the update they answered.
OWED = "owed_to"
_IS_OWED = _TABLE.c.replies[OWED].as_string().is_not(None)
_LOAD_MANY = (
    select(
        _TABLE.c.id,
        _TABLE.c.channel,
        _TABLE.c.chat_id,
        _TABLE.c.user_id,
        _TABLE.c.step,
        _TABLE.c.data,
        _TABLE.c.updated_at,
        case((_IS_OWED, _TABLE.c.replies)).label("owed"),
    )
    .where(tuple_(_TABLE.c.channel, _TABLE.c.chat_id, _TABLE.c.user_id).in_(bindparam("keys")))
    .order_by(_TABLE.c.id)  # rows are locked in one order everywhere (see `_CONFIRM`)
    .with_for_update()
)
_INSERT = insert(_TABLE)
_UPDATE = update(_TABLE).where(_TABLE.c.id == bindparam("state_id"))
_DELETE = delete(_TABLE).where(_TABLE.c.id == bindparam("state_id"))


@dataclass
class State:
    """Where one person stands in a chat: the step awaiting an answer and its data."""

    channel: str
    chat_id: str
    user_id: str
    id: int | None
    step: str | None
    data: dict[str, Any]
    updated_at: datetime
    # The replies to the person's last update, kept until the channel confirms them
    # (see `confirm_sent`), and that update's id.
    replies: dict[str, Any] | None = None
    replies_to: str | None = None
    # Kept replies the channel gave up sending (`mark_owed`), as read: the next step's
    # replies carry them, so a person's next message never replaces what they are owed.
    owed: dict[str, Any] | None = None


Key = tuple[str, str, str]  # channel, chat id, user id
# A person's state, member, and when their identity was last used, read before their step.
Ahead = tuple[State, Member | None, datetime | None]


def load_many(*, connection: Connection, keys: Sequence[Key], now: datetime) -> list[State]:
    """Return the states of several (channel, chat, user) keys in one statement, locked."""
    found = {
        (row.channel, row.chat_id, row.user_id): row
        for row in connection.execute(_LOAD_MANY, {"keys": list(keys)})
    }
    states = []
    for channel, chat_id, user_id in keys:
        row = found.get((channel, chat_id, user_id))
        if row is None:
            states.append(State(channel, chat_id, user_id, None, None, {}, now))
        else:
            states.append(
                State(
                    channel,
                    chat_id,
                    user_id,
                    row.id,
                    row.step,
                    dict(row.data),
                    row.updated_at,
                    owed=row.owed,
                )
            )
    return states


def load_with_members(
    *, connection: Connection, keys: Sequence[Key], now: datetime
) -> list[Ahead]:
    """Return the states of several keys (locked), each with the member behind its user."""
    states = load_many(connection=connection, keys=keys, now=now)
    with Session(bind=connection, expire_on_commit=False) as session:
        members = members_for(session=session, users=[(s.channel, s.user_id) for s in states])
    result: list[Ahead] = []
    for state in states:
        member, used = members.get((state.channel, state.user_id), (None, None))
        result.append((state, member, used))
    return result


Rows = list[dict[str, Any]]
Changes = tuple[Rows, Rows, Rows]  # to insert, update, delete


def changes(states: Sequence[State]) -> Changes:
    """Sort states to write back into rows to insert, update and delete (an empty one)."""
    inserts: Rows = []
    updates: Rows = []
    deletes: Rows = []
    for state in states:
        empty = state.step is None and not state.data and state.replies_to is None
        values = {
            "step": state.step,
            "data": state.data,
            "updated_at": state.updated_at,
            "replies": state.replies,
            "replies_to": state.replies_to,
        }
        if state.id is None:
            if not empty:
                key = {"channel": state.channel, "chat_id": state.chat_id}
                inserts.append({**key, "user_id": state.user_id, **values})
        elif empty:
            deletes.append({"state_id": state.id})
        else:
            updates.append({"state_id": state.id, **values})
    return inserts, updates, deletes


def write_changes(*, connection: Connection, rows: Changes) -> None:
    """Run the rows of `changes`, with one statement of each kind needed."""
    for statement, rows_of_kind in zip((_INSERT, _UPDATE, _DELETE), rows, strict=True):
        if rows_of_kind:  # one row as a plain execute, several as one executemany
            many = len(rows_of_kind) > 1
            connection.execute(statement, rows_of_kind if many else rows_of_kind[0])


def save_many(*, connection: Connection, states: Sequence[State]) -> None:
    """Write states back, an empty one deleted.

    A state that a step deleted meanwhile (a member erasing their data) stays deleted:
    the update then matches no row.
    """
    write_changes(connection=connection, rows=changes(states))


def move_chat(*, session: Session, channel: str, old: str, new: str) -> int:
    """Move the states of a chat to the chat's new id; return how many moved.

    A person who has a state in the new chat already keeps that one.
    """
    other = _TABLE.alias("other")
    taken = select(other.c.id).where(
        other.c.channel == channel,
        other.c.chat_id == new,
        other.c.user_id == _TABLE.c.user_id,
    )
    result = session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.channel == channel, _TABLE.c.chat_id == old, ~taken.exists())
        .values(chat_id=new)
    )
    return int(result.rowcount)


def states_of_user(*, session: Session, channel: str, user_id: str) -> list[ConversationState]:
    """Return a messenger user's states in every chat."""
    query = orm_select(ConversationState).where(
        ConversationState.channel == channel, ConversationState.user_id == user_id
    )
    return list(session.exec(query).all())


# Pairs per statement. A batch that waited out an outage can be long, and one statement
# cannot take any number: PostgreSQL ran out of stack depth at 12,000 pairs, and SQLite
# builds may allow as few as 32,766 parameters (four a pair).
CONFIRM_CHUNK = 1000
_KEY_AND_UPDATE = tuple_(_TABLE.c.channel, _TABLE.c.chat_id, _TABLE.c.user_id, _TABLE.c.replies_to)
# One statement that locks the rows in id order, as the group transactions do (`_LOAD_MANY`,
# `storage.pg_pipeline`): two transactions that lock rows in different orders can deadlock.
_CONFIRM = (
    update(_TABLE)
    .where(
        _TABLE.c.id.in_(
            select(_TABLE.c.id)
            .where(_KEY_AND_UPDATE.in_(bindparam("sent", expanding=True)))
            .order_by(_TABLE.c.id)
            .with_for_update()
        )
    )
    .values(replies=None, replies_to=None)
)


def confirm_sent(*, connection: Connection, sent: Sequence[tuple[Key, str]]) -> None:
    """Forget the kept replies of these (key, update id) pairs: they went out.

    A state that holds the replies of a later update meanwhile keeps them.
    """
    rows = [(channel, chat, user, update_id) for (channel, chat, user), update_id in sent]
    for start in range(0, len(rows), CONFIRM_CHUNK):
        connection.execute(_CONFIRM, {"sent": rows[start : start + CONFIRM_CHUNK]})


def mark_owed(*, connection: Connection, channel: str, update_ids: Sequence[str]) -> int:
    """Mark the kept replies to these updates as owed: the channel gave up sending them
    for now. They stay kept, so a start sends them; and the person's next step carries
    them in its own replies instead of replacing them (see `State.owed`). Return how many
    were marked (a reply confirmed or replaced meanwhile is not there to mark).
    """
    query = (
        select(_TABLE.c.id, _TABLE.c.replies, _TABLE.c.replies_to)
        .where(_TABLE.c.channel == channel, _TABLE.c.replies_to.in_(list(update_ids)))
        .order_by(_TABLE.c.id)  # the one lock order (see `_CONFIRM`)
        .with_for_update()
    )
    rows = connection.execute(query).all()
    for row in rows:
        replies = {**(row.replies or {}), OWED: row.replies_to}
        connection.execute(update(_TABLE).where(_TABLE.c.id == row.id).values(replies=replies))
    return len(rows)


def unsent(*, connection: Connection, channel: str) -> list[tuple[Key, str, dict[str, Any]]]:
    """Return the kept replies of a channel that were never confirmed, oldest first."""
    query = (
        select(_TABLE.c.chat_id, _TABLE.c.user_id, _TABLE.c.replies_to, _TABLE.c.replies)
        .where(_TABLE.c.channel == channel, _TABLE.c.replies_to.is_not(None))
        .order_by(_TABLE.c.updated_at, _TABLE.c.id)
    )
    return [
        ((channel, row.chat_id, row.user_id), row.replies_to, dict(row.replies or {}))
        for row in connection.execute(query)
    ]
