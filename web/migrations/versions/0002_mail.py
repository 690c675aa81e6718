"""mail in and out, retention (issue 25)

Revision ID: 0002_mail
Revises: 0001
Create Date: 2026-12-07 13:00:00

A branch beside the desk's migration: web.db upgrades to every head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_mail"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("sender", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_mail_messages_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("message_key", name=op.f("uq_mail_messages_message_key")),
    )
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_messages_case_id"), ["case_id"], unique=False)

    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("file", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outgoing_mails_case_id_cases")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_outgoing_mails_created_by_users")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_outgoing_mails_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
    )
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mails_case_id"), ["case_id"], unique=False)

    op.create_table(
        "destruction_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_destruction_reports_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_reports")),
    )
    op.create_table(
        "case_purges",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_purges_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["destruction_reports.id"], name=op.f("fk_case_purges_report_id_destruction_reports")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_purges")),
    )


def downgrade() -> None:
    op.drop_table("case_purges")
    op.drop_table("destruction_reports")
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mails_case_id"))
    op.drop_table("outgoing_mails")
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_messages_case_id"))
    op.drop_table("mail_messages")
