"""Queries of leader digests: a subtree's numbers, campaigns, best initiatives, days.

A province holds millions of initiatives, so every number comes from a grouped query
read from an index (see migration 0008), never from loading initiatives. A subtree is
the units whose `path` starts with its root's.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from storage.models import Campaign, Initiative, Unit, table

NUMBERS = ("new", "approved", "rejected", "pending", "overdue", "estimated_vnd", "verified_vnd")
_I, _U, _C = table(Initiative), table(Unit), table(Campaign)

TopRow = tuple[int, str | None, int, bool, str]  # id, title, verified VND, confidential, unit


def _subtree(path: str | BindParameter[str]) -> Select[Any]:
    return select(_U.c.id).where(_U.c.path.startswith(path))


def counts_statement(
    *, recognized: Sequence[str], rejected: str, waiting: Sequence[str]
) -> Select[Any]:
    """Build the one grouped query: a subtree's `NUMBERS` per unit, for the parameters
    `path`, `start`, `end` and `overdue_before` (built once per set of statuses: building
    it costs more than running it on a small subtree).

    An initiative counts for being submitted in the period, decided in it, or waiting
    for a decision. Each of the three is a grouped part of its own, read from its own
    index (unit, then the time or status, then the values counted), and the parts are
    added up per unit; one pass filtered by the three conditions at once reads the table.
    """
    return _counts_statement(tuple(recognized), rejected, tuple(waiting))


@cache
def _counts_statement(
    recognized: tuple[str, ...], rejected: str, waiting: tuple[str, ...]
) -> Select[Any]:
    is_recognized = _I.c.status.in_(recognized)
    start: BindParameter[datetime] = bindparam("start")
    end: BindParameter[datetime] = bindparam("end")

    def part(where: ColumnElement[bool], **numbers: ColumnElement[Any]) -> Select[Any]:
        columns = (numbers.get(name, literal(0, BigInteger)).label(name) for name in NUMBERS)
        return (
            select(_I.c.unit_id, *columns)
            .where(_I.c.unit_id.in_(_subtree(bindparam("path"))), where)
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
            approved=_count(is_recognized),
            rejected=_count(_I.c.status == rejected),
            verified_vnd=_sum(case((is_recognized, _I.c.verified_benefit_vnd))),
        ),
        part(
            _I.c.status.in_(waiting),
            pending=func.count(),
            overdue=_count(_I.c.waiting_since < bindparam("overdue_before")),
        ),
    ).subquery()
    return select(parts.c.unit_id, *(_sum(parts.c[name]) for name in NUMBERS)).group_by(
        parts.c.unit_id
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _sum(case((condition, 1), else_=0))


def _sum(value: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(func.sum(value), 0)


def counts_per_unit(
    *,
    session: Session,
    statement: Select[Any],
    path: str,
    start: datetime,
    end: datetime,
    overdue_before: datetime,
) -> list[tuple[int, list[int]]]:
    """Run a `counts_statement`: each unit's id and its numbers, in `NUMBERS` order."""
    params = {"path": path, "start": start, "end": end, "overdue_before": overdue_before}
    return [
        (int(unit_id), [int(n) for n in numbers])
        for unit_id, *numbers in session.execute(statement, params).all()
    ]


def units_under(*, session: Session, path: str) -> list[Unit]:
    """Return the units of the subtree at `path`, its root included."""
    return list(session.execute(select(Unit).where(_U.c.path.startswith(path))).scalars())


def running_campaigns(
    *, session: Session, path: str, above: Sequence[int], now: datetime
) -> list[Campaign]:
    """Return the campaigns running now over a unit in `above` or inside the subtree."""
    query = (
        select(Campaign)
        .where(
            or_(_C.c.unit_id.in_(above), _C.c.unit_id.in_(_subtree(path))),
            _C.c.closed_at.is_(None),
            _C.c.starts_at <= now,
            _C.c.ends_at > now,
        )
        .order_by(_C.c.ends_at, _C.c.id)
    )
    return list(session.execute(query).scalars().all())


def best_decided(
    *,
    session: Session,
    path: str,
    start: datetime,
    end: datetime,
    statuses: Sequence[str],
    limit: int,
) -> list[TopRow]:
    """Return the initiatives decided in [start, end) into `statuses` with the highest
    verified benefit.

    The best ids come from an index first, so that only `limit` rows are read in full.
    """
    order = (_I.c.verified_benefit_vnd.desc(), _I.c.id)
    best = (
        select(_I.c.id)
        .where(
            _I.c.decided_at >= start,
            _I.c.decided_at < end,
            _I.c.status.in_(statuses),
            _I.c.verified_benefit_vnd.is_not(None),
            _I.c.unit_id.in_(_subtree(path)),
        )
        .order_by(*order)
        .limit(limit)
    )
    query = (
        select(_I.c.id, _I.c.title, _I.c.verified_benefit_vnd, _I.c.confidential, _U.c.name)
        .join(_U, _U.c.id == _I.c.unit_id)
        .where(_I.c.id.in_(best.scalar_subquery()))
        .order_by(*order)
    )
    return [
        (int(i), title, int(vnd), bool(secret), str(unit))
        for i, title, vnd, secret, unit in session.execute(query)
    ]


def submissions_per_day(
    *, session: Session, path: str, start: datetime, end: datetime, day_starts: Sequence[datetime]
) -> dict[int, int]:
    """Count the subtree's submissions in [start, end) per day: the day's number (0 up to
    `len(day_starts)`) to its count, where `day_starts` are when the second day on begin.

    The database sorts them into days with a CASE on those instants.
    """
    day_of: ColumnElement[int] = (
        case(
            *((_I.c.submitted_at < at, n) for n, at in enumerate(day_starts)),
            else_=len(day_starts),
        )
        if day_starts
        else literal(0, Integer)
    )
    submitted = (
        select(day_of.label("day"))
        .where(
            _I.c.unit_id.in_(_subtree(path)), _I.c.submitted_at >= start, _I.c.submitted_at < end
        )
        .subquery()
    )
    query = select(submitted.c.day, func.count()).group_by(submitted.c.day)
    return {int(n): int(count) for n, count in session.execute(query).all()}
