"""stories: sketch bands for near-duplicate lookup, article sketches, alert rounds

Revision ID: 0004_stories
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stories"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "story_sketch_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("story_id", _ID, nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        sa.PrimaryKeyConstraint("band_key", "article_id"),
    )
    op.create_index(
        "ix_story_sketch_bands_key_published", "story_sketch_bands", ["band_key", "published"]
    )
    op.create_index("ix_story_sketch_bands_article_id", "story_sketch_bands", ["article_id"])
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("content_hash", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("canonical_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sketch", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("update_count", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_alerts_rule_story_channel", type_="unique")
        batch.create_unique_constraint(
            "uq_alerts_rule_story_channel_round", ["rule", "story_id", "channel", "round"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("uq_alerts_rule_story_channel_round", type_="unique")
        batch.create_unique_constraint(
            "uq_alerts_rule_story_channel", ["rule", "story_id", "channel"]
        )
        batch.drop_column("round")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("update_count")
        batch.drop_column("sketch")
        batch.drop_column("canonical_url")
    op.drop_index("ix_story_sketch_bands_article_id", table_name="story_sketch_bands")
    op.drop_index("ix_story_sketch_bands_key_published", table_name="story_sketch_bands")
    op.drop_table("story_sketch_bands")
