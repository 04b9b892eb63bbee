"""Queries of digest settings, and the once-only marks of a digest period sent.

A leader's `DigestSetting.sent_until` and a group's `GroupChat.digest_sent_until` hold
the end of the last period that went out; each is moved on by a conditional UPDATE,
so that of two processes (or two runs of a job) only one marks a period, and sends it.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import DigestSetting, GroupChat, Role, table

_SETTINGS, _GROUPS, _ROLES = table(DigestSetting), table(GroupChat), table(Role)
_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def setting_of(*, session: Session, member_id: int) -> DigestSetting:
    """Return a member's digest setting (the default, weekly on Monday at 8, if none)."""
    return session.get(DigestSetting, member_id) or DigestSetting(member_id=member_id)


def save(*, session: Session, setting: DigestSetting) -> None:
    """Write a digest setting, new or changed."""
    session.add(setting)
    session.flush()


def settings_of_holders(*, session: Session, role: str) -> list[DigestSetting]:
    """Return the digest setting of every member holding `role` somewhere, by member id
    (the default for those who never chose)."""
    holders = select(_ROLES.c.member_id).where(_ROLES.c.role == role).distinct().subquery()
    query = (
        select(holders.c.member_id, DigestSetting)
        .outerjoin(DigestSetting, _SETTINGS.c.member_id == holders.c.member_id)
        .order_by(holders.c.member_id)
    )
    return [
        setting or DigestSetting(member_id=member_id)
        for member_id, setting in session.execute(query).all()
    ]


def mark_sent(*, connection: Connection, member_id: int, end: datetime) -> bool:
    """Mark a leader's period sent; False when it was marked already (by another process)."""
    default = DigestSetting(member_id=member_id)
    insert = _INSERTS[connection.dialect.name](_SETTINGS).values(
        member_id=member_id,
        frequency=default.frequency,
        at_hour=default.at_hour,
        weekday=default.weekday,
    )
    connection.execute(insert.on_conflict_do_nothing())
    result = connection.execute(
        update(_SETTINGS)
        .where(
            _SETTINGS.c.member_id == bindparam("member"),
            or_(_SETTINGS.c.sent_until.is_(None), _SETTINGS.c.sent_until < bindparam("end")),
        )
        .values(sent_until=bindparam("end")),
        {"member": member_id, "end": end},
    )
    return bool(result.rowcount)


def groups_of(
    *, session: Session, unit_ids: Sequence[int], due_before: datetime | None = None
) -> list[GroupChat]:
    """Return the group chats linked to exactly these units, except those that removed
    the bot; with `due_before`, only those whose last digest ended before it."""
    query = select(GroupChat).where(
        _GROUPS.c.unit_id.in_(unit_ids), _GROUPS.c.removed_at.is_(None)
    )
    if due_before is not None:
        sent = _GROUPS.c.digest_sent_until
        query = query.where(or_(sent.is_(None), sent < due_before))
    query = query.order_by(_GROUPS.c.channel, _GROUPS.c.chat_id)
    return list(session.execute(query).scalars().all())


def mark_group_sent(*, connection: Connection, group: GroupChat, end: datetime) -> bool:
    """Mark a group's digest period posted; False when it was (by another leader's schedule
    with the same period end, or by another process)."""
    result = connection.execute(
        update(_GROUPS)
        .where(
            _GROUPS.c.channel == group.channel,
            _GROUPS.c.chat_id == group.chat_id,
            or_(_GROUPS.c.digest_sent_until.is_(None), _GROUPS.c.digest_sent_until < end),
        )
        .values(digest_sent_until=end)
    )
    return bool(result.rowcount)
