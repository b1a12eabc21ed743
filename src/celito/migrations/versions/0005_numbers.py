"""numbers: SIP devices, phone numbers (DIDs), dial plans and dial rules

Revision ID: 0005_numbers
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0005_numbers"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialplans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_dialplans_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialplans")),
        sa.UniqueConstraint("domain_id", "name", name="uq_dialplans_domain_name"),
    )
    with op.batch_alter_table("dialplans", schema=None) as batch_op:
        batch_op.create_index("ix_dialplans_name", ["name"], unique=False)

    op.create_table(
        "phonenumbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("parameter", sa.String(length=255), nullable=False),
        sa.Column("dest_user", sa.String(length=128), nullable=False),
        sa.Column("dest_host", sa.String(length=128), nullable=False),
        sa.Column("src_name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_phonenumbers_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phonenumbers")),
        sa.UniqueConstraint("number", name=op.f("uq_phonenumbers_number")),
    )
    with op.batch_alter_table("phonenumbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phonenumbers_dest_user"), ["dest_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_phonenumbers_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("sip_secret", sa.String(length=255), nullable=False),
        sa.Column("provisioning_secret", sa.String(length=255), nullable=False),
        sa.Column("mac", sa.String(length=12), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("reg_registered", sa.Boolean(), nullable=False),
        sa.Column("reg_contact", sa.String(length=512), nullable=False),
        sa.Column("reg_user_agent", sa.String(length=255), nullable=False),
        sa.Column("reg_ip", sa.String(length=64), nullable=False),
        sa.Column("reg_core_server", sa.String(length=128), nullable=False),
        sa.Column("reg_at", celito.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reg_expires_at", celito.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reg_latency", sa.JSON(), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_devices_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_devices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("domain_id", "name", name="uq_devices_domain_name"),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_mac"), ["mac"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dialrules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialplan_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=600), nullable=False),
        sa.Column("match_to", sa.String(length=160), nullable=False),
        sa.Column("match_from", sa.String(length=160), nullable=False),
        sa.Column("day_of_week", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("end_date", sa.String(length=10), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("parameter", sa.String(length=255), nullable=False),
        sa.Column("dest_scheme", sa.String(length=16), nullable=False),
        sa.Column("dest_user", sa.String(length=128), nullable=False),
        sa.Column("dest_host", sa.String(length=128), nullable=False),
        sa.Column("src_name", sa.String(length=128), nullable=False),
        sa.Column("src_scheme", sa.String(length=16), nullable=False),
        sa.Column("src_user", sa.String(length=128), nullable=False),
        sa.Column("src_host", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialplan_id"],
            ["dialplans.id"],
            name=op.f("fk_dialrules_dialplan_id_dialplans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialrules")),
        sa.UniqueConstraint("dialplan_id", "rule_key", name="uq_dialrules_plan_key"),
    )


def downgrade() -> None:
    op.drop_table("dialrules")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_user_id"))
        batch_op.drop_index(batch_op.f("ix_devices_mac"))

    op.drop_table("devices")
    with op.batch_alter_table("phonenumbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phonenumbers_domain_id"))
        batch_op.drop_index(batch_op.f("ix_phonenumbers_dest_user"))

    op.drop_table("phonenumbers")
    with op.batch_alter_table("dialplans", schema=None) as batch_op:
        batch_op.drop_index("ix_dialplans_name")

    op.drop_table("dialplans")
