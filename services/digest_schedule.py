"""When each leader gets the digest, and the once-only mark of a period sent."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, bindparam, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from core.errors import Refused
from services import roles
from storage.models import DigestSetting, GroupChat, Member, Role, table

FREQUENCIES = ("daily", "weekly", "monthly", "off")
LEADER = "leader"
# A period whose digest could not go out within this (the bot was down) is skipped.
GRACE = timedelta(hours=24)
_TABLE = table(DigestSetting)
_GROUPS = table(GroupChat)
_INSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


@dataclass(frozen=True)
class DueDigest:
    """A leader's digest to send now, for the period [start, end)."""

    member_id: int
    start: datetime
    end: datetime


def setting_of(*, session: Session, member_id: int) -> DigestSetting:
    """Return a member's digest setting (the default, weekly on Monday at 8, if none)."""
    return session.get(DigestSetting, member_id) or DigestSetting(member_id=member_id)


def change(
    *,
    session: Session,
    member: Member,
    frequency: str,
    at_hour: int | None = None,
    weekday: int | None = None,
    to_groups: bool | None = None,
) -> DigestSetting:
    """Change how often a leader gets the digest; only leaders have one."""
    if not roles.scopes(session=session, member=member, role=LEADER):
        raise Refused("digest.not_leader")
    if frequency not in FREQUENCIES:
        raise Refused("common.pick_option")
    if at_hour is not None and not 0 <= at_hour <= 23:
        raise Refused("digest.hour_retry")
    if weekday is not None and not 0 <= weekday <= 6:
        raise Refused("common.pick_option")
    setting = session.get(DigestSetting, member.id) or DigestSetting(member_id=member.id or 0)
    setting.frequency = frequency
    setting.at_hour = setting.at_hour if at_hour is None else at_hour
    setting.weekday = setting.weekday if weekday is None else weekday
    setting.to_groups = setting.to_groups if to_groups is None else to_groups
    session.add(setting)
    session.flush()
    return setting


def latest_period(
    setting: DigestSetting, now: datetime, zone: tzinfo
) -> tuple[datetime, datetime]:
    """Return the last period, in UTC, whose scheduled end is not after `now`."""
    local = now.astimezone(zone)
    at = time(setting.at_hour)

    def moment(day: date) -> datetime:
        return datetime.combine(day, at, tzinfo=zone)

    if setting.frequency == "daily":
        end = moment(local.date())
        end = end if end <= local else moment(local.date() - timedelta(days=1))
        start = moment(end.date() - timedelta(days=1))
    elif setting.frequency == "monthly":
        end = moment(local.date().replace(day=1))
        if end > local:
            end = moment((end.date() - timedelta(days=1)).replace(day=1))
        start = moment((end.date() - timedelta(days=1)).replace(day=1))
    else:
        back = (local.weekday() - setting.weekday) % 7
        end = moment(local.date() - timedelta(days=back))
        end = end if end <= local else moment(end.date() - timedelta(days=7))
        start = moment(end.date() - timedelta(days=7))
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def due(*, session: Session, now: datetime, zone: tzinfo) -> list[DueDigest]:
    """Return the leaders whose latest period ended, was not sent, and is not too old."""
    leaders = session.exec(select(Role.member_id).where(col(Role.role) == LEADER).distinct()).all()
    found = []
    for member_id in sorted(leaders):
        setting = setting_of(session=session, member_id=member_id)
        if setting.frequency == "off":
            continue
        start, end = latest_period(setting, now, zone)
        if now - end <= GRACE and (setting.sent_until is None or setting.sent_until < end):
            found.append(DueDigest(member_id, start, end))
    return found


def mark_sent(*, connection: Connection, member_id: int, end: datetime) -> bool:
    """Mark a period sent; False when it was marked already (by another process)."""
    default = DigestSetting(member_id=member_id)
    insert = _INSERTS[connection.dialect.name](_TABLE).values(
        member_id=member_id,
        frequency=default.frequency,
        at_hour=default.at_hour,
        weekday=default.weekday,
    )
    connection.execute(insert.on_conflict_do_nothing())
    result = connection.execute(
        update(_TABLE)
        .where(
            _TABLE.c.member_id == bindparam("member"),
            or_(_TABLE.c.sent_until.is_(None), _TABLE.c.sent_until < bindparam("end")),
        )
        .values(sent_until=bindparam("end")),
        {"member": member_id, "end": end},
    )
    return bool(result.rowcount)


def groups_of(*, session: Session, unit_ids: list[int]) -> list[GroupChat]:
    """Return the group chats linked to exactly these units, except those that removed
    the bot."""
    query = (
        select(GroupChat)
        .where(col(GroupChat.unit_id).in_(unit_ids), col(GroupChat.removed_at).is_(None))
        .order_by(col(GroupChat.channel), col(GroupChat.chat_id))
    )
    return list(session.exec(query).all())


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
