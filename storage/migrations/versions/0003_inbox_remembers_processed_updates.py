"""inbox remembers processed updates

The inbox row of an update is now its processed marker (done_at), which replaces the
processedupdate table: one statement claims an update instead of two.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_inboxupdate_chat_id'))
        batch_op.create_index('ix_inboxupdate_waiting', ['channel', 'done_at', 'seq'], unique=False)
    # Keep recognising the updates processed before the upgrade.
    op.execute(
        "INSERT INTO inboxupdate "
        "(channel, update_id, seq, chat_id, payload, received_at, attempts, done_at) "
        "SELECT channel, update_id, 0, '', '{}', processed_at, 0, processed_at "
        "FROM processedupdate p WHERE NOT EXISTS (SELECT 1 FROM inboxupdate i "
        "WHERE i.channel = p.channel AND i.update_id = p.update_id)"
    )
    op.drop_table('processedupdate')


def downgrade() -> None:
    op.create_table('processedupdate',
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('update_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('processed_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'update_id')
    )
    op.execute(
        "INSERT INTO processedupdate (channel, update_id, processed_at) "
        "SELECT channel, update_id, done_at FROM inboxupdate WHERE done_at IS NOT NULL"
    )
    op.execute("DELETE FROM inboxupdate WHERE done_at IS NOT NULL")
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.drop_index('ix_inboxupdate_waiting')
        batch_op.create_index(batch_op.f('ix_inboxupdate_chat_id'), ['chat_id'], unique=False)
        batch_op.drop_column('done_at')
