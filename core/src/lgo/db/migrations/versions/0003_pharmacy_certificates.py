"""The pharmacy's certificates (organisation certificate, PKCS#12 encrypted).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pharmacy_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pkcs12_encrypted", sa.Text(), nullable=False),
        sa.Column("passphrase_encrypted", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_pharmacy_certificate_pharmacy_id_pharmacy")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["operator.id"], name=op.f("fk_pharmacy_certificate_uploaded_by_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy_certificate")),
        sa.UniqueConstraint("pharmacy_id", "kind", name=op.f("uq_pharmacy_certificate_pharmacy_id_kind")),
    )
    with op.batch_alter_table("pharmacy_certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pharmacy_certificate_pharmacy_id"), ["pharmacy_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pharmacy_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pharmacy_certificate_pharmacy_id"))
    op.drop_table("pharmacy_certificate")
