"""member lists imported from spreadsheets: roster entries with personal join codes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rosterentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('employee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('roles', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('organization_id', 'employee_id'),
    sa.UniqueConstraint('organization_id', 'phone')
    )
    with op.batch_alter_table('rosterentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rosterentry_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rosterentry_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rosterentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rosterentry_unit_id'))
        batch_op.drop_index(batch_op.f('ix_rosterentry_member_id'))

    op.drop_table('rosterentry')
