"""Roles per unit subtree, and the question every action asks: may this member do it?"""

from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from services.units import path_ids
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


def revoke(*, session: Session, member: Member, unit: Unit, role: str) -> None:
    """Take a role away; refuse when the member does not hold exactly that grant."""
    existing = store.role_of(
        session=session, member_id=member.id or 0, unit_id=unit.id or 0, role=role
    )
    if existing is None:
        raise Refused("cli.role_not_held", role=role, unit=unit.name)
    session.delete(existing)
    session.flush()


def scopes(*, session: Session, member: Member, role: str) -> list[Unit]:
    """Return the units whose subtrees the member holds `role` over."""
    roles = store.roles_of(session=session, member_id=member.id or 0)
    units = (unit_by_id(session=session, unit_id=r.unit_id) for r in roles if r.role == role)
    return [unit for unit in units if unit is not None]


def holds(*, session: Session, member: Member, role: str, unit: Unit) -> bool:
    """Tell whether the member holds `role` over `unit`, through the unit or an ancestor."""
    held = scopes(session=session, member=member, role=role)
    return any(unit.path.startswith(scope.path) for scope in held)


def nearest_with(*, session: Session, unit: Unit, role: str, above: bool = False) -> Unit | None:
    """Return the deepest unit on the path up from `unit` where someone holds `role`.

    With `above`, the unit itself does not count. This is where a council sits: the
    first to decide on an initiative, or the next one up when it is recommended.
    """
    path = path_ids(unit)
    if above:
        path = path[:-1]
    held = set(store.units_where_held(session=session, role=role, unit_ids=path))
    for unit_id in reversed(path):
        if unit_id in held:
            return unit_by_id(session=session, unit_id=unit_id)
    return None
