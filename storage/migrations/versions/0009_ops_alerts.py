"""ops_alerts: troubles with newswatch itself and when operators were last told

Revision ID: 0009_ops_alerts
Revises: 0008_story_merges
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ops_alerts"
down_revision = "0008_story_merges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_alerts",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("ops_alerts")
