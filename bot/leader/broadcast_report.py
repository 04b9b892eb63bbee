"""The organizer's live view of a broadcast: one message, edited every few seconds, and
a final report when nothing is left to send."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from core.messages import Reply
from services import broadcasts
from storage import broadcasts as store
from storage import db
from storage.db import transaction
from storage.models import Broadcast
from views.broadcast import final_reply, progress_reply

logger = logging.getLogger(__name__)
EVERY_SECONDS = 5.0


class Post(Protocol):
    """A channel's `post_status`: send or edit a status message; its id, None if it failed."""

    def __call__(
        self,
        chat_id: str,
        reply: Reply,
        language: str,
        message_id: str | None,
        *,
        final: bool = False,
        done: float = 0.0,
    ) -> Awaitable[str | None]: ...


class Reporter:
    """Post and edit each running broadcast's progress in its organizer's chat."""

    def __init__(
        self,
        *,
        engine: Engine,
        posters: Mapping[str, Post],
        clock: Callable[[], datetime],
        every: float = EVERY_SECONDS,
    ) -> None:
        self.engine = engine
        self.posters = posters
        self.clock = clock
        self.every = every

    async def run(self) -> None:
        """Report until cancelled."""
        while True:
            try:
                await self.once()
            except Exception:  # the database or the messenger is away: next round
                logger.exception("reporting broadcast progress failed")
            await asyncio.sleep(self.every)

    async def once(self) -> None:
        """Post or edit the progress of every broadcast not finally reported."""
        for broadcast, reply, final, done in await db.run(self.engine, self._read):
            post = self.posters.get(broadcast.report_channel)
            if post is None:  # a channel without live messages: the history shows it
                await db.run(self.engine, self._save, broadcast.id or 0, None, final)
                continue
            chat, language = broadcast.report_chat_id, broadcast.report_language
            message_id = await post(
                chat, reply, language, broadcast.report_message_id, final=final, done=done
            )
            if final:
                # The progress message shows the report now; a copy goes through the
                # outbox, queued as the report is marked done, so that a crash here
                # neither repeats it nor loses it.
                await db.run(self.engine, self._finish, broadcast, reply, message_id)
            elif message_id is not None:
                await db.run(self.engine, self._save, broadcast.id or 0, message_id, final)

    def _read(self) -> list[tuple[Broadcast, Reply, bool, float]]:
        now = self.clock()
        found = []
        with transaction(self.engine) as session:
            listed = store.to_report(session=session)
            tallies = store.tallies(session=session, broadcast_ids=[b.id or 0 for b in listed])
            for broadcast in listed:
                tally = tallies[broadcast.id or 0]
                final = broadcasts.finish(
                    session=session, broadcast=broadcast, tally=tally, now=now
                )
                reply = (
                    final_reply(broadcast, tally)
                    if final
                    else progress_reply(broadcast, tally, now)
                )
                done = 1 - tally["queued"] / tally.total if tally.total else 1.0
                found.append((broadcast, reply, final, done))
        return found

    def _finish(self, broadcast: Broadcast, reply: Reply, message_id: str | None) -> None:
        with transaction(self.engine) as session:
            broadcasts.report_final(
                session=session,
                broadcast=broadcast,
                reply=reply,
                message_id=message_id,
                now=self.clock(),
            )

    def _save(self, broadcast_id: int, message_id: str | None, final: bool) -> None:
        with transaction(self.engine) as session:
            store.set_reported(
                session=session, broadcast_id=broadcast_id, message_id=message_id, final=final
            )
