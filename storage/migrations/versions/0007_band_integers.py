"""band rows as plain integers: times in microseconds since 1970, no foreign keys

An article writes some 67 band rows. As 26 bytes of text (SQLite) the time made the key
three times longer than the rest of it, and each row's two foreign keys cost two lookups of
its parents; without both, a flushed band costs about half as much to insert, commit and
checkpoint. ``pending_bands`` keeps its foreign keys (one row per article) and takes the
same time format, so a flush copies the value as it is.

Revision ID: 0007_band_integers
Revises: 0006_pending_bands
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007_band_integers"
down_revision = "0006_pending_bands"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BANDS, _PENDING = "story_sketch_bands", "pending_bands"
_BAND_COLUMNS = "band_key, published, article_id, story_id"
_PENDING_COLUMNS = "article_id, story_id, published, keys"

# SQLite keeps SQLAlchemy's times as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text, and times a
# driver wrote itself may end in an offset. strftime's seconds are taken without the fraction,
# which it would round toward zero (a time just before 1970 came out a second late).
_SQLITE_TO_MICROS = (
    "(CAST(strftime('%s', CASE WHEN substr(published, 20, 1) = '.' THEN substr(published, 1, 19)"
    " || substr(published, 27) ELSE published END) AS INTEGER) * 1000000 + CASE WHEN"
    " substr(published, 20, 1) = '.' THEN CAST(substr(published, 21, 6) AS INTEGER) ELSE 0 END)"
)
_SQLITE_FROM_MICROS = (
    "(strftime('%Y-%m-%d %H:%M:%S', (published - ((published % 1000000) + 1000000) % 1000000)"
    " / 1000000, 'unixepoch') || '.' || printf('%06d', ((published % 1000000) + 1000000)"
    " % 1000000))"
)
_PG_TO_MICROS = "(extract(epoch FROM published) * 1000000)::bigint"
_PG_FROM_MICROS = "to_timestamp(0) + published * interval '1 microsecond'"


def _band_table(name: str, time: sa.types.TypeEngine[Any], *, references: bool) -> None:
    keys = (
        [
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        ]
        if references
        else []
    )
    op.create_table(
        name,
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("published", time, nullable=False),
        sa.Column("article_id", _ID, nullable=False),
        sa.Column("story_id", _ID, nullable=False),
        *keys,
        sa.PrimaryKeyConstraint(
            "band_key", "published", "article_id", name="pk_story_sketch_bands"
        ),
        sqlite_with_rowid=False,
    )


def _pending_table(name: str, time: sa.types.TypeEngine[Any]) -> None:
    op.create_table(
        name,
        sa.Column("article_id", _ID, autoincrement=False, nullable=False),
        sa.Column("story_id", _ID, nullable=False),
        sa.Column("published", time, nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )


def _sqlite_rebuild(time: sa.types.TypeEngine[Any], convert: str, *, references: bool) -> None:
    """SQLite cannot change a column's type: build the tables anew and copy the rows."""
    _band_table(f"{_BANDS}_next", time, references=references)
    converted = _BAND_COLUMNS.replace("published", f"{convert} AS published")
    op.execute(
        f"INSERT INTO {_BANDS}_next ({_BAND_COLUMNS}) SELECT {converted} FROM {_BANDS} "
        "ORDER BY 1, 2, 3"
    )
    op.drop_index("ix_story_sketch_bands_article_id", table_name=_BANDS)
    op.drop_table(_BANDS)
    op.rename_table(f"{_BANDS}_next", _BANDS)
    op.create_index("ix_story_sketch_bands_article_id", _BANDS, ["article_id"])

    _pending_table(f"{_PENDING}_next", time)
    converted = _PENDING_COLUMNS.replace("published", f"{convert} AS published")
    op.execute(
        f"INSERT INTO {_PENDING}_next ({_PENDING_COLUMNS}) SELECT {converted} FROM {_PENDING}"
    )
    op.drop_table(_PENDING)
    op.rename_table(f"{_PENDING}_next", _PENDING)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(sa.BigInteger(), _SQLITE_TO_MICROS, references=False)
        return
    for key in sa.inspect(op.get_bind()).get_foreign_keys(_BANDS):
        assert key["name"], "PostgreSQL names every constraint"
        op.drop_constraint(key["name"], _BANDS, type_="foreignkey")
    for table in (_BANDS, _PENDING):
        op.alter_column(
            table,
            "published",
            type_=sa.BigInteger(),
            existing_nullable=False,
            postgresql_using=_PG_TO_MICROS,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(sa.DateTime(timezone=True), _SQLITE_FROM_MICROS, references=True)
        return
    for table in (_BANDS, _PENDING):
        op.alter_column(
            table,
            "published",
            type_=sa.DateTime(timezone=True),
            existing_nullable=False,
            postgresql_using=_PG_FROM_MICROS,
        )
    op.create_foreign_key(None, _BANDS, "articles", ["article_id"], ["id"], ondelete="CASCADE")
    op.create_foreign_key(None, _BANDS, "stories", ["story_id"], ["id"])
