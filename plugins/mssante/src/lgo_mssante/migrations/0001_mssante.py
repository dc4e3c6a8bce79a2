"""mssante: mailboxes, habilitations, messages, received documents

Revision ID: mssante_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mssante_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mssante_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), index=True),
        sa.Column("login", sa.String(254), nullable=False),
        sa.Column("password_encrypted", sa.Text, nullable=False),
        sa.Column("smtp_host", sa.String(254)),
        sa.Column("smtp_port", sa.Integer),
        sa.Column("imap_host", sa.String(254)),
        sa.Column("imap_port", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.UniqueConstraint("pharmacy_id", "address"),
    )
    op.create_table(
        "mssante_habilitation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("mssante_account.id"), nullable=False),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("habilitation", sa.String(20), nullable=False),
        sa.UniqueConstraint("account_id", "operator_id"),
    )
    op.create_table(
        "mssante_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("mssante_account.id"), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("message_id", sa.String(254), nullable=False),
        sa.Column("peer", sa.String(2000), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(8)),
        sa.Column("reason_fr", sa.String(1000)),
        sa.Column("raw_encrypted", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pharmacy_id", "direction", "message_id", "account_id"),
    )
    op.create_table(
        "mssante_received_document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("mssante_message.id"), nullable=False),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("unique_id", sa.String(128), nullable=False),
        sa.Column("type_code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mssante_received_document")
    op.drop_table("mssante_message")
    op.drop_table("mssante_habilitation")
    op.drop_table("mssante_account")
