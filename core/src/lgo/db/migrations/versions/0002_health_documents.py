"""Health documents (note de vaccination, CR d'entretien, BPM...): the kernel's document entity.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "health_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("author_operator_id", sa.Integer(), nullable=False),
        sa.Column("unique_id", sa.String(length=128), nullable=False),
        sa.Column("set_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("type_display", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "validated", "replaced", "deprecated", name="documentstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("confidentiality", sa.String(length=1), nullable=False),
        sa.Column("hidden_from_patient", sa.Boolean(), nullable=False),
        sa.Column("hidden_from_legal_representatives", sa.Boolean(), nullable=False),
        sa.Column("masked_from_professionals", sa.Boolean(), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("source_plugin", sa.String(length=64), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("validated_by", sa.Integer(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_operator_id"], ["operator.id"], name=op.f("fk_health_document_author_operator_id_operator")
        ),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_health_document_invoice_id_invoice")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_health_document_patient_id_patient")),
        sa.ForeignKeyConstraint(["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_health_document_pharmacy_id_pharmacy")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["health_document.id"], name=op.f("fk_health_document_replaces_id_health_document")
        ),
        sa.ForeignKeyConstraint(
            ["validated_by"], ["operator.id"], name=op.f("fk_health_document_validated_by_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_document")),
        sa.UniqueConstraint("unique_id", name=op.f("uq_health_document_unique_id")),
    )
    with op.batch_alter_table("health_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_document_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_document_pharmacy_id"), ["pharmacy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_document_set_id"), ["set_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_health_document_type_code"), ["type_code"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("health_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_document_type_code"))
        batch_op.drop_index(batch_op.f("ix_health_document_set_id"))
        batch_op.drop_index(batch_op.f("ix_health_document_pharmacy_id"))
        batch_op.drop_index(batch_op.f("ix_health_document_patient_id"))

    op.drop_table("health_document")
