"""Joining with a personal code from an imported member list."""

from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from services import roles, units
from storage import roster as store
from storage.models import Member, RosterEntry
from storage.units import unit_by_id


def entry_for_code(*, session: Session, code: str) -> RosterEntry | None:
    """Return the imported person whose personal code this is, if it is one."""
    return store.entry_by_code(session=session, code=units.normalize_code(code))


def claim(*, session: Session, entry_id: int, member: Member, now: datetime) -> None:
    """Make the member the person of the entry, with the entry's roles over its unit.

    Refuse when someone else claimed the code first: it is personal.
    """
    if not store.claim_entry(session=session, entry_id=entry_id, member_id=member.id or 0):
        raise Refused("onboarding.personal_code_used")
    entry = session.get(RosterEntry, entry_id)
    unit = unit_by_id(session=session, unit_id=entry.unit_id) if entry else None
    if entry is None or unit is None:
        return
    for role in entry.roles.split(","):
        roles.grant(session=session, member=member, unit=unit, role=role, now=now)
