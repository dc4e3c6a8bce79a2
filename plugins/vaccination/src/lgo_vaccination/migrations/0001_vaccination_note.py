"""vaccination: notes de vaccination

Revision ID: vaccination_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "vaccination_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vaccination_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id"), index=True),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
        sa.Column("vaccine_label", sa.String(200), nullable=False),
        sa.Column("cip13", sa.String(13), nullable=False),
        sa.Column("cis", sa.String(8)),
        sa.Column("atc", sa.String(7)),
        sa.Column("disease_fr", sa.String(120), nullable=False),
        sa.Column("lot_number", sa.String(40), nullable=False),
        sa.Column("lot_expiry", sa.Date),
        sa.Column("act_code", sa.String(8)),
        sa.Column("act_type", sa.String(16), nullable=False),
        sa.Column("route_code", sa.String(20), nullable=False),
        sa.Column("site_code", sa.String(20), nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hidden_from_patient", sa.Boolean, nullable=False),
        sa.Column("masked_from_professionals", sa.Boolean, nullable=False),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("health_document.id")),
        sa.Column("replaces_note_id", sa.Integer, sa.ForeignKey("vaccination_note.id")),
        sa.Column("validated_by", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vaccination_note")
