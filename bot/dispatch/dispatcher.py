"""Process updates in database transactions: claim each update id once, read the people's
states, route each update to its step, write the states back, commit.

There is one path. A lone update is a group of one; updates of different chats that a
channel works on at once share one transaction (group commit): one BEGIN, one COMMIT and
its fsync, one claim statement, one read of the states and members. On PostgreSQL the
opening statements go in one round trip, and so do the closing ones with the COMMIT
(`storage.pg_pipeline`).
"""

import logging
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from bot.dispatch.router import Redo, Router
from core.codec import response_from_json, response_to_json
from core.errors import Refused
from core.messages import Incoming, Reply, Response, t
from core.settings import Settings
from handlers.conversation import Conversation
from locales import Catalogs
from storage import conversations, db, inbox, pg_pipeline
from storage.conversations import OWED, State
from storage.db import shared_transaction
from storage.inbox import Received
from storage.members import mark_used, member_for, used_long_ago
from storage.models import Member

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def keep(state: State, incoming: Incoming, response: Response) -> Response:
    """Keep the replies to a stored update with its state until the channel sent them;
    return the response to send.

    They commit with the step, so a crash before the send loses nothing: the channel
    sends what it never confirmed when it starts again (see `storage.conversations`).
    Replies the channel gave up sending (`state.owed`) go first in the response, as
    messages: the response then edits nothing and shows no notice at a button instead
    (the person has not seen what came before it).
    """
    owed = state.owed
    if incoming.update_id is None:  # nothing to confirm it by: owed replies wait
        if owed is None:
            state.replies = state.replies_to = None
        else:  # written back as they were read
            state.replies, state.replies_to = owed, owed[OWED]
        return response
    if owed is not None:
        replies = response_from_json(owed).replies + response.replies
        response = replace(response, replies=tuple(replace(r, edit=False) for r in replies))
        response = replace(response, toast=None)
        state.owed = None  # carried: a later update of the same group does not carry it again
    if not response.replies or response.toast is not None:
        state.replies = state.replies_to = None  # a toast is answered at once, or not at all
        return response
    state.replies = {**response_to_json(response), "edit": incoming.message_ref}
    state.replies_to = incoming.update_id
    return response


