"""dmp: the last consultation of each patient's DMP by the pharmacy (DMPi « dateAppelDMP »)

Revision ID: dmp_0002
Revises: dmp_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dmp_0002"
down_revision = "dmp_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dmp_consultation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("last_consulted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference_at", sa.DateTime(timezone=True)),
        sa.Column("last_operator_id", sa.Integer, sa.ForeignKey("operator.id")),
        sa.UniqueConstraint("pharmacy_id", "patient_id"),
    )


def downgrade() -> None:
    op.drop_table("dmp_consultation")
