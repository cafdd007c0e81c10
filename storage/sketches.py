"""The persistent near-duplicate index: LSH band keys in an indexed table.

A lookup is ``band_key IN (…) AND published >= :since`` on ``(band_key, published)``, capped
per key, so its cost follows the number of similar articles, not the size of the store. On
SQLite new articles' bands reach the table later, in bulk (``storage.backlog``); lookups see
them in the backlog until then.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.backlog import BandBacklog, BandHit, Indexed, bands_insert_sql
from storage.models import ArticleRow, StorySketchBand
from storage.sql import (
    SqliteStatement,
    bind_processors,
    placeholders,
    result_processors,
    sqlite_many,
)

PER_KEY_LIMIT = 50
KEYS_PER_QUERY = 2_000  # well under the bound-parameter limits of SQLite and asyncpg
# Each statement's rows are turned into parameters in one go on the event loop; at 500 rows
# that stays a few milliseconds even on a slow machine.
ROWS_PER_STATEMENT = 500


class BandRow(NamedTuple):
    story_id: int
    article_id: int
    sketch: bytes
    published: datetime
    keys: frozenset[int]  # the asked-for keys this article is indexed under


async def band_candidates(
    session: AsyncSession,
    keys: Sequence[int],
    since: datetime,
    per_key: int = PER_KEY_LIMIT,
    backlog: BandBacklog | None = None,
) -> list[BandRow]:
    """Stored articles sharing any key, published at or after ``since``, each listed once
    with the keys it shares: one lookup can serve a batch of articles. Articles whose bands
    wait in the ``backlog`` are found there, under the same per-key limit."""
    found: dict[int, tuple[int, bytes, datetime]] = {}
    shared: dict[int, set[int]] = {}
    wanted = list(set(keys))
    hits: list[BandHit] = []
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        hits += await _bands(session, wanted[start : start + KEYS_PER_QUERY], since, per_key)
    if backlog is not None and len(backlog):
        hits = _most_recent(hits + backlog.hits(wanted, since), per_key)
    for key, story_id, article_id, sketch, published in hits:
        found.setdefault(article_id, (story_id, sketch, published))
        shared.setdefault(article_id, set()).add(key)
    return [
        BandRow(story_id, article_id, sketch, published, frozenset(shared[article_id]))
        for article_id, (story_id, sketch, published) in found.items()
    ]


def _most_recent(hits: list[BandHit], per_key: int) -> list[BandHit]:
    """Per key, the ``per_key`` most recent articles (an article waiting in the backlog and
    already flushed is counted once)."""
    by_key: dict[int, dict[int, BandHit]] = {}
    for hit in hits:
        by_key.setdefault(hit[0], {}).setdefault(hit[2], hit)
    kept: list[BandHit] = []
    for found in by_key.values():
        ranked = sorted(found.values(), key=lambda hit: hit[4], reverse=True)
        kept += ranked[:per_key]
    return kept


async def _bands(
    session: AsyncSession, keys: list[int], since: datetime, per_key: int
) -> list[BandHit]:
    """(key, story, article, sketch, published) rows; articles without a sketch (stored
    before sketches existed) are left out here.

    On SQLite the keys go as one JSON array to a statement compiled once: rendering and
    binding 1,500 keys of an ``IN`` list took SQLAlchemy 2 ms of the event loop per lookup,
    three times what the whole lookup costs it this way, and a round of new entries makes
    hundreds of lookups.
    """
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        query = _ranked(StorySketchBand.band_key.in_(keys), since, per_key)
        rows = await connection.execute(query)
        return [(key, story, article, sketch, when) for key, story, article, sketch, when in rows]
    [to_stamp] = bind_processors(connection.dialect, StorySketchBand, ["published"])
    [from_stamp] = result_processors(connection.dialect, StorySketchBand, ["published"])
    assert to_stamp is not None and from_stamp is not None  # EpochMicros converts both ways
    params = _SQLITE_BANDS.params(keys=json.dumps(keys), since=to_stamp(since), per_key=per_key)
    raw: Any = await connection.exec_driver_sql(_SQLITE_BANDS.sql, tuple(params))
    return [
        (key, story, article, sketch, from_stamp(stamp))
        for key, story, article, sketch, stamp in raw
    ]


def _ranked(wanted: Any, since: Any, per_key: Any) -> Select[int, int, int, bytes, datetime]:
    """Per key that ``wanted`` (a condition on the band key) lets through, the ``per_key``
    most recently published articles indexed under it."""
    bands = StorySketchBand
    ranked = (
        select(
            bands.band_key,
            bands.article_id,
            bands.story_id,
            bands.published,
            func.row_number()
            .over(partition_by=bands.band_key, order_by=bands.published.desc())
            .label("rank"),
        )
        .where(wanted, bands.published >= since)
        .subquery()
    )
    return (
        select(
            ranked.c.band_key,
            ranked.c.story_id,
            ranked.c.article_id,
            ArticleRow.sketch,
            ranked.c.published,
        )
        .join(ArticleRow, ArticleRow.id == ranked.c.article_id)
        .where(ranked.c.rank <= per_key, ArticleRow.sketch.is_not(None))
    )


_JSON_KEYS = func.json_each(bindparam("keys", type_=String())).table_valued("value")
_SQLITE_BANDS = SqliteStatement(
    _ranked(
        StorySketchBand.band_key.in_(select(_JSON_KEYS.c.value)),
        bindparam("since"),
        bindparam("per_key"),
    ),
    "keys",
    "since",
    "per_key",
)


async def add_bands(
    session: AsyncSession,
    *,
    story_id: int,
    article_id: int,
    keys: Sequence[int],
    published: datetime,
    replace: bool = False,
    sketch: bytes = b"",
    backlog: BandBacklog | None = None,
) -> None:
    """Index an article under its keys; ``replace`` drops what an earlier version had."""
    if replace:
        await session.execute(
            delete(StorySketchBand).where(StorySketchBand.article_id == article_id)
        )
        if backlog is not None:
            await backlog.forget(session, article_id)
    await index_articles(session, [Indexed(story_id, article_id, keys, published, sketch)], backlog)


async def index_articles(
    session: AsyncSession, articles: Sequence[Indexed], backlog: BandBacklog | None = None
) -> None:
    """Index stored articles: into the ``backlog`` when it defers, else at once."""
    if backlog is not None and backlog.defer:
        await backlog.add(session, articles)
    else:
        await add_bands_many(session, articles)


async def add_bands_many(session: AsyncSession, articles: Sequence[Indexed]) -> None:
    """Index new articles in this transaction.

    An article has some 67 band rows, so this is the most-written table by far. The rows go
    to the driver as plain tuples: SQLAlchemy's per-row parameter processing cost more than
    SQLite's insert itself, and the article's timestamp needs converting once, not per key.
    On SQLite each chunk is one many-row INSERT (see ``sqlite_many``). Rows are sent a chunk
    at a time to keep each step short for the event loop.
    """
    if not articles:
        return
    connection = await session.connection()
    dialect = connection.dialect
    [stamp] = bind_processors(dialect, StorySketchBand, ["published"])
    rows: list[tuple[int, object, int, int]] = []
    for story_id, article_id, keys, published, _ in articles:
        when = stamp(published) if stamp else published
        rows.extend((key, when, article_id, story_id) for key in dict.fromkeys(keys))
    if dialect.name == "sqlite":
        await sqlite_many(connection, bands_insert_sql, rows, ROWS_PER_STATEMENT)
        return
    sql = bands_insert_sql("(" + ", ".join(placeholders(dialect, 4)) + ")")
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        await connection.exec_driver_sql(sql, rows[start : start + ROWS_PER_STATEMENT])
