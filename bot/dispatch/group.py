"""Updates of different chats in one transaction (group commit), each processed as
`Dispatcher.handle` would process it alone."""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from core.errors import Refused
from core.messages import Incoming, Response
from storage import conversations, db, inbox, pg_pipeline
from storage.conversations import Ahead, State
from storage.db import shared_transaction
from storage.inbox import Received

logger = logging.getLogger(__name__)


class Redo(Exception):
    """A step refused: roll its writes back and process the update again as a re-ask."""

    def __init__(self, refusal: Refused, index: int = 0) -> None:
        super().__init__(refusal.text.key)
        self.refusal = refusal
        self.index = index  # which update of a group refused


class GroupedDispatch(ABC):
    """The dispatcher's group commit; the dispatcher itself processes each update."""

    engine: Engine
    clock: Callable[[], datetime]

    @abstractmethod
    def handle(self, incoming: Incoming) -> Response | None:
        """Process one update in a transaction of its own."""

    @abstractmethod
    def _process(
        self,
        session: Session,
        incoming: Incoming,
        now: datetime,
        refused: Refused | None,
        ahead: Ahead | None = None,
    ) -> tuple[Response, State]:
        """Run the update's step; return the response and the state to write back."""

    def handle_group(
        self, incomings: Sequence[Incoming], *, received: Received | None = None
    ) -> list[Response | None]:
        """Process updates of different chats in one transaction, each as `handle` would.

        They share BEGIN, COMMIT (and its fsync) and one claim statement; each still gets
        its own session and sees what the ones before it wrote. A channel may have what
        it `received` stored in the same transaction, the group's updates as claimed. A
        refusal after its step wrote undoes the whole group, which is then redone with
        that update as a re-ask (one before is answered at once); any other failure
        undoes it too: `received` is then stored on its own, claiming nothing, and the
        updates are processed one at a time.
        """
        if not incomings or any(i.update_id is None for i in incomings):
            return self._one_by_one(incomings, received)
        pipelined = self.engine.dialect.name == "postgresql"
        if len(incomings) == 1 and received is None and not pipelined:
            return [self.handle(incomings[0])]
        cleaned = [incoming.cleaned() for incoming in incomings]
        refusals: dict[int, Refused] = {}
        try:
            while True:
                try:
                    return self._group_once(cleaned, refusals, received)
                except Redo as redo:
                    refusals[redo.index] = redo.refusal
        except Exception:
            logger.warning("a group of %s updates failed; one at a time now", len(cleaned))
            return self._one_by_one(incomings, received)

    def _one_by_one(
        self, incomings: Sequence[Incoming], received: Received | None
    ) -> list[Response | None]:
        if received is not None:
            with shared_transaction(self.engine) as connection:
                received.new = inbox.store(
                    connection=connection,
                    channel=received.channel,
                    updates=received.updates,
                    now=self.clock(),
                )
        return [self.handle(incoming) for incoming in incomings]

    def _group_once(
        self,
        incomings: Sequence[Incoming],
        refusals: dict[int, Refused],
        received: Received | None,
    ) -> list[Response | None]:
        with shared_transaction(self.engine) as connection:
            now = self.clock()
            claims = [(i.channel, str(i.update_id), i.chat_id) for i in incomings]
            # States and members are read ahead only when each update is a different
            # person's: then no update of the group writes another's state or member, and
            # reading them all first is the same as reading each in turn.
            users = {(incoming.channel, incoming.user_id) for incoming in incomings}
            keys = [(i.channel, i.chat_id, i.user_id) for i in incomings]
            if len(users) < len(incomings):
                keys = []
            pipelined = connection.dialect.name == "postgresql"
            if pipelined:
                claimed, known = pg_pipeline.begin(
                    connection, received=received, claims=claims, keys=keys, now=now
                )
            else:
                claimed = self._claim(connection, received, claims, now)
                known = None
                if keys:
                    known = conversations.load_with_members(
                        connection=connection, keys=keys, now=now
                    )
            responses: list[Response | None] = [None] * len(incomings)
            states = []
            for index, incoming in enumerate(incomings):
                if (incoming.channel, incoming.update_id) not in claimed:
                    logger.info(
                        "skipped duplicate update %s on %s", incoming.update_id, incoming.channel
                    )
                    continue
                ahead = None if known is None else known[index]
                responses[index], state = self._in_group(
                    connection, incoming, now, refusals.get(index), ahead, index
                )
                states.append(state)
            if known is not None and pipelined:
                pg_pipeline.save_many(connection, states)
            elif known is not None:
                conversations.save_many(connection=connection, states=states)
            return responses

    @staticmethod
    def _claim(
        connection: Connection,
        received: Received | None,
        claims: Sequence[tuple[str, str, str]],
        now: datetime,
    ) -> set[tuple[str, str]]:
        """Store what was received, or claim the updates; return the claimed pairs."""
        if received is None:
            return inbox.claim_many(connection=connection, updates=claims, now=now)
        received.new = inbox.store(
            connection=connection,
            channel=received.channel,
            updates=received.updates,
            now=now,
            claimed=received.claimed,
        )
        return {(received.channel, update_id) for update_id in received.claimed & received.new}

    def _in_group(
        self,
        connection: Connection,
        incoming: Incoming,
        now: datetime,
        refused: Refused | None,
        ahead: Ahead | None,
        index: int,
    ) -> tuple[Response, State]:
        """Process one update of a group; a state read ahead is written back by the caller.

        A refusal before the update wrote anything is answered at once, as a re-ask; a
        refusal after it wrote undoes the whole group (see `handle_group`).
        """
        written = db.writes(connection)
        before = None if ahead is None else (replace(ahead[0], data=deepcopy(ahead[0].data)))
        try:
            return self._joined(connection, incoming, now, refused, ahead)
        except Redo as redo:
            if db.writes(connection) != written:
                raise Redo(redo.refusal, index) from redo
            again = None if ahead is None or before is None else (before, ahead[1])
            return self._joined(connection, incoming, now, redo.refusal, again)

    def _joined(
        self,
        connection: Connection,
        incoming: Incoming,
        now: datetime,
        refused: Refused | None,
        ahead: Ahead | None,
    ) -> tuple[Response, State]:
        # The session joins the connection's transaction: its commit only flushes, and
        # closing it without one drops what it did not flush.
        with Session(bind=connection, expire_on_commit=False) as session:
            if ahead is not None:
                state, member = ahead
                ahead = state, member and session.merge(member, load=False)
            response, state = self._process(session, incoming, now, refused, ahead)
            if ahead is None:
                conversations.save(session=session, state=state)
            session.commit()
        return response, state
