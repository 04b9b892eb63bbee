"""The messages waiting in the outbox, as the outbox sender sends them: with the
documents that are made as they are sent (`views.later`)."""

from sqlmodel import col, select

from bot.app import Core
from core.codec import reply_from_json
from core.messages import Reply
from storage.db import reading
from storage.models import OutboxMessage
from views import later


def queued(core: Core, *, chat_id: str | None = None) -> list[tuple[OutboxMessage, Reply]]:
    """Each queued message (of one chat, if given) with its reply, documents made."""
    with reading(core.engine) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        found = []
        for row in session.exec(query).all():
            content = later.made(
                session=session,
                catalogs=core.catalogs,
                settings=core.settings,
                content=row.content,
                language=row.language,
            )
            found.append((row, reply_from_json(content)))
        return found
