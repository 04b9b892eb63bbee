"""Leader digests: what happened in a subtree over a period, from aggregate queries.

A province holds millions of initiatives, so the numbers come from one grouped query
per digest (per unit, summed here), never from loading initiatives.
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from services import campaigns
from services.campaigns import Progress
from services.dates import local_midnight
from services.initiatives import APPROVED, RECOMMENDED, REJECTED, WAITING
from services.units import path_ids
from storage.models import Campaign, Initiative, Unit, table

TOP = 5
TOP_INITIATIVES = 3
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


_NUMBERS = tuple(f.name for f in fields(Counts))


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
    """Build the one grouped query: the digest's numbers per unit of the subtree.

    An initiative counts for being submitted in the period, decided in it, or waiting
    for a decision. Each of the three is a grouped part of its own, read from its own
    index (unit, then the time or status, then the values counted), and the parts are
    added up per unit; one pass filtered by the three conditions at once reads the table.
    """
    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    recognized = _I.c.status.in_(RECOGNIZED)

    def part(where: ColumnElement[bool], **numbers: ColumnElement[Any]) -> Select[Any]:
        columns = (numbers.get(name, literal(0, BigInteger)).label(name) for name in _NUMBERS)
        return (
            select(_I.c.unit_id, *columns)
            .where(_I.c.unit_id.in_(subtree), where)
            .group_by(_I.c.unit_id)
        )

    parts = union_all(
        part(
            and_(_I.c.submitted_at >= start, _I.c.submitted_at < end),
            new=func.count(),
            estimated_vnd=_sum(_I.c.estimated_benefit_vnd),
        ),
        part(
            and_(_I.c.decided_at >= start, _I.c.decided_at < end),
            approved=_count(recognized),
            rejected=_count(_I.c.status == REJECTED),
            verified_vnd=_sum(case((recognized, _I.c.verified_benefit_vnd))),
        ),
        part(
            _I.c.status.in_(WAITING),
            pending=func.count(),
            overdue=_count(_I.c.waiting_since < overdue_before),
        ),
    ).subquery()
    return select(parts.c.unit_id, *(_sum(parts.c[name]) for name in _NUMBERS)).group_by(
        parts.c.unit_id
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _sum(case((condition, 1), else_=0))


def _sum(value: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(func.sum(value), 0)


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
    """The three recognized initiatives of the period with the highest verified benefit.

    The best ids come from an index first, so that only three rows are read in full.
    """
    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    order = (_I.c.verified_benefit_vnd.desc(), _I.c.id)
    best = (
        select(_I.c.id)
        .where(
            _I.c.decided_at >= start,
            _I.c.decided_at < end,
            _I.c.status.in_(RECOGNIZED),
            _I.c.verified_benefit_vnd.is_not(None),
            _I.c.unit_id.in_(subtree),
        )
        .order_by(*order)
        .limit(TOP_INITIATIVES)
    )
    query = (
        select(_I.c.id, _I.c.title, _I.c.verified_benefit_vnd, _I.c.confidential)
        .where(_I.c.id.in_(best.scalar_subquery()))
        .order_by(*order)
    )
    return [
        TopInitiative(int(i), title, int(vnd), bool(secret))
        for i, title, vnd, secret in session.execute(query).all()
    ]


def _daily(
    session: Session, scope: Unit, start: datetime, end: datetime, zone: tzinfo
) -> list[tuple[date, int]]:
    """Count the period's submissions per local day (every day, zeros included).

    The database counts them per day, given the instants each local day starts at.
    """
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if len(days) <= 1:
        day_of: ColumnElement[int] = literal(0, Integer)
    else:
        starts = [local_midnight(day, zone) for day in days[1:]]
        day_of = case(
            *((_I.c.submitted_at < at, n) for n, at in enumerate(starts)), else_=len(starts)
        )
    subtree = select(_U.c.id).where(_U.c.path.startswith(scope.path))
    submitted = (
        select(day_of.label("day"))
        .where(_I.c.unit_id.in_(subtree), _I.c.submitted_at >= start, _I.c.submitted_at < end)
        .subquery()
    )
    query = select(submitted.c.day, func.count()).group_by(submitted.c.day)
    per_day = {int(n): int(count) for n, count in session.execute(query).all()}
    return [(day, per_day.get(n, 0)) for n, day in enumerate(days)]
