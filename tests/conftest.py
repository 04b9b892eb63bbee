"""Shared fixtures: a real migrated database (SQLite file or PostgreSQL), a clock, a bot."""

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot import admin
from bot.app import Core, build
from bot.channels.console import ConsoleSession
from bot.channels.contract import Channel
from bot.dispatch.dispatcher import utc_now
from bot.leader.outbox import OutboxSender
from bot.leader.preparing import Preparing
from core.settings import Settings
from services import units
from storage.db import make_engine, transaction, upgrade
from tests.tree import Tree, build_tree

# The PostgreSQL server of this machine; the suite creates its own database there.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEMO_CODE = "TESTCODE2345"


@pytest.fixture(autouse=True)
def fresh_cli_language() -> None:
    """The CLI loads its catalogs and language once a process (`bot.admin`): each test
    runs it as a new process would, not in the language an earlier test set."""
    admin._catalogs.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file per test run; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create and migrate a fresh PostgreSQL database for this test run, then drop it."""
    name = f"initiative_bot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """Return a clock that only moves when the test says so."""
    return Clock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Return settings for one test, ignoring any .env file."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        files_dir=tmp_path / "files",
    )


@pytest.fixture
def core(settings: Settings, clock: Clock) -> Iterator[Core]:
    """Return the bot core wired to the test database and clock."""
    built = build(settings, clock=clock, migrate=False)
    yield built
    built.engine.dispose()


@pytest.fixture
def unit_id(core: Core, clock: Clock) -> int:
    """Create a workshop under an enterprise; its invite code is DEMO_CODE."""
    with transaction(core.engine) as session:
        top = units.add_unit(
            session=session, name="Công ty A", kind="enterprise", parent=None, now=clock()
        )
        shop = units.add_unit(
            session=session, name="Xưởng 1", kind="workshop", parent=top, now=clock()
        )
        units.revoke_invites(session=session, unit=shop, now=clock())
        units.issue_invite(session=session, unit=shop, now=clock(), code=DEMO_CODE)
        return shop.id or 0


Chat = Callable[..., ConsoleSession]


@pytest.fixture
def chat(core: Core) -> Chat:
    """Return a factory of console users talking to the bot."""

    def open_chat(user_id: str = "u1", name: str | None = "Nguyễn Văn An") -> ConsoleSession:
        return ConsoleSession(
            dispatcher=core.dispatcher,
            catalogs=core.catalogs,
            files_dir=core.settings.files_dir,
            user_id=user_id,
            name=name,
        )

    return open_chat


def join(session: ConsoleSession, language: str = "1") -> str:
    """Join the test unit with the demo code, a language and consent."""
    session.send(f"/start {DEMO_CODE}")
    session.send(language)
    return session.send("1")


@pytest.fixture
def tree(core: Core, clock: Clock) -> Tree:
    """Return a zone with two enterprises and a workshop, people in roles (tests/tree.py)."""
    return build_tree(core, clock)


@contextlib.asynccontextmanager
async def outbox_sending(
    core: Core, channels: Mapping[str, Channel], clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[None]:
    """Run the leader's outbox sender through `channels` while the block runs (by default
    on the real clock: retries must come due while a test clock stands still)."""
    make = Preparing(core.engine, core.settings, core.catalogs).make
    sender = OutboxSender(engine=core.engine, channels=dict(channels), clock=clock, make=make)
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
