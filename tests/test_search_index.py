"""The search index answers the same on SQLite (FTS5) and PostgreSQL (tsvector, GIN)."""

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from core.folding import syllables
from core.status import Status
from storage import search
from storage.db import alembic_config, make_engine, transaction
from storage.models import Initiative, Unit

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
# (unit, status, confidential, title, solution); units: 0 enterprise A, 1 its workshop,
# 2 enterprise B.
ROWS = [
    (1, Status.APPROVED, False, "Đồ gá thay khuôn nhanh máy ép", "Chốt định vị khuôn ép"),
    (1, Status.SUBMITTED, False, "Khuôn ép làm mát nhanh", "Kênh nước mới trong khuôn"),
    (0, Status.RECOMMENDED, False, "Băng tải tự dừng", "Cảm biến quang dừng băng tải"),
    (2, Status.APPROVED, False, "Thay khuôn nhanh máy dập", "Đồ gá kẹp khuôn dập"),
    (1, Status.APPROVED, True, "Cải tiến máy hàn", "Bí mật: khuôn ép đặc biệt"),
    (1, Status.DRAFT, False, "Khuôn ép bản nháp", "Chưa gửi"),
    (1, Status.REJECTED, False, "Đèn LED xưởng", "Thay đèn huỳnh quang bằng LED " + "9" * 3000),
]


def build(session: Session) -> tuple[list[int], list[int]]:
    """Create the units and initiatives of ROWS and index them; return their ids."""
    a = Unit(name="Công ty A", kind="enterprise", created_at=NOW)
    session.add(a)
    session.flush()
    a.path = f"/{a.id}/"
    shop = Unit(name="Xưởng 1", kind="workshop", parent_id=a.id, created_at=NOW)
    b = Unit(name="Công ty B", kind="enterprise", created_at=NOW)
    session.add_all([shop, b])
    session.flush()
    shop.path, b.path = f"/{a.id}/{shop.id}/", f"/{b.id}/"
    units = [a.id or 0, shop.id or 0, b.id or 0]
    made = []
    for unit, status, secret, title, solution in ROWS:
        initiative = Initiative(
            unit_id=units[unit],
            status=status,
            confidential=secret,
            title=title,
            solution=solution,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(initiative)
        made.append(initiative)
    session.flush()
    ids = [i.id or 0 for i in made]
    search.refresh(session=session, initiative_ids=ids)
    return units, ids


@pytest.fixture
def engines(
    sqlite_template: Path, postgres_url: str, tmp_path: Path
) -> Iterator[dict[str, Engine]]:
    """Return an empty migrated database of each kind."""
    shutil.copyfile(sqlite_template, tmp_path / "bot.db")
    built = {"sqlite": make_engine(f"sqlite:///{tmp_path / 'bot.db'}")}
    built["postgresql"] = make_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with built["postgresql"].begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield built
    for engine in built.values():
        engine.dispose()


QUERIES = [
    ("khuon ep", True, 0, [Status.APPROVED, Status.RECOMMENDED, Status.SUBMITTED]),
    ("khuôn ÉP", True, 0, [Status.APPROVED]),
    ("khuon nhanh", False, 0, [Status.APPROVED, Status.SUBMITTED]),
    ("thay khuon nhanh", True, 2, [Status.APPROVED]),
    ("bang tai", True, 0, [Status.RECOMMENDED]),
    ("bang tai", True, 1, [Status.RECOMMENDED]),
    ("bi mat", True, 0, [Status.APPROVED]),
    ("may han", True, 1, [Status.APPROVED]),
    ("ban nhap", True, 0, [Status.DRAFT, Status.APPROVED]),
    ("den led", True, 0, [Status.REJECTED]),
]


def answers(engine: Engine) -> list[list[int]]:
    """Build ROWS and return what each query finds, as indexes into ROWS."""
    with transaction(engine) as session:
        units, ids = build(session)
        found = []
        for words, every, unit, statuses in QUERIES:
            got = search.matching(
                session=session,
                words=syllables(words),
                every_word=every,
                unit_id=units[unit],
                statuses=statuses,
                limit=10,
            )
            found.append([ids.index(i) for i in got])
        return found


def test_both_databases_find_the_same_initiatives(engines: dict[str, Engine]) -> None:
    sqlite, postgresql = answers(engines["sqlite"]), answers(engines["postgresql"])
    assert sqlite == postgresql
    assert sqlite == [
        [1, 0],  # accent-less words, newest first, in the subtree
        [0],  # accents and case fold away
        [1, 0],  # any of the words
        [3],  # enterprise B sees its own only
        [2],
        [],  # the workshop is below the enterprise that holds it
        [],  # a confidential initiative's solution is not indexed
        [4],  # its title is
        [],  # a draft has no entry
        [6],
    ]


def test_a_deleted_initiative_leaves_the_index(engines: dict[str, Engine]) -> None:
    for engine in engines.values():
        with transaction(engine) as session:
            units, ids = build(session)
            session.delete(session.get(Initiative, ids[0]))
            session.flush()
            found = search.matching(
                session=session,
                words=["khuon", "ep"],
                every_word=True,
                unit_id=units[0],
                statuses=[Status.APPROVED, Status.SUBMITTED],
                limit=10,
            )
            assert found == [ids[1]]


def test_the_migration_indexes_what_was_submitted_before_it(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    try:
        command.downgrade(config, "0016")  # the migration before the index
        with transaction(engine) as session:
            a = Unit(name="A", kind="enterprise", path="", created_at=NOW)
            session.add(a)
            session.flush()
            a.path = f"/{a.id}/"
            # The model has columns of later migrations: a plain insert of the old ones.
            session.execute(
                text(
                    "INSERT INTO initiative (unit_id, status, title, confidential,"
                    " created_at, updated_at) VALUES (:unit, 'approved', 'Khuôn ép', false,"
                    " :now, :now)"
                ),
                {"unit": a.id, "now": NOW.replace(tzinfo=None)},
            )
            unit_id = a.id or 0
        command.upgrade(config, "head")
        with transaction(engine) as session:
            found = search.matching(
                session=session,
                words=["khuon"],
                every_word=True,
                unit_id=unit_id,
                statuses=[Status.APPROVED],
                limit=5,
            )
        assert len(found) == 1
    finally:
        engine.dispose()
