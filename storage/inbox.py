"""Queries on the inbox: updates stored before they are acknowledged.

An update's row is also its processed marker: `claim` sets `done_at` (and empties the
payload) in the transaction that processes it, and a redelivery of a claimed update is
neither stored nor processed again. Claimed rows are purged after a retention period.

The per-update statements are built once and run through Core.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import InboxUpdate, table

_TABLE = table(InboxUpdate)
# Both dialects spell "insert ... on conflict" alike, through different classes.
_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _claim_statement(dialect: str) -> Any:
    insert = _INSERTS[dialect](_TABLE).values(
        channel=bindparam("channel"),
        update_id=bindparam("update_id"),
        seq=0,
        chat_id=bindparam("chat_id"),
        payload={},
        received_at=bindparam("now"),
        attempts=0,
        done_at=bindparam("now"),
    )
    return insert.on_conflict_do_update(
        index_elements=[_TABLE.c.channel, _TABLE.c.update_id],
        set_={"done_at": insert.excluded.done_at, "payload": insert.excluded.payload},
        where=_TABLE.c.done_at.is_(None),
    ).execution_options(preserve_rowcount=True)  # else an INSERT's rowcount may be -1


_CLAIMS = {dialect: _claim_statement(dialect) for dialect in _INSERTS}
# Several claims in one statement: the rows it returns are the claimed ones.
_CLAIM_MANY = {
    dialect: statement.returning(_TABLE.c.channel, _TABLE.c.update_id)
    for dialect, statement in _CLAIMS.items()
}
_STORES = {
    dialect: insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.update_id)
    for dialect, insert in _INSERTS.items()
}
_FINISH = (
    update(_TABLE)
    .where(
        _TABLE.c.channel == bindparam("key_channel"),
        _TABLE.c.update_id == bindparam("key_update_id"),
        _TABLE.c.done_at.is_(None),
    )
    .values(done_at=bindparam("now"), payload={})
)


class Row(NamedTuple):
    """One received update as the inbox stores it.

    `update_id` is its key, unique per channel (a redelivery has the same one): Telegram's
    update id, Zalo's `event_name:message_id`. `seq` orders a channel's updates as they
    arrived: Telegram's update id again, a counter of the channel's own where the
    messenger has no number (Zalo).
    """

    update_id: str
    seq: int
    chat_id: str
    payload: dict[str, Any]


@dataclass
class Received:
    """Updates a channel received, to store in the transaction that processes some of them.

    The `claimed` ids are processed in that transaction and stored as processed. Storing
    fills `new` with the ids that were not stored before (the others are redeliveries).
    """

    channel: str
    updates: Sequence[Row]
    claimed: frozenset[str] = frozenset()
    new: set[str] = field(default_factory=set)


def store(
    *,
    connection: Connection,
    channel: str,
    updates: Iterable[Row],
    now: datetime,
    claimed: Collection[str] = (),
) -> set[str]:
    """Store rows in one statement; return the ids that were not stored before.

    The `claimed` ids are stored as processed, without their payload: the caller
    processes them in this transaction (`claim` is then not needed).
    """
    rows = [
        {
            "channel": channel,
            "update_id": update_id,
            "seq": seq,
            "chat_id": chat_id,
            "payload": {} if update_id in claimed else payload,
            "received_at": now,
            "attempts": 0,
            "done_at": now if update_id in claimed else None,
        }
        for update_id, seq, chat_id, payload in updates
    ]
    if not rows:
        return set()
    result = connection.execute(_STORES[connection.dialect.name], rows)
    return set(result.scalars())


def store_or_claim(
    *,
    connection: Connection,
    received: Received | None,
    claims: Sequence[tuple[str, str, str]],
    now: datetime,
) -> set[tuple[str, str]]:
    """Store what was `received` (its claimed ids as processed), or claim the (channel,
    update id, chat id) `claims`; return the (channel, update id) pairs claimed now.
    `storage.pg_pipeline.begin` does the same on PostgreSQL with the reads after it."""
    if received is None:
        return claim_many(connection=connection, updates=claims, now=now)
    received.new = store(
        connection=connection,
        channel=received.channel,
        updates=received.updates,
        now=now,
        claimed=received.claimed,
    )
    return {(received.channel, update_id) for update_id in received.claimed & received.new}


def claim(*, session: Session, channel: str, update_id: str, chat_id: str, now: datetime) -> bool:
    """Mark an update processed in this transaction; False when it was processed before.

    An update that never went through the inbox (a test, a console) is recorded too.
    """
    update = (channel, update_id, chat_id)
    claimed = claim_many(connection=session.connection(), updates=[update], now=now)
    return bool(claimed)


def claim_many(
    *, connection: Connection, updates: Iterable[tuple[str, str, str]], now: datetime
) -> set[tuple[str, str]]:
    """Claim (channel, update id, chat id) updates in one statement, as `claim` does each.

    Return the (channel, update id) pairs claimed now; the others were processed before.
    """
    rows = [
        {"channel": channel, "update_id": update_id, "chat_id": chat_id, "now": now}
        for channel, update_id, chat_id in updates
    ]
    if not rows:
        return set()
    result = connection.execute(_CLAIM_MANY[connection.dialect.name], rows)
    return {(row.channel, row.update_id) for row in result}


def finish(*, session: Session, channel: str, update_id: str, now: datetime) -> None:
    """Mark an update done without processing it (ignored, or failed too often)."""
    params = {"key_channel": channel, "key_update_id": update_id, "now": now}
    session.connection().execute(_FINISH, params)


def oldest(*, session: Session, channel: str, limit: int) -> Sequence[InboxUpdate]:
    """Return the channel's oldest waiting updates, in the order they arrived."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, col(InboxUpdate.done_at).is_(None))
        .order_by(col(InboxUpdate.seq))
        .limit(limit)
    )
    return session.exec(query).all()


def record_failure(*, session: Session, channel: str, update_id: str) -> None:
    """Count a failed attempt at an update."""
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.channel) == channel, col(InboxUpdate.update_id) == update_id)
        .values(attempts=col(InboxUpdate.attempts) + 1)
    )


def purge(*, session: Session, channel: str, before: datetime) -> int:
    """Delete updates processed before `before`; return how many."""
    result = session.connection().execute(
        delete(_TABLE).where(_TABLE.c.channel == channel, _TABLE.c.done_at < before)
    )
    return int(result.rowcount)
