"""prevention: Mon bilan prévention

Revision ID: prevention_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prevention_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prevention_bilan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("band", sa.String(8), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("additional_act", sa.String(8)),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id")),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("health_document.id")),
        sa.Column("physician_name", sa.String(200)),
        sa.Column("physician_mssante", sa.String(200)),
        sa.Column("physician_status_fr", sa.String(300), nullable=False),
        sa.Column("mssante_message_id", sa.Integer),
        sa.Column("validated_by", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prevention_bilan")
