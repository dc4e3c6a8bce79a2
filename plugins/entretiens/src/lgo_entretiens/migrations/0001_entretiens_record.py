"""entretiens: interviews and bilans partagés de médication

Revision ID: entretiens_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "entretiens_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entretiens_record",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("theme", sa.String(32), nullable=False),
        sa.Column("act_code", sa.String(8)),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("analysis", sa.Text, nullable=False),
        sa.Column("recommendations", sa.Text, nullable=False),
        sa.Column("medications", sa.JSON, nullable=False),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("health_document.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("entretiens_record")
