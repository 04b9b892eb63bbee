"""The unit tree: adding units, invite codes and finding a unit by reference."""

import secrets
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from core.typed import number_in
from storage import units as store
from storage.models import InviteCode, Unit

# The kinds of unit; the highest level each one's council may award is in
# services.levels.CEILINGS.
KINDS = (
    "confederation",
    "federation",
    "sector_union",
    "zone_union",
    "management_board",
    "cluster",
    "enterprise",
    "workshop",
    "team",
)
# No 0/O/1/I/L: codes are read off posters and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_code() -> str:
    """Return a fresh unguessable invite code (about 59 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """Return an invite code as stored, whatever case or spacing it was typed in."""
    return "".join(code.split()).upper()


def add_unit(
    *, session: Session, name: str, kind: str, parent: Unit | None, now: datetime
) -> Unit:
    """Create a unit under `parent` and give it a first invite code."""
    name = " ".join(name.split())
    if not name:
        raise Refused("cli.unit_name_empty")
    if kind not in KINDS:
        raise Refused("cli.unit_kind_unknown", kind=kind, kinds=", ".join(KINDS))
    unit = Unit(name=name, kind=kind, parent_id=parent.id if parent else None, created_at=now)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    issue_invite(session=session, unit=unit, now=now)
    return unit


def issue_invite(
    *, session: Session, unit: Unit, now: datetime, code: str | None = None
) -> InviteCode:
    """Create a new invite code for a unit (a given one, or a random one)."""
    code = normalize_code(code) if code else new_code()
    if store.invite_by_code(session=session, code=code):
        raise Refused("cli.invite_code_taken", code=code)
    invite = InviteCode(code=code, unit_id=unit.id or 0, created_at=now)
    session.add(invite)
    session.flush()
    return invite


def current_invite(*, session: Session, unit: Unit, now: datetime) -> InviteCode:
    """Return the unit's newest active invite code, creating one if none is active."""
    active = store.active_invites(session=session, unit_id=unit.id or 0)
    return active[0] if active else issue_invite(session=session, unit=unit, now=now)


def revoke_invites(*, session: Session, unit: Unit, now: datetime) -> int:
    """Revoke every active invite code of a unit and return how many were revoked."""
    active = store.active_invites(session=session, unit_id=unit.id or 0)
    for invite in active:
        invite.revoked_at = now
        session.add(invite)
    return len(active)


def find_unit(*, session: Session, ref: str) -> Unit:
    """Return the unit an operator means: an id, or an unambiguous exact name."""
    ref = ref.strip()
    if (number := number_in(ref)) is not None:
        unit = store.unit_by_id(session=session, unit_id=number)
        if unit:
            return unit
    matches = store.units_named(session=session, name=" ".join(ref.split()))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Refused("cli.unit_ambiguous", ref=ref, ids=", ".join(str(u.id) for u in matches))
    raise Refused("cli.unit_unknown", ref=ref)


def unit_for_code(*, session: Session, code: str) -> Unit:
    """Return the unit an invite code joins, refusing unknown and revoked codes."""
    invite = store.invite_by_code(session=session, code=normalize_code(code))
    if invite is None:
        raise Refused("onboarding.code_unknown")
    if invite.revoked_at is not None:
        raise Refused("onboarding.code_revoked")
    unit = store.unit_by_id(session=session, unit_id=invite.unit_id)
    if unit is None:
        raise Refused("onboarding.code_unknown")
    return unit


def path_ids(unit: Unit) -> list[int]:
    """Return the ids from the root down to the unit itself (its `path`, parsed)."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]
