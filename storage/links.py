"""Queries on link codes (one person, two messengers) and the failed attempts to use one."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, LinkAttempt, LinkCode


def code_by_hash(*, session: Session, code_hash: str) -> LinkCode | None:
    """Return the link code with this hash, used or expired ones too."""
    return session.exec(select(LinkCode).where(LinkCode.code_hash == code_hash)).first()


def add_code(
    *, session: Session, identity_id: int, code_hash: str, now: datetime, expires_at: datetime
) -> LinkCode:
    """Store a new link code; the identity's codes not used yet stop working."""
    session.connection().execute(
        delete(LinkCode).where(
            col(LinkCode.identity_id) == identity_id, col(LinkCode.used_at).is_(None)
        )
    )
    code = LinkCode(
        identity_id=identity_id, code_hash=code_hash, created_at=now, expires_at=expires_at
    )
    session.add(code)
    session.flush()
    return code


def use_code(*, session: Session, code_id: int, now: datetime) -> bool:
    """Mark a code used; False when it was used already (by a concurrent update too)."""
    result = session.connection().execute(
        update(LinkCode)
        .where(col(LinkCode.id) == code_id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)


def forget_codes(*, session: Session, expired_before: datetime) -> None:
    """Delete the codes that expired before a moment (they no longer need an answer)."""
    session.connection().execute(delete(LinkCode).where(col(LinkCode.expires_at) < expired_before))


def codes_since(*, session: Session, since: datetime) -> int:
    """Return how many link codes were handed out since a moment (and still stored)."""
    query = select(func.count()).where(col(LinkCode.created_at) > since)
    return int(session.exec(query).one())


def codes_of(*, session: Session, member_id: int) -> Sequence[LinkCode]:
    """Return the link codes a member's identities asked for, oldest first."""
    query = (
        select(LinkCode)
        .join(ChannelIdentity, col(ChannelIdentity.id) == col(LinkCode.identity_id))
        .where(col(ChannelIdentity.member_id) == member_id)
        .order_by(col(LinkCode.id))
    )
    return session.exec(query).all()


def failures_since(
    *, session: Session, subject_hash: str | None, since: datetime
) -> tuple[int, datetime | None]:
    """Return how many attempts a person (None: anybody) failed since a moment, and the
    first of them."""
    query = select(func.count(), func.min(LinkAttempt.attempted_at)).where(
        col(LinkAttempt.attempted_at) > since
    )
    if subject_hash is not None:
        query = query.where(col(LinkAttempt.subject_hash) == subject_hash)
    count, first = session.exec(query).one()
    return int(count), first


def add_failure(*, session: Session, subject_hash: str, now: datetime, before: datetime) -> None:
    """Record a failed attempt, dropping everybody's attempts from before `before` (only
    the recent ones count, so the table stays that small)."""
    session.connection().execute(
        delete(LinkAttempt).where(col(LinkAttempt.attempted_at) <= before)
    )
    session.add(LinkAttempt(subject_hash=subject_hash, attempted_at=now))
    session.flush()


def failures_of(*, session: Session, subject_hashes: Sequence[str]) -> Sequence[LinkAttempt]:
    """Return the failed attempts of these people, oldest first."""
    query = (
        select(LinkAttempt)
        .where(col(LinkAttempt.subject_hash).in_(subject_hashes))
        .order_by(col(LinkAttempt.id))
    )
    return session.exec(query).all()


def forget_failures(*, session: Session, subject_hashes: Sequence[str]) -> None:
    """Delete the failed attempts of these people."""
    session.connection().execute(
        delete(LinkAttempt).where(col(LinkAttempt.subject_hash).in_(subject_hashes))
    )
