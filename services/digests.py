"""Leader digests: what happened in a subtree over a period, from aggregate queries.

The numbers come per unit from one grouped query (`storage.digests`) and are summed
here into the subtree's totals and its child units' standings.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

from services import campaigns
from services.campaigns import Progress
from services.dates import local_midnight
from services.initiatives import APPROVED, RECOMMENDED, REJECTED, WAITING
from services.units import path_ids
from storage import digests as queries
from storage.models import Campaign, Unit

TOP = 5
TOP_INITIATIVES = 3
RECOGNIZED = (APPROVED, RECOMMENDED)


@dataclass
class Counts:
    """The numbers of a digest, for a whole subtree or one unit in it."""

    new: int = 0
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    overdue: int = 0
    estimated_vnd: int = 0
    verified_vnd: int = 0

    def add(self, other: "Counts") -> None:
        """Add another unit's numbers to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class TopInitiative:
    """One of the period's most valuable recognized initiatives, and the unit that made
    it: what the digest offers its leader to spread (nhân rộng) to other units."""

    id: int
    title: str | None
    verified_vnd: int
    confidential: bool
    unit: str


@dataclass
class Digest:
    """A subtree's digest for the period [start, end)."""

    scope: Unit
    start: datetime
    end: datetime
    totals: Counts = field(default_factory=Counts)
    units: list[tuple[Unit, Counts]] = field(default_factory=list)
    campaigns: list[tuple[Campaign, Progress]] = field(default_factory=list)
    top: list[TopInitiative] = field(default_factory=list)
    daily: list[tuple[date, int]] = field(default_factory=list)


def counts_statement() -> Select[Any]:
    """Return the grouped query of a subtree's numbers per unit, with the digest's statuses."""
    return queries.counts_statement(recognized=RECOGNIZED, rejected=REJECTED, waiting=WAITING)


def build(
    *,
    session: Session,
    scope: Unit,
    start: datetime,
    end: datetime,
    now: datetime,
    sla_days: int,
    zone: tzinfo,
) -> Digest:
    """Gather a subtree's digest for [start, end): counts, units, campaigns, top, per day."""
    digest = Digest(scope, start, end)
    units = {u.id or 0: u for u in queries.units_under(session=session, path=scope.path)}
    depth = len(path_ids(scope))
    children = {u.id or 0: Counts() for u in units.values() if u.parent_id == scope.id}
    per_unit = queries.counts_per_unit(
        session=session,
        statement=counts_statement(),
        path=scope.path,
        start=start,
        end=end,
        overdue_before=now - timedelta(days=sla_days),
    )
    for unit_id, numbers in per_unit:
        counts = Counts(*numbers)
        digest.totals.add(counts)
        unit = units.get(unit_id)
        ids = path_ids(unit) if unit else []
        if len(ids) > depth and ids[depth] in children:
            children[ids[depth]].add(counts)
    digest.units = sorted(
        ((units[unit_id], counts) for unit_id, counts in children.items()),
        key=lambda pair: (-pair[1].new, -pair[1].estimated_vnd, pair[0].name),
    )[:TOP]
    running = queries.running_campaigns(
        session=session, path=scope.path, above=path_ids(scope), now=now
    )
    progress = campaigns.progress_of(session=session, campaigns=running)
    digest.campaigns = [(c, progress[c.id or 0]) for c in running]
    best = queries.best_decided(
        session=session,
        path=scope.path,
        start=start,
        end=end,
        statuses=RECOGNIZED,
        limit=TOP_INITIATIVES,
    )
    digest.top = [TopInitiative(*row) for row in best]
    digest.daily = daily(session=session, scope=scope, start=start, end=end, zone=zone)
    return digest


def daily(
    *, session: Session, scope: Unit, start: datetime, end: datetime, zone: tzinfo
) -> list[tuple[date, int]]:
    """Count the period's submissions per local day (every day, zeros included)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    per_day = queries.submissions_per_day(
        session=session,
        path=scope.path,
        start=start,
        end=end,
        day_starts=[local_midnight(day, zone) for day in days[1:]],
    )
    return [(day, per_day.get(n, 0)) for n, day in enumerate(days)]
