"""group digests: a leader's digest can also go to the group chats of the led units

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('digestsetting', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('to_groups', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('groupchat', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('digest_sent_until', storage.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('groupchat', schema=None) as batch_op:
        batch_op.drop_column('digest_sent_until')
    with op.batch_alter_table('digestsetting', schema=None) as batch_op:
        batch_op.drop_column('to_groups')
