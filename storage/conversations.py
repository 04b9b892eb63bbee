"""Queries on conversation state and processed update ids."""

from sqlmodel import Session, select

from storage.models import ConversationState


def state_for(
    *, session: Session, channel: str, chat_id: str, user_id: str
) -> ConversationState | None:
    """Return a person's conversation state in a chat, locked for this transaction."""
    query = (
        select(ConversationState)
        .where(
            ConversationState.channel == channel,
            ConversationState.chat_id == chat_id,
            ConversationState.user_id == user_id,
        )
        .with_for_update()
    )
    return session.exec(query).first()


def states_of_user(*, session: Session, channel: str, user_id: str) -> list[ConversationState]:
    """Return a messenger user's states in every chat."""
    query = select(ConversationState).where(
        ConversationState.channel == channel, ConversationState.user_id == user_id
    )
    return list(session.exec(query).all())
