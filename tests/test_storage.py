"""The schema Alembic builds is the schema the models describe, on both databases."""

import time
from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

from storage.db import make_engine, reading, transaction, upgrade
from storage.models import Initiative, Unit


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


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
