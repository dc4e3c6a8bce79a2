"""mssante: the mailbox at the counter — messages handled (by whom, when), the body written for an outgoing
message, replies and forwards, documents attached to a patient by hand (by whom)

Revision ID: mssante_0002
Revises: mssante_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mssante_0002"
down_revision = "mssante_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mssante_message", sa.Column("handled_at", sa.DateTime(timezone=True)))
    op.add_column("mssante_message", sa.Column("handled_by", sa.Integer))
    op.add_column("mssante_message", sa.Column("body", sa.Text))
    op.add_column("mssante_message", sa.Column("in_reply_to", sa.Integer))
    op.add_column("mssante_message", sa.Column("forward_of", sa.Integer))
    op.add_column("mssante_received_document", sa.Column("attached_by", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("mssante_received_document") as batch:
        batch.drop_column("attached_by")
    with op.batch_alter_table("mssante_message") as batch:
        batch.drop_column("forward_of")
        batch.drop_column("in_reply_to")
        batch.drop_column("body")
        batch.drop_column("handled_by")
        batch.drop_column("handled_at")
