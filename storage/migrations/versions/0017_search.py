"""search: an index of initiatives' folded words (SQLite FTS5, PostgreSQL tsvector + GIN),
and how an initiative differs from the similar ones its submitter was shown

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

from storage import search

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('difference', sa.Text(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute(
            f"CREATE VIRTUAL TABLE {search.TABLE} USING fts5(document,"
            f" tokenize = \"{search.SQLITE_TOKENIZER}\")"
        )
        # FTS5 tables take no foreign keys: a deleted initiative takes its entry along.
        op.execute(
            f"CREATE TRIGGER {search.TABLE}_deleted AFTER DELETE ON initiative"
            f" BEGIN DELETE FROM {search.TABLE} WHERE rowid = old.id; END"
        )
    else:
        op.execute(
            f"CREATE TABLE {search.TABLE} (initiative_id integer PRIMARY KEY"
            " REFERENCES initiative (id) ON DELETE CASCADE, document tsvector NOT NULL)"
        )
        op.execute(
            f"CREATE INDEX ix_{search.TABLE}_document ON {search.TABLE} USING gin (document)"
        )
    session = Session(bind=bind)
    ids = [row[0] for row in bind.exec_driver_sql("SELECT id FROM initiative WHERE status != 'draft'")]
    for start in range(0, len(ids), 1000):
        search.refresh(session=session, initiative_ids=ids[start : start + 1000])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"DROP TRIGGER IF EXISTS {search.TABLE}_deleted")
    op.execute(f"DROP TABLE {search.TABLE}")
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.drop_column('difference')
