"""Queries on conversation state and processed update ids."""

from sqlalchemy import bindparam
from sqlmodel import Session, select

from storage.models import ConversationState

# Built once: this runs for every update, and building a statement costs more than
# SQLite takes to run it.
_STATE = (
    select(ConversationState)
    .where(
        ConversationState.channel == bindparam("channel"),
        ConversationState.chat_id == bindparam("chat_id"),
        ConversationState.user_id == bindparam("user_id"),
    )
    .with_for_update()
)


def state_for(
    *, session: Session, channel: str, chat_id: str, user_id: str
) -> ConversationState | None:
    """Return a person's conversation state in a chat, locked for this transaction."""
    params = {"channel": channel, "chat_id": chat_id, "user_id": user_id}
    return session.exec(_STATE, params=params).first()


def states_of_user(*, session: Session, channel: str, user_id: str) -> list[ConversationState]:
    """Return a messenger user's states in every chat."""
    query = select(ConversationState).where(
        ConversationState.channel == channel, ConversationState.user_id == user_id
    )
    return list(session.exec(query).all())