class Dispatcher:
    """The channel-neutral core: updates in, one committed transaction, replies out."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        catalogs: Catalogs,
        conversations: Sequence[Conversation],
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.catalogs = catalogs
        self.clock = clock
        self.router = Router(settings=settings, catalogs=catalogs, conversations=conversations)
        self.steps = self.router.steps
        self.menu = self.router.menu

    def handle(self, incoming: Incoming) -> Response | None:
        """Process one update; return None when its id was processed before."""
        return self.handle_group([incoming])[0]

    def handle_group(
        self, incomings: Sequence[Incoming], *, received: Received | None = None
    ) -> list[Response | None]:
        """Process updates of different chats in one transaction, each as if alone.

        Each gets its own session and sees what the ones before it wrote; None stands
        for an update whose id was processed before. A channel may have what it
        `received` stored in the same transaction, the group's updates as claimed. A
        refusal after its step wrote undoes the whole group, which is then redone with
        that update as a re-ask (one before is answered at once); the database being
        away (`db.away`) is raised to the caller, who tries again; any other failure
        undoes it too: `received` is then stored on its own, claiming nothing, and the
        updates are processed one at a time.
        """
        cleaned = [incoming.cleaned() for incoming in incomings]
        refusals: dict[int, Refused] = {}
        try:
            while True:
                try:
                    return self._group_once(cleaned, refusals, received)
                except Redo as redo:
                    refusals[redo.index] = redo.refusal
        except Exception as error:
            if db.away(self.engine, error):
                raise  # nothing of it was written: the caller tries again later
            if len(cleaned) == 1 and received is None:
                logger.exception(
                    "update %s on %s failed", cleaned[0].update_id, cleaned[0].channel
                )
                text = Reply(t("common.internal_error"))
                return [Response(self.settings.default_language, (text,), failed=True)]
            logger.warning(
                "a group of %s updates failed; one at a time now", len(cleaned), exc_info=True
            )
        if received is not None:
            with shared_transaction(self.engine) as connection:
                received.new = inbox.store(
                    connection=connection,
                    channel=received.channel,
                    updates=received.updates,
                    now=self.clock(),
                )
        return [self._alone(incoming) for incoming in incomings]

    def _alone(self, incoming: Incoming) -> Response | None:
        """Process an update of a failed group alone. The database going away meanwhile
        cannot be raised (the group's earlier ones may have committed): the update fails
        without a word, and its next try waits for the database."""
        try:
            return self.handle(incoming)
        except Exception as error:
            if not db.unavailable(error):
                raise
            logger.warning("update %s met the database away", incoming.update_id)
            return Response(self.settings.default_language, (), failed=True)

    def _group_once(
        self,
        incomings: Sequence[Incoming],
        refusals: dict[int, Refused],
        received: Received | None,
    ) -> list[Response | None]:
        with shared_transaction(self.engine) as connection:
            now = self.clock()
            claims = [
                (i.channel, str(i.update_id), i.chat_id)
                for i in incomings
                if i.update_id is not None
            ]
            keys = list(dict.fromkeys((i.channel, i.chat_id, i.user_id) for i in incomings))
            if connection.dialect.name == "postgresql":
                claimed, known = pg_pipeline.begin(
                    connection, received=received, claims=claims, keys=keys, now=now
                )
            else:
                claimed = inbox.store_or_claim(
                    connection=connection, received=received, claims=claims, now=now
                )
                known = conversations.load_with_members(connection=connection, keys=keys, now=now)
            ahead = dict(zip(keys, known, strict=True))
            responses: list[Response | None] = [None] * len(incomings)
            seen: set[tuple[str, str]] = set()  # users whose member was read ahead and used
            used: list[tuple[str, str]] = []  # members' identities whose last use to record
            touched: dict[int, State] = {}  # the states to write back
            for index, incoming in enumerate(incomings):
                pair = (incoming.channel, incoming.update_id)
                if incoming.update_id is not None and pair not in claimed:
                    logger.info(
                        "skipped duplicate update %s on %s", incoming.update_id, incoming.channel
                    )
                    continue
                state, member, last_used = ahead[
                    (incoming.channel, incoming.chat_id, incoming.user_id)
                ]
                user = (incoming.channel, incoming.user_id)
                # A person's second update of the group sees what their first one wrote.
                fresh = user not in seen
                seen.add(user)
                touched[id(state)] = state
                responses[index] = self._in_group(
                    connection, incoming, now, refusals.get(index), (state, member), fresh, index
                )
                # A chat event is no sign of the person's activity.
                if fresh and member and incoming.event is None and used_long_ago(last_used, now):
                    used.append(user)
            mark_used(connection=connection, users=used, now=now)
            states = list(touched.values())
            if connection.dialect.name == "postgresql":
                pg_pipeline.save_and_commit(connection, states)  # the last statement
            else:
                conversations.save_many(connection=connection, states=states)
            return responses

    def _in_group(
        self,
        connection: Connection,
        incoming: Incoming,
        now: datetime,
        refused: Refused | None,
        ahead: tuple[State, Member | None],
        fresh: bool,
        index: int,
    ) -> Response:
        """Process one update of a group; its state is written back with the group's.

        `fresh`: the member read ahead is current (else the person's earlier update in
        the group may have changed it). A refusal before the update wrote anything is
        answered at once, as a re-ask; a refusal after it wrote undoes the whole group
        (see `handle_group`).
        """
        state, member = ahead
        written = db.writes(connection)
        before = replace(state, data=deepcopy(state.data))

        def attempt(refused: Refused | None) -> Response:
            # The session joins the connection's transaction: its commit only flushes,
            # and closing it without one drops what it did not flush.
            with Session(bind=connection, expire_on_commit=False) as session:
                if fresh:
                    person = member and session.merge(member, load=False)
                else:
                    person = member_for(
                        session=session, channel=incoming.channel, user_id=incoming.user_id
                    )
                response = self.router.process(session, incoming, now, refused, state, person)
                response = keep(state, incoming, response)
                session.commit()
            return response

        try:
            return attempt(refused)
        except Redo as redo:
            if db.writes(connection) != written:
                raise Redo(redo.refusal, index) from redo
            vars(state).update(vars(before))  # the step's changes to the state are undone
            return attempt(redo.refusal)
