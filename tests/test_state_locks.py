"""Confirming sent replies: only the confirmed update's, and rows locked in one order."""

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, exc, text

from storage import conversations
from storage.conversations import State
from storage.db import make_engine, shared_transaction

FIRST = "WHERE user_id = 'first' FOR UPDATE"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def kept(*users: str) -> list[State]:
    """States with kept replies to update "1" for each user, created in this order."""
    return [
        State("zalo", user, user, None, "wizard.title", {}, NOW, {"texts": []}, "1")
        for user in users
    ]


def replies_to(engine: Engine, user: str) -> str | None:
    with shared_transaction(engine) as connection:
        query = text("SELECT replies_to FROM conversationstate WHERE user_id = :u")
        value: str | None = connection.execute(query, {"u": user}).scalar_one()
        return value


def test_a_confirmation_clears_only_the_replies_of_that_update(database_url: str) -> None:
    engine = make_engine(database_url)
    with shared_transaction(engine) as connection:
        conversations.save_many(connection=connection, states=kept("a", "b"))
    sent = [(("zalo", "a", "a"), "1"), (("zalo", "b", "b"), "0")]  # b has kept a later one
    with shared_transaction(engine) as connection:
        conversations.confirm_sent(connection=connection, sent=sent)
    assert (replies_to(engine, "a"), replies_to(engine, "b")) == (None, "1")
    engine.dispose()


def test_a_batch_longer_than_a_statement_takes_is_confirmed_whole(database_url: str) -> None:
    """After an outage the waiting confirmations can be many: more pairs than one
    statement takes (PostgreSQL's stack depth, SQLite's parameters) go in several."""
    engine = make_engine(database_url)
    with shared_transaction(engine) as connection:
        conversations.save_many(connection=connection, states=kept("a", "b"))
    gone = [(("zalo", f"x{n}", f"x{n}"), "1") for n in range(12_000)]  # 48,000 parameters
    sent = [(("zalo", "a", "a"), "1"), *gone, (("zalo", "b", "b"), "1")]
    with shared_transaction(engine) as connection:
        conversations.confirm_sent(connection=connection, sent=sent)
    assert (replies_to(engine, "a"), replies_to(engine, "b")) == (None, None)
    engine.dispose()


def test_confirmations_lock_states_in_id_order_as_a_group_does(postgres_url: str) -> None:
    """A group transaction locks its states in id order; confirmations given in another
    order must lock in that order too, or the two can deadlock (each holding a row the
    other waits for). PostgreSQL only: SQLite locks the whole database, not rows."""
    engine = make_engine(postgres_url)
    with shared_transaction(engine) as connection:
        connection.execute(text("TRUNCATE conversationstate"))
        conversations.save_many(connection=connection, states=kept("first", "second"))
    holder = engine.connect()
    holder.begin()
    holder.execute(text("SELECT 1 FROM conversationstate WHERE user_id = 'second' FOR UPDATE"))
    # Confirmed in the reverse order of the ids: blocks on "second", having locked "first".
    batch = [(("zalo", "second", "second"), "1"), (("zalo", "first", "first"), "1")]
    confirming = threading.Thread(target=_confirm, args=(engine, batch), daemon=True)
    confirming.start()
    probe = engine.connect()
    try:
        locked = False
        for _ in range(100):  # until the confirmation has locked what it can
            probe.begin()
            try:
                probe.execute(text(f"SELECT 1 FROM conversationstate {FIRST} NOWAIT"))
            except exc.OperationalError:
                locked = True
                break
            finally:
                probe.rollback()
            threading.Event().wait(0.05)
        assert locked, "the confirmation did not lock the lower id first"
    finally:
        holder.rollback()
        holder.close()
        confirming.join(timeout=10)
        probe.close()
    assert (replies_to(engine, "first"), replies_to(engine, "second")) == (None, None)
    engine.dispose()


def _confirm(engine: Engine, batch: list[tuple[tuple[str, str, str], str]]) -> None:
    with shared_transaction(engine) as connection:
        conversations.confirm_sent(connection=connection, sent=batch)
