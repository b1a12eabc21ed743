"""queues: call queues, agents, supervisors, auto attendants, conferences

Revision ID: 0005_queues
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0005_queues"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auto_attendants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=False),
        sa.Column("prompt", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("time_frame", sa.String(length=64), nullable=False),
        sa.Column("menu", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_auto_attendants_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_attendants")),
        sa.UniqueConstraint(
            "domain_id", "extension", "time_frame", name="uq_auto_attendants_domain_ext_tf"
        ),
        sa.UniqueConstraint("domain_id", "prompt", name="uq_auto_attendants_domain_prompt"),
    )
    op.create_table(
        "call_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("callqueue", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("overflow_application", sa.String(length=64), nullable=False),
        sa.Column("overflow_user", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_call_queues_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queues")),
        sa.UniqueConstraint("domain_id", "callqueue", name="uq_call_queues_domain_callqueue"),
    )
    op.create_table(
        "conferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("conference", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("leader_pin", sa.String(length=12), nullable=False),
        sa.Column("participants_pin", sa.String(length=12), nullable=False),
        sa.Column("speaker_pin", sa.String(length=12), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_conferences_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conferences")),
        sa.UniqueConstraint("domain_id", "conference", name="uq_conferences_domain_conference"),
    )
    op.create_table(
        "call_queue_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("availability_type", sa.String(length=20), nullable=False),
        sa.Column("single_call", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_call_queue_agents_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_call_queue_agents_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_call_queue_agents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queue_agents")),
        sa.UniqueConstraint("queue_id", "agent_id", name="uq_call_queue_agents_queue_agent"),
    )
    with op.batch_alter_table("call_queue_agents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_call_queue_agents_domain_user", ["domain_id", "user_id"], unique=False
        )

    op.create_table(
        "call_queue_supervisors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["call_queues.id"],
            name=op.f("fk_call_queue_supervisors_queue_id_call_queues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_call_queue_supervisors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_queue_supervisors")),
        sa.UniqueConstraint("queue_id", "user_id", name="uq_call_queue_supervisors_queue_user"),
    )
    with op.batch_alter_table("call_queue_supervisors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_queue_supervisors_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("call_queue_supervisors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_queue_supervisors_user_id"))

    op.drop_table("call_queue_supervisors")
    with op.batch_alter_table("call_queue_agents", schema=None) as batch_op:
        batch_op.drop_index("ix_call_queue_agents_domain_user")

    op.drop_table("call_queue_agents")
    op.drop_table("conferences")
    op.drop_table("call_queues")
    op.drop_table("auto_attendants")
