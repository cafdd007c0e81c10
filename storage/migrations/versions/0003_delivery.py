"""delivery: alert batches (digests, quiet hours, rate overflow) and channel state (410 Gone)

Revision ID: 0003_delivery
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_batches",
        sa.Column("id", _ID, nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_channel", sa.String(length=256), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
        sa.UniqueConstraint("open_channel"),
    )
    op.create_index("ix_alert_batches_due", "alert_batches", ["status", "next_attempt_at"])
    op.create_table(
        "channel_states",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # No foreign key: SQLite could only add one by rebuilding the alerts table.
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("batch_id", _ID, nullable=True))
        batch.create_index("ix_alerts_batch_id", ["batch_id"])


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_batch_id")
        batch.drop_column("batch_id")
    op.drop_table("channel_states")
    op.drop_index("ix_alert_batches_due", table_name="alert_batches")
    op.drop_table("alert_batches")
