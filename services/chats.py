"""What a messenger says about chats themselves: a person blocked or unblocked the bot, the
bot was removed from or added to a group, a group moved to a new chat id.

The messenger says it, not a person, so nothing here needs a role: each change touches
only the chat the event came from. Logs name no person and no chat.
"""

import logging
from datetime import datetime

from sqlmodel import Session

from storage import conversations, groups, members, outbox

logger = logging.getLogger(__name__)


def blocked(*, session: Session, channel: str, user_id: str, now: datetime) -> None:
    """Mark the person unreachable: notices and announcements skip them from now on."""
    if members.set_unreachable(session=session, channel=channel, user_id=user_id, since=now):
        logger.info("a member blocked the bot on %s", channel)


def unblocked(*, session: Session, channel: str, user_id: str) -> None:
    """Make the person reachable again."""
    if members.set_unreachable(session=session, channel=channel, user_id=user_id, since=None):
        logger.info("a member unblocked the bot on %s", channel)


def removed(*, session: Session, channel: str, chat_id: str, now: datetime) -> None:
    """Mark a linked group as without the bot: digests and announcements skip it."""
    if groups.set_removed(session=session, channel=channel, chat_id=chat_id, since=now):
        logger.info("the bot was removed from a linked group on %s", channel)


def added(*, session: Session, channel: str, chat_id: str) -> None:
    """Post to a linked group again: the bot is back in it."""
    if groups.set_removed(session=session, channel=channel, chat_id=chat_id, since=None):
        logger.info("the bot was added back to a linked group on %s", channel)


def moved(*, session: Session, channel: str, old: str, new: str) -> None:
    """Follow a group to its new chat id: its link, its queued messages, its states.

    The messenger may tell it twice (Telegram: in the old chat and in the new one); the
    second time finds nothing left to move.
    """
    linked = groups.move(session=session, channel=channel, old=old, new=new)
    queued = outbox.move_chat(session=session, channel=channel, old=old, new=new)
    states = conversations.move_chat(session=session, channel=channel, old=old, new=new)
    if linked or queued or states:
        logger.info(
            "a group moved to a new chat id on %s: link %s, %s queued messages, %s states",
            channel,
            "moved" if linked else "none",
            queued,
            states,
        )
