"""dmp: per-document DMP status

Revision ID: dmp_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dmp_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dmp_submission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("health_document.id"), nullable=False),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("unique_id", sa.String(128), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason_fr", sa.String(500)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("result", sa.String(16)),
        sa.Column("sends", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("pharmacy_id", "document_id"),
    )


def downgrade() -> None:
    op.drop_table("dmp_submission")
