"""Queries on campaigns: which are open where, and what counts toward them."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from core.status import Status
from storage.models import Campaign, Initiative, Unit

RECOGNIZED = (Status.APPROVED, Status.RECOMMENDED)
COUNTED = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.CHANGES_REQUESTED, *RECOGNIZED)
# A row of sums: initiatives counted, recognized, estimated VND, verified VND.
Sums = tuple[int, int, int, int]


def every(*, session: Session) -> Sequence[Campaign]:
    """Return every campaign (there are tens, not thousands), oldest first."""
    return session.exec(select(Campaign).order_by(col(Campaign.id))).all()


def newest_under(*, session: Session, paths: Sequence[str], limit: int) -> list[Campaign]:
    """Return the newest campaigns over units under any of the unit `paths`."""
    if not paths:
        return []
    query = (
        select(Campaign)
        .join(Unit, col(Unit.id) == Campaign.unit_id)
        .where(or_(*(col(Unit.path).startswith(path) for path in paths)))
        .order_by(col(Campaign.starts_at).desc(), col(Campaign.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def open_over(*, session: Session, unit_ids: Iterable[int], at: datetime) -> list[Campaign]:
    """Return the open campaigns over any of `unit_ids` whose period holds `at`."""
    query = (
        select(Campaign)
        .where(
            col(Campaign.unit_id).in_(list(unit_ids)),
            col(Campaign.closed_at).is_(None),
            col(Campaign.starts_at) <= at,
            col(Campaign.ends_at) > at,
        )
        .order_by(col(Campaign.ends_at), col(Campaign.id))
    )
    return list(session.exec(query).all())


def _sums() -> tuple[ColumnElement[int], ...]:
    """The columns of a row of `Sums` over the initiatives of a grouped query."""
    recognized = func.sum(case((col(Initiative.status).in_(RECOGNIZED), 1), else_=0))
    return (
        func.count(),
        recognized,
        func.coalesce(func.sum(Initiative.estimated_benefit_vnd), 0),
        func.coalesce(func.sum(Initiative.verified_benefit_vnd), 0),
    )


def sums_by_campaign(*, session: Session, campaign_ids: Sequence[int]) -> dict[int, Sums]:
    """Sum what counts toward each campaign, by campaign id (absent: nothing), in one query."""
    if not campaign_ids:
        return {}
    query = (
        sa_select(col(Initiative.campaign_id), *_sums())
        .where(col(Initiative.campaign_id).in_(campaign_ids), col(Initiative.status).in_(COUNTED))
        .group_by(col(Initiative.campaign_id))
    )
    return {int(i): _ints(numbers) for i, *numbers in session.execute(query).all()}


def sums_by_unit_path(*, session: Session, campaign_id: int) -> dict[str, Sums]:
    """Sum what counts toward a campaign by the path of each initiative's unit."""
    query = (
        sa_select(col(Unit.path), *_sums())
        .join(Unit, col(Unit.id) == Initiative.unit_id)
        .where(col(Initiative.campaign_id) == campaign_id, col(Initiative.status).in_(COUNTED))
        .group_by(Unit.path)
    )
    return {str(path): _ints(numbers) for path, *numbers in session.execute(query).all()}


def _ints(numbers: Sequence[Any]) -> Sums:
    counted, recognized, estimated, verified = (int(n or 0) for n in numbers)
    return counted, recognized, estimated, verified
