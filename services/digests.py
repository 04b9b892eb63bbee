"""Leader digests: what happened in a subtree over a period, from aggregate queries.

A province holds millions of initiatives, so the numbers come from one grouped query
per digest (per unit, summed here), never from loading initiatives.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlmodel import Session

from services import campaigns
from services.campaigns import Progress
from services.initiatives import APPROVED, RECOMMENDED, REJECTED, WAITING
from services.units import path_ids
from storage.models import Campaign, Initiative, Unit, table

TOP = 5
RECOGNIZED = (APPROVED, RECOMMENDED)
_I, _U, _C = table(Initiative), table(Unit), table(Campaign)


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
    """One of the period's most valuable recognized initiatives."""

    id: int
    title: str | None
    verified_vnd: int
    confidential: bool


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


def counts_statement(
    scope: Unit, start: datetime, end: datetime, overdue_before: datetime
) -> Select[Any]:
    """Build the one grouped query: the digest's numbers per unit of the subtree."""
    submitted = and_(_I.c.submitted_at >= start, _I.c.submitted_at < end)
    decided = and_(_I.c.decided_at >= start, _I.c.decided_at < end)
    waiting = _I.c.status.in_(WAITING)
    recognized = and_(decided, _I.c.status.in_(RECOGNIZED))

    def total(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    return (
        select(
            _I.c.unit_id,
            total(submitted),
            total(recognized),
            total(and_(decided, _I.c.status == REJECTED)),
            total(waiting),
            total(and_(waiting, _I.c.waiting_since < overdue_before)),
            total(submitted, _I.c.estimated_benefit_vnd),
            total(recognized, _I.c.verified_benefit_vnd),
        )
        .where(
            _I.c.unit_id.in_(subtree),
            or_(submitted, decided, waiting),
        )
        .group_by(_I.c.unit_id)
    )


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
    units = _subtree(session, scope)
    depth = len(path_ids(scope))
    children = {u.id or 0: Counts() for u in units.values() if u.parent_id == scope.id}
    overdue_before = now - timedelta(days=sla_days)
    statement = counts_statement(scope, start, end, overdue_before)
    for unit_id, *numbers in session.execute(statement).all():
        counts = Counts(*(int(n) for n in numbers))
        digest.totals.add(counts)
        unit = units.get(unit_id)
        ids = path_ids(unit) if unit else []
        if len(ids) > depth and ids[depth] in children:
            children[ids[depth]].add(counts)
    digest.units = sorted(
        ((units[unit_id], counts) for unit_id, counts in children.items()),
        key=lambda pair: (-pair[1].new, -pair[1].estimated_vnd, pair[0].name),
    )[:TOP]
    running = _running(session, scope, now)
    progress = campaigns.progress_of(session=session, campaigns=running)
    digest.campaigns = [(c, progress[c.id or 0]) for c in running]
    digest.top = _top(session, scope, start, end)
    digest.daily = _daily(session, scope, start, end, zone)
    return digest


def _subtree(session: Session, scope: Unit) -> dict[int, Unit]:
    rows = session.execute(select(Unit).where(_U.c.path.startswith(scope.path))).scalars()
    return {unit.id or 0: unit for unit in rows}


def _running(session: Session, scope: Unit, now: datetime) -> list[Campaign]:
    """Campaigns running now over the scope, or over a unit inside it."""
    inside = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    query = (
        select(Campaign)
        .where(
            or_(_C.c.unit_id.in_(path_ids(scope)), _C.c.unit_id.in_(inside)),
            _C.c.closed_at.is_(None),
            _C.c.starts_at <= now,
            _C.c.ends_at > now,
        )
        .order_by(_C.c.ends_at, _C.c.id)
    )
    return list(session.execute(query).scalars().all())


def _top(session: Session, scope: Unit, start: datetime, end: datetime) -> list[TopInitiative]:
    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    query = (
        select(_I.c.id, _I.c.title, _I.c.verified_benefit_vnd, _I.c.confidential)
        .where(
            _I.c.decided_at >= start,
            _I.c.decided_at < end,
            _I.c.status.in_(RECOGNIZED),
            _I.c.verified_benefit_vnd.is_not(None),
            _I.c.unit_id.in_(subtree),
        )
        .order_by(_I.c.verified_benefit_vnd.desc(), _I.c.id)
        .limit(3)
    )
    return [
        TopInitiative(int(i), title, int(vnd), bool(secret))
        for i, title, vnd, secret in session.execute(query).all()
    ]


def _daily(
    session: Session, scope: Unit, start: datetime, end: datetime, zone: tzinfo
) -> list[tuple[date, int]]:
    """Count the period's submissions per local day (every day, zeros included)."""
    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    query = select(_I.c.submitted_at).where(
        _I.c.submitted_at >= start, _I.c.submitted_at < end, _I.c.unit_id.in_(subtree)
    )
    per_day = Counter(at.astimezone(zone).date() for (at,) in session.execute(query).all())
    first, last = (
        start.astimezone(zone).date(),
        (end - timedelta(microseconds=1)).astimezone(zone).date(),
    )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day, per_day.get(day, 0)) for day in days]
