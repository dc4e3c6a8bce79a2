"""depistage: TROD records

Revision ID: depistage_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "depistage_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "depistage_test",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("prescriber_name", sa.String(200)),
        sa.Column("prescriber_rpps", sa.String(11)),
        sa.Column("prescribed_on", sa.Date),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("eligible", sa.Boolean),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("device_udi", sa.String(200)),
        sa.Column("device_gtin", sa.String(14)),
        sa.Column("device_lot", sa.String(40)),
        sa.Column("device_expiry", sa.Date),
        sa.Column("device_serial", sa.String(40)),
        sa.Column("device_maker", sa.String(100)),
        sa.Column("device_reference", sa.String(60)),
        sa.Column("tested_at", sa.DateTime(timezone=True)),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("positive", sa.Boolean),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("antibiotic", sa.String(32)),
        sa.Column("dose_mg", sa.Integer),
        sa.Column("intakes_per_day", sa.Integer),
        sa.Column("days", sa.Integer),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id")),
        sa.Column("boxes", sa.Integer),
        sa.Column("orientation_fr", sa.Text, nullable=False),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id")),
        sa.Column("prescription_id", sa.Integer, sa.ForeignKey("prescription.id")),
        sa.Column("lot_number", sa.String(40)),
        sa.Column("attestation_document_id", sa.Integer, sa.ForeignKey("health_document.id")),
        sa.Column("dispensation_document_id", sa.Integer, sa.ForeignKey("health_document.id")),
        sa.Column("physician_name", sa.String(200)),
        sa.Column("physician_rpps", sa.String(11)),
        sa.Column("physician_mssante", sa.String(200)),
        sa.Column("fallback", sa.String(16), nullable=False),
        sa.Column("fallback_message_id", sa.Integer),
        sa.Column("validated_by", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("depistage_test")
