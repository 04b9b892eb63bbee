"""outbox: index a chat's queued messages, so finding each chat's oldest stays cheap

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_outboxmessage_chat',
        'outboxmessage',
        ['channel', 'chat_id', 'status', 'id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_outboxmessage_chat', table_name='outboxmessage')
