"""audio: greetings, music on hold, hold messages; voicemail boxes and messages

Revision ID: 0005_audio
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import celito.db

revision: str = "0005_audio"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audio_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("codec", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("bits_per_sample", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("script", sa.String(length=2000), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_audio_files_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audio_files_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audio_files")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_audio_files_storage_name")),
    )
    with op.batch_alter_table("audio_files", schema=None) as batch_op:
        batch_op.create_index("ix_audio_files_domain_user", ["domain_id", "user_id"], unique=False)
        batch_op.create_index(
            "uq_audio_files_domain_kind_index",
            ["domain_id", "kind", "ordinal"],
            unique=True,
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.create_index(
            "uq_audio_files_user_kind_index",
            ["user_id", "kind", "ordinal"],
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )

    op.create_table(
        "voicemail_boxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("greeting_index", sa.Integer(), nullable=False),
        sa.Column("user_control_enabled", sa.Boolean(), nullable=False),
        sa.Column("receive_broadcast_enabled", sa.Boolean(), nullable=False),
        sa.Column("announce_datetime_received", sa.Boolean(), nullable=False),
        sa.Column("announce_caller_id", sa.Boolean(), nullable=False),
        sa.Column("sort_newest_first", sa.Boolean(), nullable=False),
        sa.Column("transcription", sa.String(length=16), nullable=False),
        sa.Column("email_alert_enabled", sa.Boolean(), nullable=False),
        sa.Column("email_alert_behavior", sa.String(length=16), nullable=False),
        sa.Column("email_alert_cc_csv", sa.String(length=1000), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_voicemail_boxes_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_voicemail_boxes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_boxes")),
        sa.UniqueConstraint("user_id", name=op.f("uq_voicemail_boxes_user_id")),
    )
    with op.batch_alter_table("voicemail_boxes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voicemail_boxes_domain_id"), ["domain_id"], unique=False
        )

    op.create_table(
        "voicemail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=80), nullable=False),
        sa.Column("storage_name", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("codec", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("caller_id_number", sa.String(length=64), nullable=False),
        sa.Column("caller_id_name", sa.String(length=100), nullable=False),
        sa.Column("from_host", sa.String(length=255), nullable=False),
        sa.Column("forwarded_from", sa.String(length=255), nullable=False),
        sa.Column("transcription", sa.Text(), nullable=False),
        sa.Column("received_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("folder_changed_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", celito.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_voicemail_messages_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_voicemail_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_messages")),
        sa.UniqueConstraint("filename", name=op.f("uq_voicemail_messages_filename")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_voicemail_messages_storage_name")),
    )
    with op.batch_alter_table("voicemail_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voicemail_messages_domain_id"), ["domain_id"], unique=False
        )
        batch_op.create_index(
            "ix_voicemail_messages_user_folder", ["user_id", "folder"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemail_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_voicemail_messages_user_folder")
        batch_op.drop_index(batch_op.f("ix_voicemail_messages_domain_id"))

    op.drop_table("voicemail_messages")
    with op.batch_alter_table("voicemail_boxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voicemail_boxes_domain_id"))

    op.drop_table("voicemail_boxes")
    with op.batch_alter_table("audio_files", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_audio_files_user_kind_index",
            sqlite_where=sa.text("user_id IS NOT NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_audio_files_domain_kind_index",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        )
        batch_op.drop_index("ix_audio_files_domain_user")

    op.drop_table("audio_files")
