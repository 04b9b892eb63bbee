"""Queries on the outbox: messages queued with the change that caused them.

A chat gets its messages in order: only the oldest queued message of a chat is ever
due, so a message waiting for a retry holds back the ones queued after it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Member, OutboxAttempt, OutboxMessage, table

QUEUED, SENT, BLOCKED, FAILED = "queued", "sent", "blocked", "failed"
QUEUED_FLAG = "outbox_queued"


@dataclass
class Due:
    """A message ready to go, with the language to render it in now."""

    id: int
    channel: str
    chat_id: str
    chat_kind: str
    language: str
    content: dict[str, Any]
    attempts: int


@dataclass
class Outcome:
    """How one attempt went, and when to try again (None: never)."""

    message_id: int
    outcome: str
    at: datetime
    status: str
    retry_at: datetime | None = None
    retry_after: float | None = None
    detail: str | None = None


def enqueue(
    *,
    session: Session,
    channel: str,
    chat_id: str,
    chat_kind: str,
    language: str,
    content: dict[str, Any],
    now: datetime,
    member_id: int | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction."""
    message = OutboxMessage(
        channel=channel,
        chat_id=chat_id,
        chat_kind=chat_kind,
        member_id=member_id,
        language=language,
        content=content,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.info[QUEUED_FLAG] = True
    return message


def enqueue_many(*, session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue many messages (outbox rows as dicts) in the caller's transaction, in bulk."""
    if rows:
        session.execute(insert(table(OutboxMessage)), rows)
        session.info[QUEUED_FLAG] = True


def queued_any(session: Session) -> bool:
    """Tell whether this session queued a message (so a sender should look now)."""
    return bool(session.info.get(QUEUED_FLAG))


def due(
    *,
    session: Session,
    now: datetime,
    limit: int,
    skip: Iterable[int] = (),
    chat: tuple[str, str] | None = None,
    channels: Iterable[str] | None = None,
) -> list[Due]:
    """Return the oldest queued message of each chat (or of `chat`) whose time has come,
    optionally only on `channels`."""
    earlier = aliased(OutboxMessage)
    query = (
        select(OutboxMessage, col(Member.language))
        .outerjoin(Member, col(Member.id) == col(OutboxMessage.member_id))
        .where(
            col(OutboxMessage.status) == QUEUED,
            col(OutboxMessage.next_attempt_at) <= now,
            ~exists().where(
                and_(
                    col(earlier.channel) == col(OutboxMessage.channel),
                    col(earlier.chat_id) == col(OutboxMessage.chat_id),
                    col(earlier.status) == QUEUED,
                    col(earlier.id) < col(OutboxMessage.id),
                )
            ),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if chat is not None:
        query = query.where(
            col(OutboxMessage.channel) == chat[0], col(OutboxMessage.chat_id) == chat[1]
        )
    if channels is not None:
        query = query.where(col(OutboxMessage.channel).in_(list(channels)))
    skipped = set(skip)
    if skipped:
        query = query.where(col(OutboxMessage.id).not_in(skipped))
    return [
        Due(
            id=message.id or 0,
            channel=message.channel,
            chat_id=message.chat_id,
            chat_kind=message.chat_kind,
            language=language or message.language,
            content=message.content,
            attempts=message.attempts,
        )
        for message, language in session.execute(query).all()
    ]


def next_due_at(*, session: Session, channels: Iterable[str]) -> datetime | None:
    """Return when the next queued message on `channels` becomes due, if any is queued."""
    query = select(func.min(OutboxMessage.next_attempt_at)).where(
        col(OutboxMessage.status) == QUEUED, col(OutboxMessage.channel).in_(list(channels))
    )
    result: datetime | None = session.execute(query).scalar_one_or_none()
    return result


def record(*, session: Session, outcomes: Sequence[Outcome]) -> None:
    """Write the outcome of attempts: every attempt is kept, the message moves on."""
    for outcome in outcomes:
        message = session.get(OutboxMessage, outcome.message_id)
        if message is None:
            continue
        message.attempts += 1
        message.status = outcome.status
        if outcome.status == SENT:
            message.sent_at = outcome.at
        if outcome.retry_at is not None:
            message.next_attempt_at = outcome.retry_at
        session.add(message)
        session.add(
            OutboxAttempt(
                message_id=outcome.message_id,
                at=outcome.at,
                outcome=outcome.outcome,
                retry_after=outcome.retry_after,
                detail=outcome.detail,
            )
        )


def backoff(attempts: int) -> timedelta:
    """Return the wait before retrying after `attempts` transient failures (capped)."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))
