"""one person, two messengers: link codes, failed attempts, when each identity was last used

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 01:13:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('linkattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('linkattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_linkattempt_subject_hash'), ['subject_hash'], unique=False)

    op.create_table('linkcode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['identity_id'], ['channelidentity.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('linkcode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_linkcode_identity_id'), ['identity_id'], unique=False)

    with op.batch_alter_table('channelidentity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', storage.types.UTCDateTime(), nullable=True))
    # The person's latest conversation step on that messenger is the best guess there is.
    op.execute(
        "UPDATE channelidentity SET last_used_at = (SELECT max(s.updated_at)"
        " FROM conversationstate s WHERE s.channel = channelidentity.channel"
        " AND s.user_id = channelidentity.external_user_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('channelidentity', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')

    with op.batch_alter_table('linkcode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_linkcode_identity_id'))

    op.drop_table('linkcode')
    with op.batch_alter_table('linkattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_linkattempt_subject_hash'))

    op.drop_table('linkattempt')
