"""extensions: one plan per domain for users, queues, attendants and conferences

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_extensions_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
        sa.UniqueConstraint("domain_id", "extension", name="uq_extensions_domain_ext"),
    )
    # Every existing user already holds its extension.
    op.execute(
        "INSERT INTO extensions (domain_id, extension, kind, created_at) "
        "SELECT domain_id, \"user\", 'user', created_at FROM users"
    )


def downgrade() -> None:
    op.drop_table("extensions")
