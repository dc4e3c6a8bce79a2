"""dp: consent, fed lines, bulletins, sync cursor

Revision ID: dp_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dp_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dp_patient",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_on", sa.Date),
        sa.Column("refused_on", sa.Date),
        sa.Column("refusal_valid_until", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pharmacy_id", "patient_id"),
    )
    op.create_table(
        "dp_line",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id")),
        sa.Column("dispensation_id", sa.Integer, sa.ForeignKey("dispensation.id")),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("stock_lot.id")),
        sa.Column("cip13", sa.String(13), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("lot_number", sa.String(40)),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("dispensed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces", sa.String(80)),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reason_fr", sa.String(300), nullable=False),
        sa.Column("masked", sa.Boolean, nullable=False),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pharmacy_id", "reference"),
    )
    op.create_table(
        "dp_bulletin",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("remote_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("issuer", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.Integer, sa.ForeignKey("operator.id")),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), index=True),
        sa.UniqueConstraint("pharmacy_id", "remote_id"),
    )
    op.create_table(
        "dp_sync",
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), primary_key=True),
        sa.Column("bulletin_cursor", sa.String(64)),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True)),
        sa.Column("last_error_fr", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dp_sync")
    op.drop_table("dp_bulletin")
    op.drop_table("dp_line")
    op.drop_table("dp_patient")
