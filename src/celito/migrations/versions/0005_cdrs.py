"""cdrs, active calls, presence: call history, the live-call table, published presence

Revision ID: 0005_cdrs
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0005_cdrs"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "active_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("orig_callid", sa.String(length=128), nullable=False),
        sa.Column("term_callid", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=False),
        sa.Column("orig_user", sa.String(length=64), nullable=False),
        sa.Column("orig_domain", sa.String(length=128), nullable=False),
        sa.Column("orig_uri", sa.String(length=255), nullable=False),
        sa.Column("orig_name", sa.String(length=128), nullable=False),
        sa.Column("orig_match", sa.String(length=255), nullable=False),
        sa.Column("ani", sa.String(length=64), nullable=False),
        sa.Column("dnis", sa.String(length=64), nullable=False),
        sa.Column("by_action", sa.String(length=64), nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=False),
        sa.Column("by_domain", sa.String(length=128), nullable=False),
        sa.Column("by_callid", sa.String(length=128), nullable=False),
        sa.Column("term_user", sa.String(length=64), nullable=False),
        sa.Column("term_domain", sa.String(length=128), nullable=False),
        sa.Column("term_uri", sa.String(length=255), nullable=False),
        sa.Column("orig_info", sa.String(length=32), nullable=False),
        sa.Column("term_info", sa.String(length=32), nullable=False),
        sa.Column("codec", sa.String(length=32), nullable=False),
        sa.Column("start_time", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_time", celito.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_active_calls_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_active_calls")),
        sa.UniqueConstraint("orig_callid", "term_callid", name="uq_active_calls_leg"),
    )
    with op.batch_alter_table("active_calls", schema=None) as batch_op:
        batch_op.create_index("ix_active_calls_orig", ["orig_domain", "orig_user"], unique=False)
        batch_op.create_index("ix_active_calls_term", ["term_domain", "term_user"], unique=False)

    op.create_table(
        "cdrs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cdr_id", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=128), nullable=False),
        sa.Column("reseller", sa.String(length=64), nullable=False),
        sa.Column("start_time", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_time", celito.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_time", celito.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("direction", sa.SmallInteger(), nullable=False),
        sa.Column("total_seconds", sa.Integer(), nullable=False),
        sa.Column("talking_seconds", sa.Integer(), nullable=False),
        sa.Column("hold_seconds", sa.Integer(), nullable=False),
        sa.Column("orig_callid", sa.String(length=128), nullable=True),
        sa.Column("orig_user", sa.String(length=64), nullable=True),
        sa.Column("orig_domain", sa.String(length=128), nullable=True),
        sa.Column("orig_site", sa.String(length=100), nullable=True),
        sa.Column("orig_department", sa.String(length=100), nullable=True),
        sa.Column("caller", sa.String(length=64), nullable=True),
        sa.Column("term_callid", sa.String(length=128), nullable=True),
        sa.Column("term_user", sa.String(length=64), nullable=True),
        sa.Column("term_domain", sa.String(length=128), nullable=True),
        sa.Column("term_site", sa.String(length=100), nullable=True),
        sa.Column("term_department", sa.String(length=100), nullable=True),
        sa.Column("dialled", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_cdrs_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("cdr_id", name=op.f("uq_cdrs_cdr_id")),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cdrs_domain_orig_user", ["domain_id", "orig_user", "start_time"], unique=False
        )
        batch_op.create_index(
            "ix_cdrs_domain_start",
            ["domain_id", "start_time", "direction", "total_seconds"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cdrs_domain_term_user", ["domain_id", "term_user", "start_time"], unique=False
        )
        batch_op.create_index(
            "ix_cdrs_start",
            ["start_time", "domain_id", "direction", "total_seconds"],
            unique=False,
        )

    op.create_table(
        "user_presence",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_user_presence_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain_id", "user", name=op.f("pk_user_presence")),
    )
    with op.batch_alter_table("user_presence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_user_presence_domain_changed", ["domain_id", "changed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("user_presence", schema=None) as batch_op:
        batch_op.drop_index("ix_user_presence_domain_changed")

    op.drop_table("user_presence")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_start")
        batch_op.drop_index("ix_cdrs_domain_term_user")
        batch_op.drop_index("ix_cdrs_domain_start")
        batch_op.drop_index("ix_cdrs_domain_orig_user")

    op.drop_table("cdrs")
    with op.batch_alter_table("active_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_active_calls_term")
        batch_op.drop_index("ix_active_calls_orig")

    op.drop_table("active_calls")
