"""story sketch bands: one index that answers the lookup, no row ids on SQLite

The lookup is ``band_key IN (…) AND published >= :since``; with (band_key, published,
article_id) as the primary key, the table is that index and each new band costs one
ordered insert instead of three (row table, primary key, lookup index).

Revision ID: 0005_band_index
Revises: 0004_stories
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_band_index"
down_revision = "0004_stories"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = "band_key, published, article_id, story_id"


def _bands(name: str, key: tuple[str, ...], key_name: str, **options: Any) -> None:
    op.create_table(
        name,
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("story_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        sa.PrimaryKeyConstraint(*key, name=key_name),
        **options,
    )


def _replace(key: tuple[str, ...], key_name: str, lookup_index: bool, **options: Any) -> None:
    _bands("story_sketch_bands_next", key, key_name, **options)
    copy = f"INSERT INTO story_sketch_bands_next ({_COLUMNS}) SELECT {_COLUMNS} FROM "
    op.execute(copy + "story_sketch_bands")
    op.drop_index("ix_story_sketch_bands_article_id", table_name="story_sketch_bands")
    if not lookup_index:
        op.drop_index("ix_story_sketch_bands_key_published", table_name="story_sketch_bands")
    op.drop_table("story_sketch_bands")
    op.rename_table("story_sketch_bands_next", "story_sketch_bands")
    op.create_index("ix_story_sketch_bands_article_id", "story_sketch_bands", ["article_id"])
    if lookup_index:
        op.create_index(
            "ix_story_sketch_bands_key_published", "story_sketch_bands", ["band_key", "published"]
        )


def upgrade() -> None:
    _replace(
        ("band_key", "published", "article_id"),
        "pk_story_sketch_bands",
        lookup_index=False,
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    _replace(("band_key", "article_id"), "pk_story_sketch_bands_0004", lookup_index=True)
