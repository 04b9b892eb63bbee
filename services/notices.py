"""Who hears about what: notices queued in the outbox with the change that causes them."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.codec import reply_to_json
from core.messages import Reply, t
from storage import outbox
from storage.initiatives import authors_of
from storage.members import identities_of
from storage.models import Author, ChannelIdentity, GroupChat, Initiative, Member, Role, Unit


def to_member(*, session: Session, member: Member, reply: Reply, now: datetime) -> bool:
    """Queue a private notice to a member; False when no channel reaches them (none, or
    they blocked the bot on each)."""
    identities = identities_of(session=session, member_id=member.id or 0)
    identity = next((i for i in identities if i.unreachable_at is None), None)
    if identity is None:
        return False
    outbox.enqueue(
        session=session,
        channel=identity.channel,
        chat_id=identity.chat_id,
        chat_kind="private",
        language=member.language,
        content=reply_to_json(reply),
        now=now,
        member_id=member.id,
    )
    return True


def to_group(
    *, session: Session, group: GroupChat, reply: Reply, language: str, now: datetime
) -> None:
    """Queue a message to a linked group chat."""
    outbox.enqueue(
        session=session,
        channel=group.channel,
        chat_id=group.chat_id,
        chat_kind="group",
        language=language,
        content=reply_to_json(reply),
        now=now,
    )


def to_members_in(*, session: Session, unit: Unit, reply: Reply, now: datetime) -> int:
    """Queue a notice to every member of a unit's subtree, on their first channel that
    reaches them (not one they blocked the bot on).

    One read and one bulk insert, however many members: a province has hundreds of
    thousands.
    """
    first = (
        select(func.min(ChannelIdentity.id))
        .where(col(ChannelIdentity.unreachable_at).is_(None))
        .group_by(col(ChannelIdentity.member_id))
        .correlate(None)  # a list of its own, not tied to the outer query's identity
    )
    query = (
        select(ChannelIdentity.channel, ChannelIdentity.chat_id, Member.id, Member.language)
        .join(Member, col(Member.id) == col(ChannelIdentity.member_id))
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(col(Unit.path).startswith(unit.path), col(ChannelIdentity.id).in_(first))
        .order_by(col(Member.id))
    )
    content = reply_to_json(reply)
    rows = [
        {
            "channel": channel,
            "chat_id": chat_id,
            "chat_kind": "private",
            "member_id": member_id,
            "language": language,
            "content": content,
            "status": outbox.QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel, chat_id, member_id, language in session.exec(query).all()
    ]
    outbox.enqueue_many(session=session, rows=rows)
    return len(rows)


def to_authors(*, session: Session, authors: list[Author], reply: Reply, now: datetime) -> int:
    """Queue a notice to every author who is a member; return how many were queued."""
    queued = 0
    for member_id in dict.fromkeys(a.member_id for a in authors if a.member_id):
        member = session.get(Member, member_id)
        if member is not None and to_member(session=session, member=member, reply=reply, now=now):
            queued += 1
    return queued


def holders(*, session: Session, unit: Unit, role: str) -> list[Member]:
    """Return the members holding `role` on exactly this unit."""
    query = (
        select(Member)
        .join(Role, col(Role.member_id) == col(Member.id))
        .where(col(Role.role) == role, col(Role.unit_id) == unit.id)
        .order_by(col(Member.id))
    )
    return list(session.exec(query).all())


def to_reviewers(
    *, session: Session, unit: Unit, reply: Reply, now: datetime, skip: set[int]
) -> int:
    """Queue a notice to the reviewers of a unit (its council), except those in `skip`."""
    queued = 0
    for member in holders(session=session, unit=unit, role="reviewer"):
        if member.id not in skip and to_member(
            session=session, member=member, reply=reply, now=now
        ):
            queued += 1
    return queued


def review_waiting(*, session: Session, initiative: Initiative, unit: Unit, now: datetime) -> int:
    """Tell a unit's reviewers that an initiative waits for them (its authors excluded)."""
    authors = authors_of(session=session, initiative_id=initiative.id or 0)
    skip = {a.member_id for a in authors if a.member_id is not None}
    return to_reviewers(
        session=session,
        unit=unit,
        reply=Reply(t("notice.review_waiting", title=initiative.title or "", unit=unit.name)),
        now=now,
        skip=skip,
    )
