"""broadcasts: organizers' announcements, sent as low-priority outbox messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('contents', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('send_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('report_channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('report_chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('report_language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('report_message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reported_final', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcast_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('broadcast_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('priority', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.create_foreign_key(
            'fk_outboxmessage_broadcast_id', 'broadcast', ['broadcast_id'], ['id'],
            ondelete='CASCADE',
        )
        batch_op.create_index('ix_outboxmessage_queue', ['status', 'priority', 'id'], unique=False)
        batch_op.create_index(
            'ix_outboxmessage_broadcast', ['broadcast_id', 'status'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmessage_broadcast')
        batch_op.drop_index('ix_outboxmessage_queue')
        batch_op.drop_constraint('fk_outboxmessage_broadcast_id', type_='foreignkey')
        batch_op.drop_column('priority')
        batch_op.drop_column('broadcast_id')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_unit_id'))
        batch_op.drop_index(batch_op.f('ix_broadcast_created_by'))
    op.drop_table('broadcast')
