"""leases, reminders, digest counts: one process runs the scheduler; no reminder twice

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('reminder',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'subject_id')
    )
    op.create_table('digestsetting',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('at_hour', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('sent_until', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_sla_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', storage.types.UTCDateTime(), nullable=True))
    # Both come from the newest status change of each initiative.
    latest = (
        "(SELECT max(sc.at) FROM statuschange sc WHERE sc.initiative_id = initiative.id"
        " AND sc.to_status IN ({}))"
    )
    op.execute(
        "UPDATE initiative SET waiting_since = " + latest.format("'submitted', 'recommended'")
        + " WHERE status IN ('submitted', 'recommended')"
    )
    op.execute(
        "UPDATE initiative SET decided_at = " + latest.format("'approved', 'rejected'")
        + " WHERE status IN ('approved', 'rejected', 'recommended')"
    )


def downgrade() -> None:
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.drop_column('decided_at')
        batch_op.drop_column('waiting_since')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('review_sla_days')
    op.drop_table('digestsetting')
    op.drop_table('reminder')
    op.drop_table('lease')
