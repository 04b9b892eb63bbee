"""Queries of reminders: what is due to go out, and the record of what went out."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Campaign, Initiative, Reminder, StatusChange

# The status change an initiative waits since, when it was, the reviewing unit, and the
# kinds of reminder about it that went out.
ReviewRow = tuple[int, datetime, int | None, frozenset[str]]


def sent_among(
    *, session: Session, kinds: Sequence[str], subject_ids: Sequence[int]
) -> set[tuple[str, int]]:
    """Return which reminders of these kinds about these subjects went out (or were
    skipped), as (kind, subject id) pairs."""
    if not subject_ids:
        return set()
    query = select(col(Reminder.kind), col(Reminder.subject_id)).where(
        col(Reminder.kind).in_(kinds), col(Reminder.subject_id).in_(subject_ids)
    )
    return {(kind, int(subject)) for kind, subject in session.execute(query).all()}


def campaigns_started(*, session: Session, now: datetime, last_kind: str) -> list[Campaign]:
    """Return the campaigns started by `now` whose `last_kind` reminder has not gone out."""
    query = (
        select(Campaign)
        .where(
            col(Campaign.starts_at) <= now,
            ~exists().where(
                col(Reminder.kind) == last_kind, col(Reminder.subject_id) == col(Campaign.id)
            ),
        )
        .order_by(col(Campaign.id))
    )
    return list(session.execute(query).scalars().all())


def idle_drafts(
    *, session: Session, status: str, idle_since: datetime, kind: str, limit: int
) -> list[int]:
    """Return the ids of initiatives in `status` unchanged since `idle_since` and not yet
    reminded of (`kind`), oldest first."""
    query = (
        select(col(Initiative.id))
        .where(
            col(Initiative.status) == status,
            col(Initiative.updated_at) <= idle_since,
            ~exists().where(
                col(Reminder.kind) == kind, col(Reminder.subject_id) == col(Initiative.id)
            ),
        )
        .order_by(col(Initiative.id))
        .limit(limit)
    )
    return [int(i) for i in session.execute(query).scalars()]


def waits(
    *,
    session: Session,
    waiting: Sequence[str],
    not_restarting: Sequence[str],
    kinds: Sequence[str],
) -> list[ReviewRow]:
    """Return each initiative in a `waiting` status by the status change it waits since
    (its latest change, except one into `not_restarting`: a step inside the same wait),
    with which reminders of `kinds` about that change went out."""
    later = aliased(StatusChange)
    since = (
        select(func.max(later.id))
        .where(
            col(later.initiative_id) == col(Initiative.id),
            col(later.to_status).not_in(not_restarting),
        )
        .scalar_subquery()
    )
    reminded = [
        exists().where(
            col(Reminder.kind) == kind, col(Reminder.subject_id) == col(StatusChange.id)
        )
        for kind in kinds
    ]
    query = (
        select(
            col(StatusChange.id), col(StatusChange.at), col(Initiative.review_unit_id), *reminded
        )
        .join(Initiative, col(Initiative.id) == col(StatusChange.initiative_id))
        .where(col(Initiative.status).in_(waiting), col(StatusChange.id) == since)
    )
    return [
        (int(i), at, unit_id, frozenset(k for k, done in zip(kinds, sent, strict=True) if done))
        for i, at, unit_id, *sent in session.execute(query).all()
    ]


def record(*, session: Session, kind: str, subject_id: int, now: datetime) -> Reminder:
    """Record a reminder going out; a second sender then fails on the row's key."""
    reminder = Reminder(kind=kind, subject_id=subject_id, at=now)
    session.add(reminder)
    session.flush()
    return reminder


def count_recipients(*, session: Session, reminder: Reminder, recipients: int) -> None:
    """Keep how many notices a recorded reminder queued."""
    reminder.recipients = recipients
    session.add(reminder)
