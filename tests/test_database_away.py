"""Telling the database away from work that cannot run (`storage.db.away`), with the
errors each database really raises: the first is waited out, uncounted and unsaid; the
second is a step that failed (answered with an apology, tried twice more)."""

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.app import Core
from storage import db


def raised(engine_url: str, statement: str, **connect: object) -> OperationalError:
    """Run a statement that fails; return the error SQLAlchemy raised."""
    engine = create_engine(engine_url, connect_args=connect)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except OperationalError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("the statement did not fail")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_a_lock_held_past_the_timeout_is_away_a_query_too_big_is_not(
    core: Core, database_url: str
) -> None:
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than we wait
    try:
        locked = raised(database_url, "DELETE FROM inboxupdate", timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in str(locked) and db.away(core.engine, locked)
    columns = ", ".join(f"{n} AS c{n}" for n in range(40_000))
    too_big = raised(database_url, f"SELECT {columns}")
    assert db.unavailable(too_big) and not db.away(core.engine, too_big)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_a_statement_timeout_is_the_works_a_deadlock_is_away(
    core: Core, database_url: str
) -> None:
    timeout = raised(database_url, "SELECT pg_sleep(1)", options="-c statement_timeout=10")
    assert isinstance(timeout.orig, psycopg.errors.QueryCanceled)
    assert db.unavailable(timeout) and not db.away(core.engine, timeout)
    deadlock = OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock"))
    assert db.away(core.engine, deadlock)  # rolled back to be tried again


def test_a_database_that_cannot_be_reached_is_away(core: Core) -> None:
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    refused = raised(unreachable, "SELECT 1", connect_timeout=2)
    assert refused.statement is None and db.away(core.engine, refused)
    # An error that says nothing of itself: the database is asked.
    unclear = OperationalError("SELECT", {}, Exception("something"))
    assert not db.away(core.engine, unclear)  # it answers: the work failed
    gone = create_engine(unreachable, connect_args={"connect_timeout": 2})
    assert db.away(gone, unclear)
    gone.dispose()
