"""Indexes for a group of pharmacies in one database: a pharmacy's journal, day's invoices and outbox summary through
indexes that start with the pharmacy; a lot's stock summed from an index (decision 1401). The single-column indexes
they make redundant are dropped (every index costs each insert).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, new index, its columns, the single-column index it replaces, that index's column)
REPLACED = (
    (
        "audit_entry",
        "ix_audit_entry_pharmacy_id_id",
        ["pharmacy_id", "id"],
        "ix_audit_entry_pharmacy_id",
        "pharmacy_id",
    ),
    (
        "invoice",
        "ix_invoice_pharmacy_id_validated_at",
        ["pharmacy_id", "validated_at"],
        "ix_invoice_pharmacy_id",
        "pharmacy_id",
    ),
    (
        "outbox_message",
        "ix_outbox_message_pharmacy_id_status",
        ["pharmacy_id", "status"],
        "ix_outbox_message_pharmacy_id",
        "pharmacy_id",
    ),
    (
        "stock_movement",
        "ix_stock_movement_lot_id_quantity",
        ["lot_id", "quantity"],
        "ix_stock_movement_lot_id",
        "lot_id",
    ),
)


def upgrade() -> None:
    for table, name, columns, old, _column in REPLACED:
        op.create_index(name, table, columns, unique=False)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, name, _columns, old, column in REPLACED:
        op.create_index(old, table, [column], unique=False)
        op.drop_index(name, table_name=table)
