"""stories.merged_into: a story found to be part of another, older one

Copies of one report can arrive in an order that starts two stories (a brief, then a rewrite
that shares little with it, then the original that matches both). The original bridges them;
the later story then points at the older one, its articles and alerts move there, and band
rows that still name it are read through this column.

Revision ID: 0008_story_merges
Revises: 0007_band_integers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_story_merges"
down_revision = "0007_band_integers"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("stories", sa.Column("merged_into", _ID, nullable=True))
    op.create_index("ix_stories_merged_into", "stories", ["merged_into"])


def downgrade() -> None:
    op.drop_index("ix_stories_merged_into", "stories")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of ``stories`` would have to drop the
    # table its articles and alerts point at.
    op.execute("ALTER TABLE stories DROP COLUMN merged_into")
