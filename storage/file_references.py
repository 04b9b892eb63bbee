"""Which kept files the database still refers to, and removing those it no longer does.

A kept file (see `storage.files`) is named by its key in an attachment of the channel
`kept`, and may be named in JSON: a queued outbox message, a broadcast still sending,
and a conversation state (a wizard's data, such as the photo of an announcement being
written, and the replies kept until they are sent). Anything there that has the shape
of a key counts, whatever channel the JSON says it is of.
"""

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from core.messages import KEPT
from storage.broadcasts import SCHEDULED, SENDING
from storage.db import after_commit, reading
from storage.files import KEY, FileStore, keys_in
from storage.models import Attachment, Broadcast, ConversationState, OutboxMessage
from storage.outbox import QUEUED

logger = logging.getLogger(__name__)


def referenced_keys(*, session: Session) -> set[str]:
    """Return the keys of every kept file the database refers to.

    The reads go in the order a reference moves (a wizard's state becomes a broadcast,
    a broadcast's messages name it), so that a reference moving while they run is
    read where it was or where it went, at the latest.
    """
    found: set[str] = set()
    states = select(col(ConversationState.data), col(ConversationState.replies))
    for data, replies in session.execute(states):
        found |= keys_in(data) | keys_in(replies)
    broadcasts = select(col(Broadcast.contents)).where(
        col(Broadcast.status).in_((SCHEDULED, SENDING))
    )
    for (contents,) in session.execute(broadcasts):
        found |= keys_in(contents)
    messages = select(col(OutboxMessage.content)).where(
        col(OutboxMessage.status) == QUEUED,
        col(OutboxMessage.broadcast_id).is_(None),  # theirs is the broadcast's, read above
    )
    for (content,) in session.execute(messages):
        found |= keys_in(content)
    attached = select(col(Attachment.file_ref)).where(col(Attachment.channel) == KEPT).distinct()
    found |= {ref for ref in session.execute(attached).scalars() if KEY.fullmatch(ref)}
    return found


def forget_when_committed(*, session: Session, files: FileStore, keys: Iterable[str]) -> None:
    """Once the session's transaction commits, remove those of these kept files that the
    database then no longer refers to; a file that cannot be removed is left to the sweep."""
    wanted = {key for key in keys if KEY.fullmatch(key)}
    if not wanted:
        return
    bind = session.get_bind()
    engine = bind.engine

    def remove() -> None:
        with reading(engine) as reader:
            still = referenced_keys(session=reader)
        for key in sorted(wanted - still):
            try:
                files.remove(key)
            except OSError as error:
                logger.warning("could not remove kept file %s: %s", key, error.strerror)

    after_commit(session, remove)
