"""campaigns: peak emulation campaigns, and the campaign an initiative counts toward

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
FK = 'fk_initiative_campaign_id_campaign'


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('starts_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('target_count', sa.Integer(), nullable=True),
    sa.Column('target_benefit_vnd', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_created_by'), ['created_by'], unique=False)
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_initiative_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_foreign_key(FK, 'campaign', ['campaign_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_initiative_campaign_id'))
        batch_op.drop_column('campaign_id')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_created_by'))
        batch_op.drop_index(batch_op.f('ix_campaign_unit_id'))
    op.drop_table('campaign')
