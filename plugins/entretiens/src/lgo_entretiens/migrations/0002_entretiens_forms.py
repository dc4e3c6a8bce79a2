"""entretiens: the counter's forms — answers of each interview kind, drafts kept and changed, what follows the
validation (médecin traitant by MSSanté, the act billed)

Revision ID: entretiens_0002
Revises: entretiens_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "entretiens_0002"
down_revision = "entretiens_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entretiens_record", sa.Column("answers", sa.JSON))
    op.add_column("entretiens_record", sa.Column("follow_up", sa.JSON))
    op.add_column("entretiens_record", sa.Column("invoice_id", sa.Integer))
    op.add_column("entretiens_record", sa.Column("message_id", sa.Integer))
    op.add_column("entretiens_record", sa.Column("updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    for column in ("updated_at", "message_id", "invoice_id", "follow_up", "answers"):
        with op.batch_alter_table("entretiens_record") as batch:
            batch.drop_column(column)
