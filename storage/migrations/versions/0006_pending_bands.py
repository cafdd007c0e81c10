"""pending bands: articles whose band rows are written later, many at a time in key order

Revision ID: 0006_pending_bands
Revises: 0005_band_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pending_bands"
down_revision = "0005_band_index"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_bands",
        sa.Column("article_id", _ID, autoincrement=False, nullable=False),
        sa.Column("story_id", _ID, nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )


def downgrade() -> None:
    op.drop_table("pending_bands")
