"""Queries on the unit tree and invite codes."""

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import InviteCode, Unit


def unit_by_id(*, session: Session, unit_id: int) -> Unit | None:
    """Return the unit with this id."""
    return session.get(Unit, unit_id)


def units_named(*, session: Session, name: str) -> Sequence[Unit]:
    """Return every unit with exactly this name."""
    return session.exec(select(Unit).where(Unit.name == name)).all()


def children_of(*, session: Session, unit_id: int) -> Sequence[Unit]:
    """Return the units directly below a unit, by name."""
    query = select(Unit).where(col(Unit.parent_id) == unit_id).order_by(col(Unit.name))
    return session.exec(query).all()


def all_units(*, session: Session) -> Sequence[Unit]:
    """Return every unit in tree order."""
    return session.exec(select(Unit).order_by(col(Unit.path))).all()


def invite_by_code(*, session: Session, code: str) -> InviteCode | None:
    """Return the invite code row with this code."""
    return session.exec(select(InviteCode).where(InviteCode.code == code)).first()


def active_invites(*, session: Session, unit_id: int) -> Sequence[InviteCode]:
    """Return the unit's invite codes that were not revoked, newest first."""
    query = (
        select(InviteCode)
        .where(InviteCode.unit_id == unit_id, col(InviteCode.revoked_at).is_(None))
        .order_by(col(InviteCode.id).desc())
    )
    return session.exec(query).all()


def newest_invite_codes(*, session: Session) -> dict[int, str]:
    """Return each unit's newest invite code that was not revoked, by unit id, in one query."""
    newest = (
        select(func.max(InviteCode.id))
        .where(col(InviteCode.revoked_at).is_(None))
        .group_by(col(InviteCode.unit_id))
    )
    query = select(InviteCode.unit_id, InviteCode.code).where(col(InviteCode.id).in_(newest))
    return {unit_id: code for unit_id, code in session.exec(query).all()}


def child_named(*, session: Session, name: str, parent_id: int | None) -> Unit | None:
    """The unit called `name` directly under `parent_id` (a root where that is None)."""
    query = select(Unit).where(col(Unit.name) == name, col(Unit.parent_id) == parent_id)
    return session.exec(query).first()


def units_by_ids(*, session: Session, unit_ids: Sequence[int]) -> Sequence[Unit]:
    """Return the units with these ids, in one query."""
    if not unit_ids:
        return []
    return session.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()
