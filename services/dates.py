"""Dates as people type them (dd/mm/yyyy) and the local calendar day."""

import re
from datetime import UTC, date, datetime, time, tzinfo

from core.errors import Refused

_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
EARLIEST = date(1950, 1, 1)


def parse_day(text: str, *, today: date) -> date:
    """Read a dd/mm/yyyy date that is neither in the future nor before 1950."""
    value = read_day(text)
    if value > today:
        raise Refused("wizard.applied_in_future")
    return value


def read_day(text: str) -> date:
    """Read a dd/mm/yyyy date from 1950 on."""
    match = _DAY.match("".join(text.split()))
    if not match:
        raise Refused("wizard.date_format")
    day, month, year = (int(part) for part in match.groups())
    try:
        value = date(year, month, day)
    except ValueError as exc:
        raise Refused("wizard.date_invalid") from exc
    if value < EARLIEST:
        raise Refused("wizard.date_too_old")
    return value


def local_today(now: datetime, zone: tzinfo) -> date:
    """Return the calendar day it is in `zone` at the instant `now`."""
    return now.astimezone(zone).date()


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """Return the instant (in UTC) a calendar day begins in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
