"""eordonnance: executions

Revision ID: eordonnance_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "eordonnance_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eordonnance_execution",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("identifier", sa.String(15), nullable=False, index=True),
        sa.Column("renewal_number", sa.Integer, nullable=False),
        sa.Column("prescription", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("prescription_id", sa.Integer, sa.ForeignKey("prescription.id"), index=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id"), index=True),
        sa.Column("remote_execution_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("eordonnance_execution")
