"""Engines, sessions and migrations."""

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from storage import search

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
_WRITES = "statements_that_may_write"
# Tables other libraries own in the project database (APScheduler's job store): the
# migrations neither create nor drop them.
FOREIGN_TABLES = frozenset({"scheduler_job"})
# Seconds between tries while the database is away (`until_answers`), doubling.
AWAY_PAUSE = 0.5
AWAY_PAUSE_MAX = 30.0


def ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Tell Alembic whether a database object is a model's (for autogenerate).

    The search index (with FTS5's own tables) differs between the databases, so no
    model describes it.
    """
    if type_ == "table" and (name or "").startswith(search.TABLE):
        return False
    return not (type_ == "table" and name in FOREIGN_TABLES)


_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()


def make_engine(url: str) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys and write-locking transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pool_pre_ping: it costs a round trip per transaction. A connection that
        # died with the server fails one attempt; the pool then drops it, and the
        # inbox (or the caller) tries again.
        return _counting_writes(create_engine(url, hide_parameters=True))
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = _counting_writes(
        create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    )
    _WRITE_LOCKS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below decide when a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front so two never deadlock on an upgrade;
        # readers (see `reading`) must not queue behind them.
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _counting_writes(engine: Engine) -> Engine:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() != "SELECT":  # anything else may write
            connection.info[_WRITES] = connection.info.get(_WRITES, 0) + 1

    return engine


def writes(connection: Connection) -> int:
    """Return how many statements that may write the connection has run so far."""
    return int(connection.info.get(_WRITES, 0))


AFTER_COMMIT = "after_commit"
Action = Callable[[], object]


def after_commit(session: Session, action: Action) -> None:
    """Run `action` once the transaction `session` works in has committed (never if it
    rolls back), outside it: for what cannot be undone, such as removing a file.

    The session must come from `transaction` or `shared_transaction`. An action that
    fails is logged; what was committed stands.
    """
    bind = session.bind
    holder = bind.info if isinstance(bind, Connection) else session.info
    holder.setdefault(AFTER_COMMIT, []).append(action)


def _run_after_commit(actions: list[Action]) -> None:
    for action in actions:
        try:
            action()
        except Exception:
            logger.exception("an action after a commit failed")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Open a session whose work commits together or not at all.

    On SQLite the threads of one process take turns here instead of in SQLite's busy
    handler, which sleeps for up to 100 ms at a time while it waits for the lock.
    """
    lock = _WRITE_LOCKS.get(engine) or nullcontext()
    with lock, Session(engine, expire_on_commit=False) as session:
        with session.begin():
            yield session
        actions = session.info.pop(AFTER_COMMIT, [])
    _run_after_commit(actions)


@contextmanager
def shared_transaction(engine: Engine) -> Iterator[Connection]:
    """Open a connection whose work commits together or not at all.

    Sessions bound to it join its transaction, so several updates' sessions can share
    one BEGIN and one COMMIT (see `Dispatcher.handle_group`).
    """
    with _WRITE_LOCKS.get(engine) or nullcontext(), engine.begin() as connection:
        # `info` lives with the database connection: start with no actions, and take
        # this transaction's along (on a rollback they go with the exception).
        connection.info.pop(AFTER_COMMIT, None)
        try:
            yield connection
        finally:
            actions = connection.info.pop(AFTER_COMMIT, [])
    _run_after_commit(actions)


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """Open a connection for a single statement, which is atomic on its own.

    On a database server it runs in autocommit mode: one round trip instead of three
    (BEGIN, the statement, COMMIT). SQLite gets a write transaction as usual.
    """
    if engine.dialect.name == "sqlite":
        with transaction(engine) as session:
            yield session.connection()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """Open a session for reads only (on SQLite it does not take the write lock)."""
    bind = engine.execution_options(read_only=True)
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


def unavailable(error: BaseException) -> bool:
    """Whether a failure is of the kind a database that is away raises: the server away
    or restarting, a lost connection, a lock held too long. Storing what was received is
    tried again on such a failure; whether the work failed or the database is away,
    `away` tells."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


# What says the database is away, not that the work cannot run: SQLite's result codes
# (by name; an extended name starts with one) and PostgreSQL's SQLSTATE classes: a
# connection lost or refused, resources (a full disk, too many connections), an
# administrator's shutdown, an I/O error, a transaction rolled back to be tried again
# (a deadlock, a serialization failure).
_SQLITE_AWAY = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_NOMEM",
    "SQLITE_PROTOCOL",
)
_POSTGRESQL_AWAY = ("08", "53", "57P", "58", "40")


def away(engine: Engine, error: BaseException) -> bool:
    """Whether a failure of some work is the database being away, not the work's own.

    The same kind of error (`unavailable`) comes of both: a lost connection, a lock held
    too long, a full disk, a deadlock; or a query that cannot run (SQLite's "too many
    SQL variables", a statement timeout). The database's own code tells them apart;
    without one, a failure to connect is away, and otherwise the database is asked
    (`SELECT 1` on a new connection): if it answers, the work failed.
    """
    if not unavailable(error):
        return False
    assert isinstance(error, DBAPIError)
    if error.connection_invalidated or error.statement is None:
        return True  # lost, or never connected
    name = getattr(error.orig, "sqlite_errorname", None)
    if isinstance(name, str):
        return name.startswith(_SQLITE_AWAY)
    state = getattr(error.orig, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith(_POSTGRESQL_AWAY)
    try:
        with engine.execution_options(read_only=True).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return True
    return False


async def until_answers(
    work: Callable[[], Awaitable[T]],
    what: str,
    *,
    away: Callable[[BaseException], bool] = unavailable,
    waiting: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Return what `work` returns, trying it again while it fails with the database
    away (`away`): every AWAY_PAUSE seconds, doubling, with a warning that names `what`
    (so an outage of any length loses nothing); `waiting` runs before each pause. Any
    other failure is raised."""
    pause = AWAY_PAUSE
    while True:
        try:
            return await work()
        except Exception as error:
            if not away(error):
                raise
            logger.warning(
                "%s waits for the database (%s); again in %s s", what, type(error).__name__, pause
            )
        if waiting is not None:
            await waiting()
        await asyncio.sleep(pause)
        pause = min(pause * 2, AWAY_PAUSE_MAX)


async def run(engine: Engine, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking database work from async code.

    SQLite answers in microseconds with the GIL held, so a worker thread would only add
    thread switches: the work runs in place (a slow disk or another process holding the
    write lock then holds up the event loop too). A database server makes the caller
    wait on the network, so there the work runs in a worker thread.
    """
    if engine.dialect.name == "sqlite":
        return work(*args, **kwargs)
    return await asyncio.to_thread(work, *args, **kwargs)


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for the migrations shipped with the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(url), revision)
