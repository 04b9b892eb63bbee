"""Roles per unit subtree, and the question every action asks: may this member do it?"""

from datetime import datetime

from sqlmodel import Session

from services.errors import Refused
from storage import members as store
from storage.models import Member, Role, Unit
from storage.units import unit_by_id

ROLES = ("worker", "reviewer", "leader", "organizer", "admin")


def grant(*, session: Session, member: Member, unit: Unit, role: str, now: datetime) -> Role:
    """Give a member a role over a unit's subtree (granting twice changes nothing)."""
    if role not in ROLES:
        raise Refused("cli.role_unknown", role=role, roles=", ".join(ROLES))
    existing = store.role_of(
        session=session, member_id=member.id or 0, unit_id=unit.id or 0, role=role
    )
    if existing:
        return existing
    granted = Role(member_id=member.id or 0, unit_id=unit.id or 0, role=role, granted_at=now)
    session.add(granted)
    session.flush()
    return granted


def holds(*, session: Session, member: Member, role: str, unit: Unit) -> bool:
    """Tell whether the member holds `role` over `unit`, through the unit or an ancestor."""
    for held in store.roles_of(session=session, member_id=member.id or 0):
        if held.role != role:
            continue
        scope = unit_by_id(session=session, unit_id=held.unit_id)
        if scope is not None and unit.path.startswith(scope.path):
            return True
    return False
