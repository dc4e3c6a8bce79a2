"""Billings being prepared at a counter (``counter_draft``); a renewal number on prescriptions.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("prescription_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_counter_draft_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"], name=op.f("fk_counter_draft_operator_id_operator")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_counter_draft_patient_id_patient")),
        sa.ForeignKeyConstraint(
            ["prescription_id"], ["prescription.id"], name=op.f("fk_counter_draft_prescription_id_prescription")
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_counter_draft_invoice_id_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_draft")),
    )
    with op.batch_alter_table("counter_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_draft_pharmacy_id"), ["pharmacy_id"], unique=False)
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewal_number", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.drop_column("renewal_number")
    with op.batch_alter_table("counter_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_draft_pharmacy_id"))
    op.drop_table("counter_draft")
