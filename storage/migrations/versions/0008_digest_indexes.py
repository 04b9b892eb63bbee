"""digest indexes: digests and campaign progress read indexes, not the table

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
INDEXES = {
    'ix_initiative_unit_submitted': ['unit_id', 'submitted_at', 'estimated_benefit_vnd'],
    'ix_initiative_unit_decided': [
        'unit_id', 'decided_at', 'status', 'verified_benefit_vnd', 'id'
    ],
    'ix_initiative_unit_waiting': ['unit_id', 'status', 'waiting_since'],
    'ix_initiative_campaign_counted': [
        'campaign_id', 'status', 'estimated_benefit_vnd', 'verified_benefit_vnd'
    ],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, 'initiative', columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='initiative')
