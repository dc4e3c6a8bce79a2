"""ins: identities and former matricules

Revision ID: ins_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ins_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ins_identity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("matricule", sa.String(15)),
        sa.Column("oid", sa.String(32)),
        sa.Column("traits", sa.JSON, nullable=False),
        sa.Column("insi_checked", sa.Boolean, nullable=False),
        sa.Column("document_checked", sa.Boolean, nullable=False),
        sa.Column("document_kind", sa.String(40)),
        sa.Column("doubtful", sa.Boolean, nullable=False),
        sa.Column("fictitious", sa.Boolean, nullable=False),
        sa.Column("prompts_left", sa.Integer),
        sa.Column("document_note", sa.String(200)),
        sa.Column("pending_result", sa.JSON),
        sa.Column("no_ins_reason", sa.String(120)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pharmacy_id", "patient_id", name="uq_ins_identity_pharmacy_id_patient_id"),
    )
    op.create_table(
        "ins_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pharmacy_id", sa.Integer, sa.ForeignKey("pharmacy.id"), nullable=False, index=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patient.id"), nullable=False, index=True),
        sa.Column("matricule", sa.String(15), nullable=False),
        sa.Column("oid", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ins_history")
    op.drop_table("ins_identity")
