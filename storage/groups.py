"""Queries on linked group chats: the bot removed and added back, a group's new chat id."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from storage.models import GroupChat, table

_GROUPS = table(GroupChat)


def set_removed(*, session: Session, channel: str, chat_id: str, since: datetime | None) -> bool:
    """Mark a linked group as having removed the bot since `since`, or back (None).

    Return whether anything changed: a group that is not linked has nothing to mark.
    """
    removed = _GROUPS.c.removed_at
    result = session.connection().execute(
        update(_GROUPS)
        .where(
            _GROUPS.c.channel == channel,
            _GROUPS.c.chat_id == chat_id,
            removed.is_(None) if since is not None else removed.is_not(None),
        )
        .values(removed_at=since)
    )
    return bool(result.rowcount)


def move(*, session: Session, channel: str, old: str, new: str) -> bool:
    """Move a group's link from its old chat id to its new one; False if there was none.

    When the new chat was linked already (someone ran /linkgroup there first), that link
    stays and the old one goes.
    """
    linked_anew = session.execute(
        select(_GROUPS.c.chat_id).where(_GROUPS.c.channel == channel, _GROUPS.c.chat_id == new)
    ).first()
    old_key = (_GROUPS.c.channel == channel, _GROUPS.c.chat_id == old)
    if linked_anew is not None:
        result = session.connection().execute(delete(_GROUPS).where(*old_key))
    else:
        result = session.connection().execute(update(_GROUPS).where(*old_key).values(chat_id=new))
    return bool(result.rowcount)
