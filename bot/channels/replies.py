"""Replies kept until they went out: a channel confirms them, and sends the rest on start.

The dispatcher keeps a step's replies with the person's conversation state, in the
transaction that commits the step (`bot.dispatch.dispatcher.keep`). Once a channel has sent them
it confirms them here; confirmations are written in batches, one transaction every
`RECORD_EVERY` seconds. So a crash can repeat the replies that were in flight or sent in
the last batch, and never loses one: on start the channel sends whatever was kept and
never confirmed (`unsent`) before it processes anything else.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Engine

from storage import conversations, db
from storage.conversations import Key
from storage.db import reading, shared_transaction

logger = logging.getLogger(__name__)
RECORD_EVERY = 0.05  # seconds confirmations gather before they are written


@dataclass
class Progress:
    """How far the sending of one update's response got (a retry goes on from there)."""

    sent: int = 0  # parts that went out
    answered: bool = False  # the pressed button's spinner was stopped
    toasted: bool = False  # with a notice that stands for the replies


Unsent = tuple[Key, str, dict[str, Any]]  # whose, which update, the kept response


class Confirmations:
    """Write down, in batches, which kept replies went out."""

    def __init__(self, *, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel
        self.waiting: list[tuple[Key, str]] = []
        self.wakeup = asyncio.Event()

    def confirm(self, key: Key, update_id: str) -> None:
        """Note that the replies to `update_id` of the person `key` went out."""
        self.waiting.append((key, update_id))
        self.wakeup.set()

    def unsent(self) -> list[Unsent]:
        """Return the kept replies of this channel that were never confirmed."""
        with reading(self.engine) as session:
            return conversations.unsent(connection=session.connection(), channel=self.channel)

    async def resend(
        self, send: Callable[[Key, dict[str, Any], Progress], Awaitable[bool]], pause: float
    ) -> int:
        """Send the replies that were kept but never confirmed (a crash after the commit),
        and confirm them; return how many updates' replies were sent. Run before any
        update is processed, so each chat's replies keep their order.

        `send` makes the channel's own retries and says whether a response went; a
        response that did not is tried again in the next pass, `pause` later, from where
        it stopped (`Progress`). While nothing goes at all (the messenger is away) the
        passes go on; once a pass sends nothing while earlier ones did, what is left is
        refused by its chats and stays kept, marked owed: tried again at the next start,
        or sent first with the answer to the person's next message, whichever comes first.
        """
        unsent = await db.until_answers(
            partial(db.run, self.engine, self.unsent), "reading the kept replies"
        )
        if unsent:
            logger.info("sending the replies to %s updates that were not confirmed", len(unsent))
        progress = {update_id: Progress() for _, update_id, _ in unsent}
        sent = 0
        while unsent:
            left = []
            for key, update_id, kept in unsent:
                if await send(key, kept, progress[update_id]):
                    self.confirm(key, update_id)
                    sent += 1
                else:
                    left.append((key, update_id, kept))
            if sent and len(left) == len(unsent):
                for _, update_id, _ in left:
                    logger.error("the kept replies to update %s could not be sent", update_id)
                owed = [update_id for _, update_id, _ in left]
                await db.until_answers(
                    partial(db.run, self.engine, self._owe, owed), "marking replies owed"
                )
                break
            unsent = left
            if unsent:
                await asyncio.sleep(pause)
        if sent:
            # Written before any update is processed: one that found them unconfirmed
            # and owed would carry them again.
            try:
                await db.run(self.engine, self.flush)
            except Exception:  # they are written with the next batch: a repeat at worst
                logger.warning("the confirmations of the resent replies wait", exc_info=True)
        return sent

    def _owe(self, update_ids: list[str]) -> None:
        with shared_transaction(self.engine) as connection:
            conversations.mark_owed(
                connection=connection, channel=self.channel, update_ids=update_ids
            )

    async def run(self) -> None:
        """Write confirmations until cancelled; what waits then is written on the way out."""
        try:
            while True:
                await self.wakeup.wait()
                await asyncio.sleep(RECORD_EVERY)
                self.wakeup.clear()
                try:
                    await db.run(self.engine, self.flush)
                except Exception:  # the database is away: the batch waits for the next
                    logger.exception("writing reply confirmations failed; retrying")
                    await asyncio.sleep(1)
                    self.wakeup.set()
        finally:
            try:
                self.flush()
            except Exception:  # they are sent again after a restart: a repeat, not a loss
                logger.warning("%s reply confirmations were not written", len(self.waiting))

    def flush(self) -> None:
        """Write every waiting confirmation in one transaction."""
        batch, self.waiting = self.waiting, []
        if not batch:
            return
        try:
            with shared_transaction(self.engine) as connection:
                conversations.confirm_sent(connection=connection, sent=batch)
        except BaseException:
            self.waiting[:0] = batch
            raise
