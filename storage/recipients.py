"""Who a message to many reaches: members of a subtree, and its linked group chats.

Both are SELECTs for an outbox INSERT ... SELECT or a count, never a list in memory: a
province has hundreds of thousands of members.
"""

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlmodel import Session

from storage.models import ChannelIdentity, GroupChat, Member, Role, Unit, table

_M, _U, _I = table(Member), table(Unit), table(ChannelIdentity)
_G, _R = table(GroupChat), table(Role)

# Each member's identity a message goes to: as `members.PREFERENCE` orders them.
_RANKED = (
    select(
        _I.c.id,
        func.row_number()
        .over(
            partition_by=_I.c.member_id,
            order_by=(_I.c.last_used_at.is_(None), _I.c.last_used_at.desc(), _I.c.id),
        )
        .label("rank"),
    )
    .where(_I.c.unreachable_at.is_(None))
    .subquery()
)
_PREFERRED = select(_RANKED.c.id).where(_RANKED.c.rank == 1).correlate(None)


def members(
    *, path: str, role: str | None = None, language: str | None = None, kind: str | None = None
) -> Select[Any]:
    """Select (channel, chat_id, member_id, language) of each member of the subtree at `path`, on
    the messenger they used last among those that reach them (not one they blocked the bot
    on), narrowed to those holding `role`, speaking `language`, in units of `kind`."""
    conditions: list[ColumnElement[bool]] = [_U.c.path.startswith(path), _I.c.id.in_(_PREFERRED)]
    if language:
        conditions.append(_M.c.language == language)
    if kind:
        conditions.append(_U.c.kind == kind)
    if role:
        conditions.append(exists().where(and_(_R.c.member_id == _M.c.id, _R.c.role == role)))
    return (
        select(_I.c.channel, _I.c.chat_id, _M.c.id.label("member_id"), _M.c.language)
        .select_from(_I.join(_M, _M.c.id == _I.c.member_id).join(_U, _U.c.id == _M.c.unit_id))
        .where(*conditions)
    )


def groups(*, path: str, kind: str | None = None) -> Select[Any]:
    """Select (channel, chat_id) of the group chats linked to units of the subtree at
    `path` (of `kind`), except those that removed the bot."""
    conditions: list[ColumnElement[bool]] = [
        _U.c.path.startswith(path),
        _G.c.removed_at.is_(None),
    ]
    if kind:
        conditions.append(_U.c.kind == kind)
    return (
        select(_G.c.channel, _G.c.chat_id)
        .select_from(_G.join(_U, _U.c.id == _G.c.unit_id))
        .where(*conditions)
    )


def count(*, session: Session, rows: Select[Any]) -> int:
    """Return how many rows a recipients' SELECT finds."""
    query = select(func.count()).select_from(rows.subquery())
    return int(session.execute(query).scalar_one())
