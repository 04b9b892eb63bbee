"""When each leader gets the digest: the settings, their periods, and which are due."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlmodel import Session

from core.errors import Refused
from services import roles
from storage import digest_settings as store
from storage.models import DigestSetting, Member

FREQUENCIES = ("daily", "weekly", "monthly", "off")
LEADER = "leader"
# A period whose digest could not go out within this (the bot was down) is skipped.
GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class DueDigest:
    """A leader's digest to send now, for the period [start, end)."""

    member_id: int
    start: datetime
    end: datetime


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
    setting = store.setting_of(session=session, member_id=member.id or 0)
    setting.frequency = frequency
    setting.at_hour = setting.at_hour if at_hour is None else at_hour
    setting.weekday = setting.weekday if weekday is None else weekday
    setting.to_groups = setting.to_groups if to_groups is None else to_groups
    store.save(session=session, setting=setting)
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
    found = []
    for setting in store.settings_of_holders(session=session, role=LEADER):
        if setting.frequency == "off":
            continue
        start, end = latest_period(setting, now, zone)
        if now - end <= GRACE and (setting.sent_until is None or setting.sent_until < end):
            found.append(DueDigest(setting.member_id, start, end))
    return found
