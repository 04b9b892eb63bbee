"""Queries on members, their channel identities and roles."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, tuple_, update
from sqlmodel import Session, col, select

from storage.models import ChannelIdentity, Member, Role

# Built once: it runs for every update.
_MEMBER = (
    select(Member)
    .join(ChannelIdentity, ChannelIdentity.member_id == Member.id)  # type: ignore[arg-type]
    .where(
        ChannelIdentity.channel == bindparam("channel"),
        ChannelIdentity.external_user_id == bindparam("user_id"),
    )
)


_MEMBERS = (
    select(
        Member,
        ChannelIdentity.channel,
        ChannelIdentity.external_user_id,
        ChannelIdentity.last_used_at,
    )
    .join(ChannelIdentity, ChannelIdentity.member_id == Member.id)  # type: ignore[arg-type]
    .where(
        tuple_(ChannelIdentity.channel, ChannelIdentity.external_user_id).in_(bindparam("keys"))
    )
)


# The order of a member's identities for a message: the one used last first, never used
# ones last (`IS NULL` sorts false before true on both databases), then the first one.
_USED = col(ChannelIdentity.last_used_at)
PREFERENCE = (_USED.is_(None), _USED.desc(), col(ChannelIdentity.id))

# How stale an identity's `last_used_at` may be: it is written at most this often, so
# that a person's every message does not cost a write.
USED_WITHIN = timedelta(minutes=5)

_MARK_USED = (
    update(ChannelIdentity)
    .where(
        col(ChannelIdentity.channel) == bindparam("of_channel"),
        col(ChannelIdentity.external_user_id) == bindparam("of_user"),
    )
    .values(last_used_at=bindparam("now"))
)


def members_for(
    *, session: Session, users: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Member, datetime | None]]:
    """Return the members behind several (channel, messenger user) pairs, each with when
    that identity was last used, in one query."""
    rows = session.exec(_MEMBERS, params={"keys": list(users)}).all()
    return {(channel, user_id): (member, used) for member, channel, user_id, used in rows}


def used_long_ago(used: datetime | None, now: datetime) -> bool:
    """Return whether an identity's `last_used_at` is too old to stand for `now`."""
    return used is None or used <= now - USED_WITHIN


def mark_used(*, connection: Connection, users: Sequence[tuple[str, str]], now: datetime) -> None:
    """Record that these (channel, messenger user) pairs wrote to the bot `now`."""
    if users:
        rows = [{"of_channel": channel, "of_user": user, "now": now} for channel, user in users]
        connection.execute(_MARK_USED, rows if len(rows) > 1 else rows[0])


def identity_for(*, session: Session, channel: str, user_id: str) -> ChannelIdentity | None:
    """Return the identity of a messenger user, if they are a member."""
    query = select(ChannelIdentity).where(
        ChannelIdentity.channel == channel, ChannelIdentity.external_user_id == user_id
    )
    return session.exec(query).first()


def set_unreachable(
    *, session: Session, channel: str, user_id: str, since: datetime | None
) -> bool:
    """Mark a messenger user unreachable since `since`, or reachable again (None).

    Return whether anything changed: a second block keeps the first one's time.
    """
    unreachable = col(ChannelIdentity.unreachable_at)
    result = session.connection().execute(
        update(ChannelIdentity)
        .where(
            col(ChannelIdentity.channel) == channel,
            col(ChannelIdentity.external_user_id) == user_id,
            unreachable.is_(None) if since is not None else unreachable.is_not(None),
        )
        .values(unreachable_at=since)
    )
    return bool(result.rowcount)


def member_for(*, session: Session, channel: str, user_id: str) -> Member | None:
    """Return the member behind a messenger user."""
    return session.exec(_MEMBER, params={"channel": channel, "user_id": user_id}).first()


def identities_of(*, session: Session, member_id: int) -> Sequence[ChannelIdentity]:
    """Return every channel identity of a member."""
    return session.exec(
        select(ChannelIdentity).where(ChannelIdentity.member_id == member_id)
    ).all()


def roles_of(*, session: Session, member_id: int) -> Sequence[Role]:
    """Return every role a member holds."""
    return session.exec(select(Role).where(Role.member_id == member_id)).all()


def role_of(*, session: Session, member_id: int, unit_id: int, role: str) -> Role | None:
    """Return one exact role grant, if it exists."""
    query = select(Role).where(
        Role.member_id == member_id, Role.unit_id == unit_id, Role.role == role
    )
    return session.exec(query).first()


def units_where_held(*, session: Session, role: str, unit_ids: Sequence[int]) -> Sequence[int]:
    """The ids among `unit_ids` where someone holds `role`."""
    query = select(Role.unit_id).where(col(Role.role) == role, col(Role.unit_id).in_(unit_ids))
    return session.exec(query).all()


def holders_of(*, session: Session, unit_id: int, role: str) -> Sequence[Member]:
    """Return the members holding `role` on exactly this unit, by id."""
    query = (
        select(Member)
        .join(Role, col(Role.member_id) == col(Member.id))
        .where(col(Role.role) == role, col(Role.unit_id) == unit_id)
        .order_by(col(Member.id))
    )
    return session.exec(query).all()


def members_by_id(*, session: Session, member_ids: Sequence[int]) -> list[Member]:
    """Return the members with these ids, in the order given (unknown ids left out)."""
    query = select(Member).where(col(Member.id).in_(member_ids))
    found = {member.id: member for member in session.exec(query).all()}
    return [found[i] for i in member_ids if i in found]


def reachable_identities(
    *, session: Session, member_ids: Sequence[int]
) -> dict[int, ChannelIdentity]:
    """Return, by member id, the identity each member used last among those they did not
    block the bot on (never used ones last, then the first one)."""
    query = (
        select(ChannelIdentity)
        .where(
            col(ChannelIdentity.member_id).in_(member_ids),
            col(ChannelIdentity.unreachable_at).is_(None),
        )
        .order_by(*PREFERENCE)
    )
    found: dict[int, ChannelIdentity] = {}
    for identity in session.exec(query).all():
        found.setdefault(identity.member_id, identity)
    return found
