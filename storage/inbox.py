"""Queries on the inbox: updates stored before they are acknowledged."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select, update

from storage.models import InboxUpdate, table

# Built once: it runs for every update.
# Core, not ORM: an ORM delete would first look for matching objects in the session.
_TABLE = table(InboxUpdate)
_FORGET = delete(_TABLE).where(
    _TABLE.c.channel == bindparam("channel"), _TABLE.c.update_id == bindparam("update_id")
)


def store(
    *,
    session: Session,
    channel: str,
    updates: Iterable[tuple[int, str, dict[str, Any]]],
    now: datetime,
) -> None:
    """Store (update id, chat id, payload) rows; an update stored before is left alone."""
    rows = [
        {
            "channel": channel,
            "update_id": str(update_id),
            "seq": update_id,
            "chat_id": chat_id,
            "payload": payload,
            "received_at": now,
            "attempts": 0,
        }
        for update_id, chat_id, payload in updates
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.connection().execute(insert(_TABLE).on_conflict_do_nothing(), rows)


def oldest(*, session: Session, channel: str, limit: int) -> Sequence[InboxUpdate]:
    """Return the channel's oldest waiting updates, in the order they arrived."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel)
        .order_by(col(InboxUpdate.seq))
        .limit(limit)
    )
    return session.exec(query).all()


def record_failure(*, session: Session, channel: str, update_id: str, drop: bool) -> None:
    """Count a failed attempt at an update; with `drop`, remove it instead."""
    match = (col(InboxUpdate.channel) == channel, col(InboxUpdate.update_id) == update_id)
    if drop:
        session.execute(delete(InboxUpdate).where(*match))
    else:
        session.execute(
            update(InboxUpdate).where(*match).values(attempts=col(InboxUpdate.attempts) + 1)
        )


def forget(*, session: Session, channel: str, update_id: str) -> None:
    """Remove a processed update from the inbox."""
    session.connection().execute(_FORGET, {"channel": channel, "update_id": update_id})
