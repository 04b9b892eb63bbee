"""Group chats linked to a unit: only a unit's admin may link one."""

import logging
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from services import roles, units
from storage import members as member_store
from storage.models import GroupChat, Member, Unit
from storage.units import unit_by_id

logger = logging.getLogger(__name__)


def link(
    *, session: Session, member: Member, channel: str, chat_id: str, unit_ref: str, now: datetime
) -> Unit:
    """Link a group chat to a unit the member administers (re-linking moves it)."""
    unit = _target(session=session, member=member, unit_ref=unit_ref)
    if not roles.holds(session=session, member=member, role="admin", unit=unit):
        logger.warning("refused linkgroup by member %s for unit %s", member.id, unit.id)
        raise Refused("group.not_admin")
    group = session.get(GroupChat, (channel, chat_id)) or GroupChat(
        channel=channel, chat_id=chat_id, unit_id=unit.id or 0, linked_at=now
    )
    group.unit_id, group.linked_by, group.linked_at = unit.id or 0, member.id, now
    session.add(group)
    session.flush()
    return unit


def _target(*, session: Session, member: Member, unit_ref: str) -> Unit:
    if unit_ref:
        return units.find_unit(session=session, ref=unit_ref)
    scopes = [
        role.unit_id
        for role in member_store.roles_of(session=session, member_id=member.id or 0)
        if role.role == "admin"
    ]
    if len(scopes) > 1:
        raise Refused("group.which_unit", ids=", ".join(str(s) for s in scopes))
    unit = unit_by_id(session=session, unit_id=scopes[0]) if scopes else None
    if unit is None:
        logger.warning("refused linkgroup by member %s without admin role", member.id)
        raise Refused("group.not_admin")
    return unit
