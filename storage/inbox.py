"""Queries on the inbox: updates stored before they are acknowledged."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, func, select

from storage.models import InboxUpdate


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
    session.execute(insert(InboxUpdate).values(rows).on_conflict_do_nothing())


def pending_chats(*, session: Session, channel: str, limit: int) -> list[str]:
    """Return the chats that have waiting updates, the longest waiting first."""
    query = (
        select(InboxUpdate.chat_id, func.min(InboxUpdate.seq).label("first"))
        .where(InboxUpdate.channel == channel)
        .group_by(col(InboxUpdate.chat_id))
        .order_by("first")
        .limit(limit)
    )
    return [chat_id for chat_id, _ in session.exec(query).all()]


def next_for_chat(
    *, session: Session, channel: str, chat_id: str, limit: int = 20
) -> Sequence[InboxUpdate]:
    """Return a chat's oldest waiting updates, in order."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.chat_id == chat_id)
        .order_by(col(InboxUpdate.seq))
        .limit(limit)
    )
    return session.exec(query).all()


def forget(*, session: Session, channel: str, update_id: str) -> None:
    """Remove a processed update from the inbox."""
    session.execute(
        delete(InboxUpdate).where(
            col(InboxUpdate.channel) == channel, col(InboxUpdate.update_id) == update_id
        )
    )
