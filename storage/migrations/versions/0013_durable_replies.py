"""conversationstate: keep a step's replies until the channel confirms they were sent

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversationstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replies', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('replies_to', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(
            'ix_conversationstate_unsent',
            ['channel'],
            unique=False,
            sqlite_where=sa.text('replies_to IS NOT NULL'),
            postgresql_where=sa.text('replies_to IS NOT NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('conversationstate', schema=None) as batch_op:
        batch_op.drop_index('ix_conversationstate_unsent')
        batch_op.drop_column('replies_to')
        batch_op.drop_column('replies')
