"""routing: time frames and answer rules

Revision ID: 0005_routing
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0005_routing"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "timeframes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unique_id", sa.String(length=32), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("owner_key", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_timeframes_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_timeframes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeframes")),
        sa.UniqueConstraint("domain_id", "owner_key", "name", name="uq_timeframes_owner_name"),
        sa.UniqueConstraint("unique_id", name=op.f("uq_timeframes_unique_id")),
    )
    with op.batch_alter_table("timeframes", schema=None) as batch_op:
        batch_op.create_index("ix_timeframes_domain_user", ["domain_id", "user_id"], unique=False)

    op.create_table(
        "answerrules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("timeframe_id", sa.Integer(), nullable=True),
        sa.Column("frame_key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_answerrules_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["timeframe_id"],
            ["timeframes.id"],
            name=op.f("fk_answerrules_timeframe_id_timeframes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_answerrules_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answerrules")),
        sa.UniqueConstraint("user_id", "frame_key", name="uq_answerrules_user_frame"),
    )
    with op.batch_alter_table("answerrules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answerrules_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_answerrules_timeframe_id"), ["timeframe_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_answerrules_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("answerrules")
    op.drop_table("timeframes")
