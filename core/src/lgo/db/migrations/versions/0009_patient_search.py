"""Patient search: normalised name words, and the birth-date and NIR indexes within a pharmacy.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _byte_ordered(length: int) -> sa.String:
    # Prefix ranges need byte order; PostgreSQL's default collation may be linguistic (fr_FR.UTF-8).
    return sa.String(length, collation="C" if op.get_bind().dialect.name == "postgresql" else None)


def upgrade() -> None:
    op.create_table(
        "patient_search_term",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("term", _byte_ordered(40), nullable=False),
        sa.Column("pharmacy_id", sa.Integer(), nullable=False),
        sa.Column("sort_key", _byte_ordered(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_search_term_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pharmacy_id"], ["pharmacy.id"], name=op.f("fk_patient_search_term_pharmacy_id_pharmacy")
        ),
        sa.PrimaryKeyConstraint("patient_id", "term", name=op.f("pk_patient_search_term")),
    )
    op.create_index(
        "ix_patient_search_term_lookup",
        "patient_search_term",
        ["pharmacy_id", "term", "sort_key", "patient_id"],
        unique=False,
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_vitale_nir")
        batch_op.create_index("ix_patient_pharmacy_id_vitale_nir", ["pharmacy_id", "vitale_nir"], unique=False)
        batch_op.create_index("ix_patient_pharmacy_id_birth_date", ["pharmacy_id", "birth_date"], unique=False)

    from lgo.domain.patient_search import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_pharmacy_id_birth_date")
        batch_op.drop_index("ix_patient_pharmacy_id_vitale_nir")
        batch_op.create_index("ix_patient_vitale_nir", ["vitale_nir"], unique=False)
    op.drop_index("ix_patient_search_term_lookup", table_name="patient_search_term")
    op.drop_table("patient_search_term")
