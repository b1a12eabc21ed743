"""events.at without an index: retention finds its boundary by the id (events.node)

Revision ID: 0008_events_at_unindexed
Revises: 0007_event_queue
Create Date: 2026-11-27 19:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_events_at_unindexed"
down_revision: str | None = "0007_event_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_at", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_at", "events", ["at"], unique=False)
