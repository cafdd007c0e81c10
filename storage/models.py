"""The schema. Uniqueness that the product promises lives here as constraints, not in memory:

- an article once per (source, item_key): polling the same entry again stores nothing new;
- a drop file once per (source, sha256): the same content under another name is not re-read;
- an alert once per (rule, story, channel): two replicas can never send the same alert twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite's INTEGER PRIMARY KEY autoincrements only as plain INTEGER; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _aware_utc(value)

    # On SQLite each value would pass through two processors (this type's, then the dialect's
    # text format): one function does both. Every poll result writes three datetimes and every
    # claim reads three, thousands of times a minute. The text is exactly the dialect's.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _to_sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _from_sqlite_text
        return super().result_processor(dialect, coltype)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class EpochMicros(TypeDecorator[datetime]):
    """An aware UTC datetime stored as microseconds since 1970, for the band index: in its
    key an 8-byte integer instead of 26 bytes of text on SQLite, so more rows share a page,
    and a flush's rows compare as integers."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else (_utc(value) - _EPOCH) // _MICROSECOND

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _EPOCH + value * _MICROSECOND


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} reached storage")
    return value.astimezone(UTC)


def _aware_utc(value: datetime) -> datetime:
    """What the database handed back: naive means UTC (SQLite keeps no offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).isoformat(" ", "microseconds")[:26]  # "+00:00" cut


def _from_sqlite_text(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:  # the text has no offset and means UTC: read with one, it needs no .replace()
        return _aware_utc(datetime.fromisoformat(value + "+00:00"))
    except ValueError:  # text with its own offset
        return _aware_utc(datetime.fromisoformat(value))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Source(Base):
    """A feed or a drop folder, mirrored from settings; it also carries the feed's poll state."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_sources_kind_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(Text)
    configured_url: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(default=0)
    first_error_at: Mapped[datetime | None]
    items_seen: Mapped[int] = mapped_column(default=0)
    interval_seconds: Mapped[float | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class Story(Base):
    """Near-duplicate reports of one event; alerts are per story, never per copy."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    article_count: Mapped[int] = mapped_column(default=1)
    # Set when a later article showed this story to be part of an older one: its articles and
    # alerts moved there, and band rows still naming it are read as that story.
    merged_into: Mapped[int | None] = mapped_column(BigId, index=True)


class ArticleRow(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "item_key", name="uq_articles_source_item"),
        Index("ix_articles_content_hash", "content_hash"),
        Index("ix_articles_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(128))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary)
    update_count: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[Any]] = mapped_column(default=list)
    published: Mapped[datetime | None]
    captured: Mapped[str | None] = mapped_column(String(40))
    section: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    lead: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[list[Any]] = mapped_column(default=list)
    images: Mapped[list[Any]] = mapped_column(default=list)
    reading_time: Mapped[int | None]
    language: Mapped[str | None] = mapped_column(String(16))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorySketchBand(Base):
    """LSH band keys of each article's sketch: near-duplicate lookup by index, never a scan.

    The primary key is the lookup's index, and on SQLite the table itself (no row ids), so
    storing a band is one ordered insert. An article has some 67 rows here, the most-written
    table by far, so its rows are plain integers without foreign keys: checking two parents
    per row was a fifth of a band's insert. Code keeps the references true instead: bands
    are written only for stored articles, deleting articles deletes their bands first
    (``prune_articles``), and a flush that meets a deleted article removes what it wrote for
    it (``storage.backlog``). Stories are never deleted.
    """

    __tablename__ = "story_sketch_bands"
    __table_args__ = (
        # Deleting an article (retention, updates) finds its bands by this, not by a scan.
        Index("ix_story_sketch_bands_article_id", "article_id"),
        {"sqlite_with_rowid": False},
    )

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    published: Mapped[datetime] = mapped_column(EpochMicros, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    story_id: Mapped[int] = mapped_column(BigId)


class PendingBands(Base):
    """An article whose band rows are not in ``story_sketch_bands`` yet (see
    ``storage.backlog``): its keys wait here, one row per article, until a flush writes them
    with many others in key order. After a crash, these rows are what the next start reads
    back."""

    __tablename__ = "pending_bands"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    published: Mapped[datetime] = mapped_column(EpochMicros)  # copied into band rows as it is
    keys: Mapped[str] = mapped_column(Text)  # a JSON array of the band keys


class DropFile(Base):
    """A file seen in a drop folder: what it was, and whether it was ingested or quarantined."""

    __tablename__ = "drop_files"
    __table_args__ = (UniqueConstraint("source_id", "sha256", name="uq_drop_files_source_sha"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    articles: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# An alert's status: waiting (and leased while it is sent), sent, or given up on.
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class AlertRow(Base):
    """The outbox: written in the same transaction as the match, delivered afterwards."""

    __tablename__ = "alerts"
    __table_args__ = (
        # Round 0 is the story's alert; an update re-alerts as round N only for rules that
        # ask for it (on_update = "alert"). Anything else is a repeat the database refuses.
        UniqueConstraint(
            "rule", "story_id", "channel", "round", name="uq_alerts_rule_story_channel_round"
        ),
        Index("ix_alerts_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(512))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(256))
    round: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # Set while the alert waits in, or was sent with, an AlertBatch (digest, quiet hours, rate).
    batch_id: Mapped[int | None] = mapped_column(BigId, index=True)


class AlertBatch(Base):
    """Alerts sent together as one message: a digest, what quiet hours held, a rate overflow.

    A batch is ``open`` while it gathers alerts; ``open_channel`` (unique, NULL once sealed)
    makes sure a channel has at most one open batch even with several replicas. At
    ``next_attempt_at`` it is claimed, sealed and delivered like a single alert, with its own
    ``uid`` so every retry of the message carries the same id.
    """

    __tablename__ = "alert_batches"
    __table_args__ = (Index("ix_alert_batches_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    open_channel: Mapped[str | None] = mapped_column(String(256), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class ChannelState(Base):
    """What the daemon learned about a channel at run time: a receiver that said 410 Gone."""

    __tablename__ = "channel_states"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpsAlert(Base):
    """A trouble with newswatch itself (a broken feed, a disabled channel, quarantined files,
    a stuck outbox) and when its operators were last told. ``last_sent`` is claimed with a
    conditional update, so among replicas one sends; ``cleared_at`` is set once the trouble
    is gone, and a new occurrence starts over."""

    __tablename__ = "ops_alerts"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent: Mapped[datetime | None]
    sent_count: Mapped[int] = mapped_column(default=0)
    cleared_at: Mapped[datetime | None]
    message: Mapped[str] = mapped_column(Text, default="")
