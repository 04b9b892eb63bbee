"""Joining with a personal code from an imported member list."""

import secrets
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from services import roles, units
from storage import roster as store
from storage.digests import units_under
from storage.models import Member, RosterEntry, Unit
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


def cards(
    *, session: Session, unit: Unit, joined_too: bool = False
) -> list[tuple[Unit, list[RosterEntry]]]:
    """Return the imported people of a subtree to print cards for, unit by unit in tree
    order (those who joined already only with `joined_too`)."""
    subtree = sorted(units_under(session=session, path=unit.path), key=units.path_ids)
    found: dict[int, list[RosterEntry]] = {}
    for entry in store.entries_of_units(session=session, unit_ids=[u.id or 0 for u in subtree]):
        if joined_too or entry.member_id is None:
            found.setdefault(entry.unit_id, []).append(entry)
    return [(u, found[u.id or 0]) for u in subtree if found.get(u.id or 0)]


# Random bytes below this map evenly onto the alphabet (31 letters: 8 × 31 = 248).
_EVEN = 256 - 256 % len(units.CODE_ALPHABET)


def new_codes(count: int) -> list[str]:
    """Return `count` fresh personal codes, as unguessable as invite codes, at import speed
    (one read of random bytes for many codes instead of one call per letter)."""
    letters: list[str] = []
    wanted = count * units.CODE_LENGTH
    alphabet = units.CODE_ALPHABET
    while len(letters) < wanted:
        chunk = secrets.token_bytes(wanted - len(letters) + 64)
        letters += [alphabet[b % len(alphabet)] for b in chunk if b < _EVEN]
    length = units.CODE_LENGTH
    return ["".join(letters[i * length : (i + 1) * length]) for i in range(count)]


def opening(*, session: Session, entry: RosterEntry, member: Member | None, now: datetime) -> str:
    """Decide what opening a personal code does, refusing one someone else claimed.

    "welcome": it is the member's already, or the member is in its unit (claimed now);
    "move": a member of another unit, to be asked; "join": a new person, to be asked
    their language and consent.
    """
    if entry.member_id is not None and (member is None or member.id != entry.member_id):
        raise Refused("onboarding.personal_code_used")
    if member is not None and entry.member_id == member.id:
        return "welcome"
    if member is not None and member.unit_id == entry.unit_id:
        claim(session=session, entry_id=entry.id or 0, member=member, now=now)
        return "welcome"
    return "join" if member is None else "move"
