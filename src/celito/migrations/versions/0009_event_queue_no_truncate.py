"""PostgreSQL: vacuums of event_queue leave its empty tail pages in place

Truncating them takes an exclusive lock on the table, and every commit that queues events
(and every sequencer move) waits behind it: tens of milliseconds, every time the queue was
vacuumed after a burst. The pages are reused by the next inserts anyway.

Revision ID: 0009_event_queue_no_truncate
Revises: 0008_events_at_unindexed
Create Date: 2026-11-28 03:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_event_queue_no_truncate"
down_revision: str | None = "0008_events_at_unindexed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE event_queue SET (vacuum_truncate = false)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE event_queue RESET (vacuum_truncate)")
