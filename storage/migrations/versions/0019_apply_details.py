"""initiative: the conditions for applying it and the people who took part in applying it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('initiative') as batch:
        batch.add_column(sa.Column('apply_conditions', sa.Text(), nullable=True))
        batch.add_column(sa.Column('apply_participants', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('initiative') as batch:
        batch.drop_column('apply_participants')
        batch.drop_column('apply_conditions')
