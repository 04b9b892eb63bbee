"""Queries on the outbox: messages queued with the change that caused them.

A chat gets its messages in order: only the oldest queued message of a chat is ever
due, so a message waiting for a retry holds back the ones queued after it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import aliased
from sqlalchemy.types import JSON
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from storage.models import (
    Broadcast,
    ChannelIdentity,
    GroupChat,
    Member,
    OutboxAttempt,
    OutboxMessage,
    table,
)
from storage.types import UTCDateTime

QUEUED, SENT, BLOCKED, FAILED = "queued", "sent", "blocked", "failed"
CANCELLED = "cancelled"  # a broadcast stopped before this message went
BROADCAST = "broadcast"  # the content key of a broadcast message: the broadcast's id
BROADCAST_PRIORITY = 1  # a broadcast's messages go after everything else queued
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
    parts_sent: int = 0  # sends of this message that went out in earlier attempts
    broadcast: int | None = None  # the broadcast it belongs to, if any


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
    parts_sent: int | None = None  # when retried: the sends that went out so far


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
    _queued(session)
    return message


def enqueue_to_members(
    *, session: Session, members: Select[Any], content: dict[str, Any], now: datetime
) -> int:
    """Queue one private message to each of `members` (channel, chat_id, member_id, language, as
    `storage.recipients.members` selects them): one read and one bulk insert."""
    rows = [
        {
            "channel": channel,
            "chat_id": chat_id,
            "chat_kind": "private",
            "member_id": member_id,
            "language": language,
            "content": content,
            "status": QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel, chat_id, member_id, language in session.execute(
            members.order_by(members.selected_columns.member_id)
        ).all()
    ]
    if rows:
        session.execute(insert(table(OutboxMessage)), rows)
        _queued(session)
    return len(rows)


def enqueue_broadcast(
    *,
    session: Session,
    broadcast_id: int,
    members: Select[Any] | None,
    groups: Select[Any] | None,
    group_language: str,
    now: datetime,
) -> int:
    """Queue a broadcast's message to each of `members` (channel, chat_id, member_id, language)
    and `groups` (channel, chat_id, in `group_language`), one INSERT ... SELECT each, after
    everything else (priority 1); return how many messages the broadcast has.

    Each message names the broadcast, which keeps the text once per language.
    """
    messages = table(OutboxMessage)
    fixed: dict[str, ColumnElement[Any]] = {
        "status": literal(QUEUED),
        "attempts": literal(0),
        "next_attempt_at": literal(now, messages.c.next_attempt_at.type),
        "created_at": literal(now, messages.c.created_at.type),
        "broadcast_id": literal(broadcast_id),
        "priority": literal(BROADCAST_PRIORITY),
        "parts_sent": literal(0),
        "content": literal({BROADCAST: broadcast_id}, JSON),
    }
    if members is not None:
        _insert_select(session, members, {**fixed, "chat_kind": literal("private")})
    if groups is not None:
        language = literal(group_language)
        _insert_select(
            session, groups, {**fixed, "chat_kind": literal("group"), "language": language}
        )
    # The drivers do not all report the rows an INSERT ... SELECT wrote.
    query = select(func.count()).where(messages.c.broadcast_id == broadcast_id)
    queued = int(session.execute(query).scalar_one())
    refresh_statistics(session=session)
    _queued(session)
    return queued


def _insert_select(session: Session, rows: Select[Any], fixed: dict[str, Any]) -> None:
    """Queue a message for each of `rows` (named by outbox columns), with `fixed` values."""
    found = rows.subquery()
    columns = {**{column.name: column for column in found.c}, **fixed}
    source = select(*(value.label(name) for name, value in columns.items()))
    session.execute(table(OutboxMessage).insert().from_select(list(columns), source))


def _queued(session: Session) -> None:
    """Note that this session queued a message (see `queued_any`)."""
    session.info[QUEUED_FLAG] = True


def refresh_statistics(*, session: Session) -> None:
    """Let the query planner know the outbox after a bulk insert (a broadcast's).

    Without fresh statistics both PostgreSQL (until autovacuum gets to it) and SQLite
    sort every queued message on each look for due ones, instead of walking the queue's
    index and stopping at the first few hundred: 0.1-0.5 s a look at 100,000.
    """
    session.execute(text("ANALYZE outboxmessage"))


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
    optionally only on `channels`; broadcasts (priority 1) after everything else.

    A broadcast message does not hold back a notice queued after it for the same chat:
    only a message of the same or a more urgent priority does.
    """
    earlier = aliased(OutboxMessage)
    message = table(OutboxMessage)
    query = (
        select(
            message.c.id,
            message.c.channel,
            message.c.chat_id,
            message.c.chat_kind,
            func.coalesce(col(Member.language), message.c.language),
            message.c.content,
            message.c.attempts,
            message.c.parts_sent,
        )
        .select_from(message)
        .outerjoin(Member, col(Member.id) == message.c.member_id)
        .where(
            col(OutboxMessage.status) == QUEUED,
            col(OutboxMessage.next_attempt_at) <= now,
            ~exists().where(
                and_(
                    col(earlier.chat_id) == col(OutboxMessage.chat_id),
                    col(earlier.channel) == col(OutboxMessage.channel),
                    col(earlier.status) == QUEUED,
                    col(earlier.id) < col(OutboxMessage.id),
                    col(earlier.priority) <= col(OutboxMessage.priority),
                )
            ),
        )
        .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
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
    # Plain rows, not ORM objects: a broadcast reads thousands a second.
    found = [Due(*row) for row in session.execute(query).all()]
    _expand_broadcasts(session, found)
    return found


def _expand_broadcasts(session: Session, found: list[Due]) -> None:
    """Put each broadcast message's text in: the recipient's language's version, else the
    broadcast's default (a broadcast keeps its text once, not once per recipient)."""
    ids = {int(item.content[BROADCAST]) for item in found if BROADCAST in item.content}
    if not ids:
        return
    broadcasts = table(Broadcast)
    query = select(broadcasts.c.id, broadcasts.c.contents).where(broadcasts.c.id.in_(ids))
    contents = {int(i): c for i, c in session.execute(query).all()}
    for item in found:
        if BROADCAST in item.content:
            item.broadcast = int(item.content[BROADCAST])
            content = contents[item.broadcast]
            versions = content["versions"]
            item.content = versions.get(item.language) or versions[content["default"]]


def next_due_at(*, session: Session, channels: Iterable[str]) -> datetime | None:
    """Return when the next queued message on `channels` becomes due, if any is queued."""
    query = select(func.min(OutboxMessage.next_attempt_at)).where(
        col(OutboxMessage.status) == QUEUED, col(OutboxMessage.channel).in_(list(channels))
    )
    result: datetime | None = session.execute(query).scalar_one_or_none()
    return result


_OPEN = (QUEUED, CANCELLED)  # the statuses an outcome may change
# A cancelled message takes any outcome but "try again later".
_STAY_CANCELLED = case(
    (bindparam("new_status") == QUEUED, CANCELLED), else_=bindparam("new_status")
)


def record(*, session: Session, outcomes: Sequence[Outcome]) -> None:
    """Write the outcome of attempts, in bulk: every attempt is kept, the messages move on.

    A message cancelled while its send was in flight keeps the outcome of the send, but
    is not queued again (a 429, a 5xx): it stays cancelled. A chat that refused a
    message as blocked is marked: the person unreachable, the group as having removed
    the bot (see `_mark_blocked`).
    """
    if not outcomes:
        return
    _mark_blocked(
        session=session,
        message_ids=[o.message_id for o in outcomes if o.status == BLOCKED],
        at=max(o.at for o in outcomes),
    )
    messages = table(OutboxMessage)
    session.execute(
        update(messages)
        # A final status stays: an outcome written late (a leader that lost the lease
        # while the database was away) must not queue again what another one sent.
        .where(
            messages.c.id == bindparam("message_id"),
            or_(*(messages.c.status == status for status in _OPEN)),  # not IN: executemany
        )
        .values(
            attempts=messages.c.attempts + bindparam("counted"),
            status=case(
                (messages.c.status == CANCELLED, _STAY_CANCELLED), else_=bindparam("new_status")
            ),
            sent_at=func.coalesce(bindparam("sent", type_=UTCDateTime), messages.c.sent_at),
            next_attempt_at=func.coalesce(
                bindparam("retry", type_=UTCDateTime), messages.c.next_attempt_at
            ),
            parts_sent=func.coalesce(bindparam("parts"), messages.c.parts_sent),
        )
        .execution_options(synchronize_session=False),
        [
            {
                "message_id": o.message_id,
                # A messenger's "wait" (429) is no failure: it must not bring a message
                # nearer to being given up, nor lengthen the backoff of a later failure.
                "counted": 0 if o.outcome == "retry_after" else 1,
                "new_status": o.status,
                "sent": o.at if o.status == SENT else None,
                "retry": o.retry_at,
                "parts": o.parts_sent,
            }
            for o in outcomes
        ],
    )
    session.execute(
        insert(table(OutboxAttempt)),
        [
            {
                "message_id": o.message_id,
                "at": o.at,
                "outcome": o.outcome,
                "retry_after": o.retry_after,
                "detail": o.detail,
            }
            for o in outcomes
        ],
    )


def _mark_blocked(*, session: Session, message_ids: Sequence[int], at: datetime) -> None:
    """Mark the chats of messages refused as blocked: a private chat's person unreachable,
    a linked group as having removed the bot. Those marked already keep their time."""
    if not message_ids:
        return
    messages = table(OutboxMessage)
    for model, column, kind in (
        (ChannelIdentity, "unreachable_at", "private"),
        (GroupChat, "removed_at", "group"),
    ):
        chats = table(model)
        blocked = select(messages.c.channel, messages.c.chat_id).where(
            messages.c.id.in_(message_ids), messages.c.chat_kind == kind
        )
        session.execute(
            update(chats)
            .where(
                tuple_(chats.c.channel, chats.c.chat_id).in_(blocked),
                chats.c[column].is_(None),
            )
            .values({column: at})
        )


def move_chat(*, session: Session, channel: str, old: str, new: str) -> int:
    """Send what is still queued for a chat to the chat's new id; return how many."""
    messages = table(OutboxMessage)
    result = session.connection().execute(
        update(messages)
        .where(
            messages.c.channel == channel,
            messages.c.chat_id == old,
            messages.c.status == QUEUED,
        )
        .values(chat_id=new)
    )
    return int(result.rowcount)


def _addressed_to(member_id: int, chats: Sequence[tuple[str, str]]) -> Any:
    """Messages for a member: by their id, or to one of their private chats."""
    messages = table(OutboxMessage)
    to_chat = tuple_(messages.c.channel, messages.c.chat_id).in_(chats) if chats else false()
    return or_(messages.c.member_id == member_id, and_(messages.c.chat_kind == "private", to_chat))


def addressed_to(
    *, session: Session, member_id: int, chats: Sequence[tuple[str, str]]
) -> Sequence[OutboxMessage]:
    """Every message queued or sent to a member, oldest first."""
    query = select_rows(OutboxMessage).where(_addressed_to(member_id, chats))
    return session.exec(query.order_by(col(OutboxMessage.id))).all()


def existing(*, session: Session, ids: Sequence[int]) -> set[int]:
    """Return which of these messages are still in the table."""
    messages = table(OutboxMessage)
    return set(session.execute(select(messages.c.id).where(messages.c.id.in_(ids))).scalars())


def forget(*, session: Session, member_id: int, chats: Sequence[tuple[str, str]]) -> None:
    """Erase a member from the outbox: what is still queued for them goes; what was sent
    keeps only its status and times (a broadcast's counts stay right), not their chat id,
    their name in the text, or who they were."""
    messages = table(OutboxMessage)
    whose = _addressed_to(member_id, chats)
    connection = session.connection()
    connection.execute(delete(messages).where(whose, messages.c.status == QUEUED))
    connection.execute(
        update(messages).where(whose).values(chat_id="", member_id=None, content={})
    )


def backoff(attempts: int) -> timedelta:
    """Return the wait before retrying after `attempts` transient failures (capped)."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))
