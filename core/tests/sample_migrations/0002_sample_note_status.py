"""sample: note status

Revision ID: sample_0002
Revises: sample_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sample_0002"
down_revision = "sample_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sample_note") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="draft"))


def downgrade() -> None:
    with op.batch_alter_table("sample_note") as batch:
        batch.drop_column("status")
