"""The schema Alembic builds is the schema the models describe, on both databases."""

import time
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from bot.leader.scheduler import TABLE
from storage import inbox
from storage.db import alembic_config, make_engine, ours, reading, transaction, upgrade
from storage.models import Initiative, Unit
from storage.types import UTCDateTime


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        # A bot that ran has APScheduler's table too: not the migrations' business.
        SQLAlchemyJobStore(engine=engine, tablename=TABLE).jobs_t.create(engine, checkfirst=True)
        with engine.connect() as connection:
            opts = {"compare_type": True, "include_name": ours}
            context = MigrationContext.configure(connection, opts=opts)
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_benefit_beyond_32_bits_and_times_in_utc_round_trip(database_url: str) -> None:
    engine = make_engine(database_url)
    hanoi = datetime(2026, 3, 15, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    with transaction(engine) as session:
        unit = Unit(name="Xưởng", kind="workshop", path="/1/", created_at=hanoi)
        session.add(unit)
        session.flush()
        session.add(
            Initiative(
                unit_id=unit.id or 0,
                status="draft",
                created_at=hanoi,
                updated_at=hanoi,
                estimated_benefit_vnd=999_999_999_999_999,
            )
        )
    with Session(engine) as session:
        stored = session.exec(select(Initiative)).one()
        assert stored.estimated_benefit_vnd == 999_999_999_999_999
        assert stored.created_at == hanoi and stored.created_at.tzinfo == UTC
        assert stored.created_at.hour == 1
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/locks.db"
    upgrade(url)
    writer, reader = make_engine(url), make_engine(url)
    with transaction(writer) as session:
        session.add(Unit(name="A", kind="workshop", path="/1/", created_at=datetime.now(UTC)))
        session.flush()  # the writer now holds SQLite's write lock
        started = time.monotonic()
        with reading(reader) as other:
            assert other.exec(select(Unit)).all() == []
        assert time.monotonic() - started < 1
    writer.dispose()
    reader.dispose()


def test_processed_ids_move_into_the_inbox_and_back(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0002")
    engine = make_engine(database_url)
    then = datetime(2026, 11, 24, tzinfo=UTC)
    processed = sa.table(
        "processedupdate",
        sa.column("channel"),
        sa.column("update_id"),
        sa.column("processed_at", UTCDateTime()),
    )
    waiting = sa.table(
        "inboxupdate",
        *(sa.column(name) for name in ("channel", "update_id", "seq", "chat_id", "attempts")),
        sa.column("payload", sa.JSON()),
        sa.column("received_at", UTCDateTime()),
    )
    with engine.begin() as connection:
        connection.execute(
            processed.insert().values(channel="telegram", update_id="41", processed_at=then)
        )
        connection.execute(
            waiting.insert().values(
                channel="telegram",
                update_id="42",
                seq=42,
                chat_id="7",
                attempts=0,
                payload={"update_id": 42},
                received_at=then,
            )
        )
    upgrade(database_url)
    with reading(engine) as session:
        assert [
            r.update_id for r in inbox.oldest(session=session, channel="telegram", limit=9)
        ] == ["42"]
    with transaction(engine) as session:
        claims = [
            inbox.claim(session=session, channel="telegram", update_id=u, chat_id="7", now=then)
            for u in ("41", "42")
        ]
    assert claims == [False, True]
    command.downgrade(config, "0002")
    with engine.connect() as connection:
        ids = connection.execute(sa.select(processed.c.update_id)).scalars().all()
        assert sorted(ids) == ["41", "42"]
        assert connection.execute(sa.select(waiting.c.update_id)).all() == []
    upgrade(database_url)
    engine.dispose()
