"""Every front door that reads outside input refuses it only in the way it documents, and soon.

Drop folders, feeds, rule queries and settings files are written by other programs and by
people in a hurry; whatever they hold, the daemon must either read it or refuse it with the
error type its callers contain (``ParseError`` per file or feed, ``QuerySyntaxError`` and
``SettingsError`` per settings file). Anything else escaping would take down a drop scan, a
poll round or a reload, so each property below fails on any other exception, and each
example has a deadline, so a reader that loops or backtracks on some input fails too.

Runs are reproducible: examples come from a fixed seed and no example database is kept.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
import time as _time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from alerts.channels import SETTINGS_BY_TYPE
from alerts.match import needs_gazetteer
from alerts.query import Document, Query, QuerySyntaxError, compile_rules, parse_query
from daemon.dedup.urls import canonical_url
from daemon.errors import ParseError, SettingsError
from daemon.feeds.parsing import PreparedFeed, parse_feed_job
from daemon.parse import Shape, explain_bytes, parse_bytes
from daemon.rulecheck import build_matcher
from daemon.settings import _ARRAYS, _TABLES, Settings, load_settings
from storage.types import Article
from tests.faults.test_settings_faults import write

pytestmark = [
    pytest.mark.timeout(120),
    # feedparser warns when an entry without "updated" is asked for it; that is not a fault
    pytest.mark.filterwarnings("ignore:To avoid breaking existing software:DeprecationWarning"),
]


def bounded(examples: int, seconds: float = 2.0) -> Callable[[Any], Any]:
    """Hypothesis settings for one property: fixed seed, no stored examples, a deadline."""
    return settings(
        max_examples=examples,
        deadline=timedelta(seconds=seconds),
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


WARM_DATES = ["36 June 1185, 57:18", "17 June 6, 8:00", "Опубліковано: вчора о 25:61"]
WARM_DATES += ["15 березня 2025", "5 марта 2025, 14:10", "t-", "Undecember 5", "2 hours ago"]


@pytest.fixture(scope="module", autouse=True)
def warm_readers() -> None:
    """First calls import the HTML extractor and load the date parser's languages (seconds,
    once per process); that cost must not count against the deadline of whichever example
    happens to come first."""
    samples = [
        b"Headline of the day\n\nBy Anna Smith\n5 June 2025, 14:10\n\n" + b"Body words. " * 40,
        "Заголовок новини дня\n\n15 березня 2025\n\n".encode() + "Текст статті. ".encode() * 40,
        b"<html><body><article><h1>T</h1><p>" + b"Words here. " * 40 + b"</p></article></html>",
        b'{"title": "T", "text": "Body", "published": "2025-06-05"}',
    ]
    samples += [
        f'<rss version="2.0"><channel><item><title>T</title><pubDate>{when}</pubDate>'
        "</item></channel></rss>".encode()
        for when in WARM_DATES
    ]
    for data in samples:
        for read in (parse_bytes, lambda d: parse_feed_job(d, "warm", None)):
            with contextlib.suppress(ParseError):
                read(data)
    compile_rules({"r": parse_query('"warm up" OR title:x* OR (a NEAR/2 b)')})


ZONES = st.sampled_from([None, ZoneInfo("Europe/Kyiv"), ZoneInfo("America/New_York"), UTC])
ZONE_INFOS = st.sampled_from([None, ZoneInfo("Europe/Kyiv"), ZoneInfo("Pacific/Kiritimati")])
CAPTURED = st.one_of(
    st.none(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
NAMES = st.sampled_from(["", "page.txt", "page.html", "feed.xml", "records.json", "x.jsonl"])


def read_or_refuse(data: bytes, **options: Any) -> list[Article] | None:
    """parse_bytes' result, or None when it refused with ParseError, after the invariants
    of a read article: at least one, each titled or with a body, published in UTC."""
    try:
        articles = parse_bytes(data, **options)
    except ParseError as exc:
        assert str(exc), "a refusal names its reason"
        return None
    assert isinstance(articles, list) and articles
    for article in articles:
        assert isinstance(article, Article)
        assert article.title or article.body or article.lead
        if article.published is not None:
            assert article.published.utcoffset() == timedelta(0)
    return articles


# --- text dumps ---------------------------------------------------------------------------

ENGLISH = ["flood", "barriers", "council", "river", "army", "drone", "attack", "the", "of"]
RUSSIAN = ["наводнение", "город", "армия", "беспилотник", "атака", "в", "на", "Белгород"]
UKRAINIAN = ["повінь", "місто", "армія", "дрон", "атака", "у", "Харків", "Вовчанськ"]
OTHER = ["北京", "café", "Zürich", "İstanbul", "ﬁnal", "١٢٣", "שלום", "🙂", "a\u0301"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\u200b", "\u2028"]
CONTROL += ["\u202e", "\ufeff", "\ufffd", "\r", "\t", "\u00a0", "\u0085"]

words = st.sampled_from(ENGLISH + RUSSIAN + UKRAINIAN + OTHER)
sentence = st.lists(words, min_size=1, max_size=30).map(lambda ws: " ".join(ws).capitalize())


@st.composite
def headline(draw: st.DrawFn) -> str:
    title = " ".join(draw(st.lists(words, min_size=2, max_size=14))).title()
    return title + draw(st.sampled_from(["", "", "?", ":", " | Site", " — Новини"]))


byline = st.one_of(
    st.builds(lambda a, b: f"By {a.title()} {b.title()}", words, words),
    st.builds(lambda a: f"Автор: {a.title()}", words),
    st.builds(lambda a, n: f"{a.title()} · {n} min read", words, st.integers(-5, 10**12)),
    st.sampled_from(["By", "By and", "Reporting by Tom Hale; Editing by", "Фото:", "Джерело:"]),
)
MONTHS = ["June", "Jun", "березня", "марта", "лютого", "Feb.", "Sept", "Undecember"]
date_line = st.one_of(
    st.builds(
        lambda d, m, y, h, mi: f"{d} {m} {y}, {h}:{mi:02d}",
        st.integers(-1, 40),
        st.sampled_from(MONTHS),
        st.integers(0, 100_000),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(
        lambda n, u: f"{n} {u} ago",
        st.integers(-10, 10**18),
        st.sampled_from(["hours", "days", "min"]),
    ),
    st.sampled_from(
        [
            "Updated 16:14 GMT",
            "captured 2025-03-03T18:40:00Z",
            "captured 99999-99-99",
            "Опубліковано: вчора о 25:61",
            "Сегодня, 14:10",
            "2025-02-30T24:00:00+25:00",
            "Mon, 02 Mar 2026 09:30:00 +0200",
            "1e400",
            "9" * 400,
        ]
    ),
)
furniture = st.sampled_from(
    [
        "Home | World | Business | Tech | Sport | Opinion",
        "Share Facebook Twitter Email",
        "Listen",
        "1 min",
        "Comment",
        "Advertisement",
        "Реклама",
        "Поділитися",
        "Читайте також:",
        "Read also: Last spring's floods in numbers",
        "Related stories",
        "More about",
        "Ctrl+Enter",
        "© 2025 Northgate News Ltd. All rights reserved.",
        "We use cookies to improve your experience.",
        "Reply",
        "Tags: flood, river, council",
        "Теги: повінь, Харків",
        "[Menu]",
        "[    ]",
        "123 views",
        "Photo: Reuters",
        "Subscribe to our morning briefing to get council news first.",
    ]
)
long_line = st.builds(lambda w, n: " ".join([w] * n), words, st.integers(500, 4_000))
unbroken = st.builds(
    lambda w, n: w * n, st.sampled_from(["a", "я", "-", "=", "*", "."]), st.integers(1_000, 30_000)
)
noisy = st.builds(
    lambda ws, cs: "".join(w + c for w, c in zip(ws, cs, strict=False)),
    st.lists(words, min_size=1, max_size=20),
    st.lists(st.sampled_from(CONTROL), min_size=1, max_size=20),
)
dump_line = st.one_of(
    headline(),
    sentence,
    sentence,
    sentence,
    byline,
    date_line,
    furniture,
    st.just(""),
    noisy,
    st.text(max_size=80),
)
separator = st.sampled_from(["\n", "\n", "\n\n", "\r\n", "\r", "\n \n", "\u2029"])


@st.composite
def dump(draw: st.DrawFn) -> str:
    lines = draw(st.lists(dump_line, max_size=60))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.one_of(long_line, unbroken)))
    out = ""
    for line in lines:
        out += line + draw(separator)
    return out


def encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "replace")
    return text.encode(encoding, "replace")


ENCODINGS = st.sampled_from(
    ["utf-8", "utf-8", "utf-8-sig", "cp1251", "utf-16", "koi8-u", "latin-1"]
)


@bounded(examples=120)
@given(dump(), ENCODINGS, ZONES, CAPTURED, NAMES)
def test_text_dumps_are_read_or_refused_with_parse_error(
    text: str, encoding: str, zone: ZoneInfo | None, captured: date | datetime | None, name: str
) -> None:
    data = encoded(text, encoding)
    read_or_refuse(data, name=name, timezone=zone, captured=captured)


@bounded(examples=60)
@given(dump(), ZONES)
def test_text_dumps_are_explained_or_refused_with_parse_error(
    text: str, zone: ZoneInfo | None
) -> None:
    try:
        shape, verdicts, refusal = explain_bytes(text.encode(), name="page.txt", timezone=zone)
    except ParseError:
        return
    assert isinstance(shape, Shape)
    assert refusal is None or isinstance(refusal, ParseError)
    if shape is Shape.TEXT:
        assert verdicts or refusal is not None


@bounded(examples=150)
@given(st.one_of(st.binary(max_size=3_000), st.text(max_size=2_000).map(str.encode)), NAMES)
def test_arbitrary_bytes_are_read_or_refused_with_parse_error(data: bytes, name: str) -> None:
    read_or_refuse(data, name=name)


@bounded(examples=8, seconds=3.0)
@given(st.integers(1, 25), st.sampled_from(["а", "b ", "Слово. ", "Word, word. ", "\n"]))
def test_large_inputs_are_read_or_refused_in_time(lines: int, unit: str) -> None:
    data = ((unit * 10_000) + "\n").encode()[:40_000] * lines
    read_or_refuse(data, name="big.txt")


def test_an_input_at_the_size_limit_is_read_in_time() -> None:
    data = b"Flood barriers held along the river overnight, the council said. " * 600 + b"\n"
    data = data * (5_000_000 // len(data))
    started = _time.perf_counter()
    articles = read_or_refuse(data, name="big.txt")
    assert articles is not None
    assert _time.perf_counter() - started < 20.0


def test_an_input_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ParseError, match=r"^file is too large: 5,000,001 bytes, over the limit"):
        parse_bytes(b"a" * 5_000_001)


# --- feeds ----------------------------------------------------------------------------------

ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#65;", "&#x41;", "&#0;", "&#99999999;"]
ENTITIES += ["&#xD800;", "&nbsp;", "&bogus;", "&", "&#", "&#x;", "&laugh;", "&mdash;"]
xml_text = st.lists(
    st.one_of(words, st.sampled_from(ENTITIES), st.sampled_from(["<b>", "</p>", "<", ">", "]]>"])),
    max_size=12,
).map(" ".join)
feed_date = st.one_of(
    date_line,
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=30),
)
fragment = st.one_of(
    xml_text,
    xml_text.map(lambda t: f"<![CDATA[<p>{t}</p>]]>"),
    st.builds(lambda t: f"&lt;p&gt;{t}&lt;/p&gt;", xml_text),
)
LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY laugh "ha">'
    + "".join(
        f'<!ENTITY laugh{i} "{("&laugh" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 7)
    )
    + "]>"
)


@st.composite
def rss_item(draw: st.DrawFn) -> str:
    parts = []
    for tag in ["title", "link", "guid", "pubDate", "description", "dc:creator", "category"]:
        if draw(st.booleans()):
            value = draw(feed_date if tag == "pubDate" else fragment)
            parts.append(f"<{tag}>{value}</{tag}>")
    if draw(st.booleans()):
        parts.append(f"<content:encoded>{draw(fragment)}</content:encoded>")
    if draw(st.booleans()):
        parts.append(f'<enclosure url="{draw(xml_text)}" type="image/jpeg" length="x"/>')
    return "<item>" + "".join(draw(st.permutations(parts))) + "</item>"


@st.composite
def atom_entry(draw: st.DrawFn) -> str:
    parts = []
    for tag in ["title", "id", "updated", "published", "summary"]:
        if draw(st.booleans()):
            value = draw(feed_date if tag in ("updated", "published") else fragment)
            kind = draw(st.sampled_from(["", ' type="html"', ' type="xhtml"', ' type="text"']))
            parts.append(f"<{tag}{kind}>{value}</{tag}>")
    if draw(st.booleans()):
        parts.append(f'<link href="{draw(xml_text)}" rel="alternate"/>')
    if draw(st.booleans()):
        parts.append(f"<author><name>{draw(xml_text)}</name></author>")
    if draw(st.booleans()):
        parts.append(f'<content type="html">{draw(fragment)}</content>')
    return "<entry>" + "".join(parts) + "</entry>"


@st.composite
def xml_feed(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["rss", "atom", "rdf"]))
    head = draw(
        st.sampled_from(
            [
                "",
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0" encoding="windows-1251"?>',
                '<?xml version="1.0" encoding="bogus-charset"?>',
                LAUGHS,
            ]
        )
    )
    if kind == "atom":
        entries = "".join(draw(st.lists(atom_entry(), max_size=6)))
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{draw(xml_text)}</title>{entries}</feed>'
    else:
        items = "".join(draw(st.lists(rss_item(), max_size=6)))
        if kind == "rss":
            body = (
                '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
                ' xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                f"<title>{draw(xml_text)}</title><ttl>{draw(feed_date)}</ttl>"
                f"<language>{draw(st.text(max_size=8))}</language>{items}</channel></rss>"
            )
        else:
            body = (
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
                ' xmlns="http://purl.org/rss/1.0/">'
                f"<channel><title>{draw(xml_text)}</title></channel>{items}</rdf:RDF>"
            )
    data = (head + body).encode("utf-8")
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        feed_date,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
item_url = st.one_of(st.text(max_size=30), st.sampled_from(["https://x.org/a?utm_source=t", ""]))
JSON_ITEM_KEYS = ["id", "title", "content_html", "content_text", "summary", "date_published"]
JSON_ITEM_KEYS += ["date_modified", "authors", "author", "tags", "image", "banner_image"]
JSON_ITEM_KEYS += ["language"]
json_item = st.fixed_dictionaries(
    {},
    optional={
        "url": item_url,
        "external_url": item_url,
        **{key: json_value for key in JSON_ITEM_KEYS},
    },
)


@st.composite
def json_feed(draw: st.DrawFn) -> bytes:
    """JSON Feeds whose values have any JSON type, but whose item URLs are strings: an item
    URL of another type is the known failure kept apart in
    ``test_a_json_feed_item_url_of_another_type_is_skipped``."""
    items = draw(st.lists(st.one_of(json_item, json_value), max_size=5))
    document: dict[str, Any] = {"version": "https://jsonfeed.org/version/1.1", "items": items}
    for key in ("title", "language", "authors", "author"):
        if draw(st.booleans()):
            document[key] = draw(json_value)
    if draw(st.integers(0, 5)) == 0:
        document["items"] = draw(json_value)
    return json.dumps(document).encode()


def prepared_or_refused(data: bytes, zone: ZoneInfo | None, seen: bytes) -> PreparedFeed | None:
    try:
        prepared = parse_feed_job(data, "fuzz", zone, seen)
    except ParseError as exc:
        assert str(exc)
        return None
    assert len(prepared.items) == len(prepared.feed.articles)
    assert len(prepared.seen) % 8 == 0
    for article in prepared.feed.articles:
        assert isinstance(article, Article)
        if article.published is not None:
            assert article.published.utcoffset() == timedelta(0)
    return prepared


@bounded(examples=150)
@given(st.one_of(xml_feed(), json_feed()), ZONE_INFOS, st.binary(max_size=24))
def test_generated_feeds_are_read_or_refused_with_parse_error(
    data: bytes, zone: ZoneInfo | None, seen: bytes
) -> None:
    prepared_or_refused(data, zone, seen[: len(seen) // 8 * 8])


@bounded(examples=60)
@given(st.one_of(xml_feed(), json_feed()))
def test_feed_files_in_a_drop_are_read_or_refused_with_parse_error(data: bytes) -> None:
    read_or_refuse(data, name="feed.xml")


@bounded(examples=100)
@given(st.binary(max_size=2_000))
def test_arbitrary_feed_bytes_are_read_or_refused_with_parse_error(data: bytes) -> None:
    prepared_or_refused(data, None, b"")


def test_a_json_feed_item_url_of_another_type_is_skipped() -> None:
    items = [
        {"id": "1", "title": "Ferry resumes", "url": ["https://x.org/a"]},
        {"id": "2", "title": "Cycle lanes approved", "url": "https://x.org/b"},
    ]
    document = {"version": "https://jsonfeed.org/version/1.1", "items": items}
    prepared = parse_feed_job(json.dumps(document).encode(), "fuzz", None)
    assert [(a.title, a.url) for a in prepared.feed.articles] == [
        ("Ferry resumes", None),
        ("Cycle lanes approved", "https://x.org/b"),
    ]


BAD_REFERENCES = (
    b'<rss version="2.0"><channel><item><guid>1</guid><title>Ferry &#99999999; resumes</title>'
    b"</item><item><guid>2</guid><title>Cycle lanes &#xD800; approved</title></item>"
    b"<item><guid>3</guid><title>Harbour reopens</title></item></channel></rss>"
)


def test_a_character_reference_outside_unicode_is_read_or_refused_by_name() -> None:
    """feedparser raises ValueError on these; the poller and the drop scanner must get a
    refusal they can show, if not the entries."""
    for read in (
        lambda: parse_feed_job(BAD_REFERENCES, "fuzz", None).feed.articles,
        lambda: parse_bytes(BAD_REFERENCES, name="feed.xml"),
    ):
        try:
            articles = read()
        except ParseError as exc:
            assert str(exc).startswith("feed document cannot be read: chr() arg not in range")
        else:
            assert [a.guid for a in articles] == ["1", "2", "3"]


def test_a_character_reference_outside_unicode_costs_no_entry() -> None:
    prepared = parse_feed_job(BAD_REFERENCES, "fuzz", None)
    assert [a.guid for a in prepared.feed.articles] == ["1", "2", "3"]


# --- rule queries ---------------------------------------------------------------------------

QUERY_TOKENS = ["(", ")", '"', "AND", "OR", "NOT", "NEAR/3", "NEAR/", "NEAR/x", "NEAR/0"]
QUERY_TOKENS += ["NEAR/99999999999999999999", "title:", "body:", "tags:", "author:", "source:"]
QUERY_TOKENS += ["TITLE:", "foo:", "*", "~", "~5", "-", "+", "a*", "*a", "dro*", '"a b"~2']
QUERY_TOKENS += ['"a*"', '""', '"drone attack"', '"x"~', "http://x.org/a", "and", "or", "not"]
query_token = st.one_of(st.sampled_from(QUERY_TOKENS), words, st.sampled_from(CONTROL))
near_valid_query = st.builds(
    lambda tokens, glue: glue.join(tokens),
    st.lists(query_token, min_size=0, max_size=25),
    st.sampled_from([" ", " ", "", "  ", "\n"]),
)
nested_query = st.builds(
    lambda depth, inner, closed: "(" * depth + inner + (")" * depth if closed else ""),
    st.integers(0, 3_000),
    near_valid_query,
    st.booleans(),
)
fuzz_document = Document(
    title="Drone attack on Белгород", body="Army drones attacked.\n\nМісто Харків", tags=("a",)
)


def check_query(text: str) -> Query | None:
    try:
        query = parse_query(text)
    except QuerySyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1
        assert exc.query == text
        rendered = exc.render()
        assert rendered.startswith("query: ") and exc.message in rendered
        return None
    matcher = compile_rules({"rule": query})
    found = matcher.match(fuzz_document)
    assert set(found) <= {"rule"}
    return query


@bounded(examples=300)
@given(st.text(max_size=200))
def test_arbitrary_queries_parse_or_raise_query_syntax_error(text: str) -> None:
    check_query(text)


@bounded(examples=250)
@given(st.one_of(near_valid_query, nested_query))
def test_near_valid_queries_parse_or_raise_query_syntax_error(text: str) -> None:
    check_query(text)


def test_ten_thousand_nested_parentheses_are_a_syntax_error() -> None:
    text = "(" * 10_000 + "drone" + ")" * 10_000
    assert check_query(text) is None


# --- settings -------------------------------------------------------------------------------


def toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(map(_toml_char, escaped)) + '"'


def _toml_char(char: str) -> str:
    return char if char == "\t" or (ord(char) >= 32 and ord(char) != 127) else f"\\u{ord(char):04x}"


def toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def schema_keys(model: type[BaseModel]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


CHANNEL_KEYS = sorted({key for model in SETTINGS_BY_TYPE.values() for key in schema_keys(model)})
SETTING_WORDS = [
    "5s", "10m", "2h", "1d", "500ms", "soon", "-1s", "1e9s", "9" * 40 + "d", "5MB", "0",
    "Europe/Kyiv", "Europe/Atlantis", "UTC", "127.0.0.1:8080", "x:99999", "http://x.org/f",
    "ftp://x", "desk", "deks", "army AND (", '"drone attack"~5', "Ukraine", "Atlantis",
    "whsec_c2VjcmV0", "whsec_!!", "${DESK_SECRET}", "${MISSING}", "${", "daily@08:00",
    "22:00-07:00", "30/min", "starttls", "slack", "{{ rule", "a@b.c", "INFO", "loud",
    "sqlite+aiosqlite:///x.db", "alert", "ignore", "",
]  # fmt: skip
setting_scalar = st.one_of(
    st.sampled_from(SETTING_WORDS),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.booleans(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))])),
    st.dates(),
    st.times(),
    st.text(max_size=12),
)
setting_value = st.recursive(
    setting_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*CHANNEL_KEYS, "x", "Authorization"]), inner, max_size=3),
    ),
    max_leaves=3,
)


def misspelt(keys: list[str]) -> st.SearchStrategy[str]:
    """A schema key, sometimes with one letter dropped, doubled or swapped."""

    def mangle(key: str, at: int, how: int) -> str:
        at %= max(len(key), 1)
        if how == 0:
            return key[:at] + key[at + 1 :]
        if how == 1:
            return key[:at] + key[at : at + 1] * 2 + key[at + 1 :]
        return key[:at] + key[at + 1 : at + 2] + key[at : at + 1] + key[at + 2 :]

    exact = st.sampled_from(keys)
    return st.one_of(
        exact, exact, exact, st.builds(mangle, exact, st.integers(0, 30), st.integers(0, 2))
    )


def table_body(draw: st.DrawFn, keys: list[str]) -> str:
    chosen = draw(st.dictionaries(misspelt(keys), setting_value, max_size=6))
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in chosen.items())


@st.composite
def settings_document(draw: st.DrawFn) -> str:
    out = []
    for name in draw(st.lists(st.sampled_from([*_TABLES, "deamon"]), unique=True)):
        model = _TABLES.get(name, _TABLES["daemon"])
        out.append(f"[{name}]\n" + table_body(draw, schema_keys(model)))
    for name in draw(st.lists(st.sampled_from([*_ARRAYS, "rule"]), max_size=5)):
        model = _ARRAYS.get(name, _ARRAYS["rules"])
        out.append(f"[[{name}]]\n" + table_body(draw, schema_keys(model)))
    for name in draw(st.lists(st.sampled_from(["desk", "deks", "mail", "a.b"]), unique=True)):
        kind = draw(st.sampled_from([*SETTINGS_BY_TYPE, "pigeon", None]))
        head = f"type = {toml_string(kind)}\n" if kind else ""
        out.append(f"[channels.{toml_key(name)}]\n{head}" + table_body(draw, CHANNEL_KEYS))
    if draw(st.integers(0, 12)) == 0:
        top = draw(misspelt(["channels", "rules", "feeds"]))
        out.insert(0, f"{top} = {toml_value(draw(setting_value))}\n")
    return "\n".join(out)


@pytest.fixture(scope="module")
def settings_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="newswatch-fuzz-") as folder:
        yield Path(folder)


def load_or_refuse(folder: Path, text: str) -> Settings | None:
    path = folder / "settings.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = load_settings(path, env={"DESK_SECRET": "whsec_c2VjcmV0"})
    except SettingsError as exc:
        assert exc.path == str(path.resolve())
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return None
    now = datetime.now(UTC)
    for seconds in durations(loaded):
        assert seconds >= 0 and now + timedelta(seconds=seconds) > now - timedelta(seconds=1)
    if not needs_gazetteer(loaded.rules):
        try:
            build_matcher(loaded)
        except SettingsError as exc:
            assert exc.problems
            assert all(p.startswith("rules[") for p in exc.problems), exc.problems
    return loaded


def durations(loaded: Settings) -> Iterator[float]:
    """Every duration a loaded file holds: the scheduler adds each to the clock."""
    parts: list[BaseModel] = [loaded.daemon, loaded.delivery, loaded.polling, loaded.dedup]
    parts += [*loaded.drops, *loaded.feeds, *loaded.channels.values()]
    for part in parts:
        for name, info in type(part).model_fields.items():
            if "parse_duration" not in repr((info.annotation, info.metadata)):
                continue
            value = getattr(part, name)
            yield from value if isinstance(value, tuple) else [] if value is None else [value]


SCHEMA = [(f"[{name}]", key) for name, model in _TABLES.items() for key in schema_keys(model)]
SCHEMA += [(f"[[{name}]]", key) for name, model in _ARRAYS.items() for key in schema_keys(model)]
SCHEMA += [
    (f'[channels.c]\ntype = "{kind}"', key)
    for kind, model in SETTINGS_BY_TYPE.items()
    for key in schema_keys(model)
    if key != "type"
]


@bounded(examples=300)
@given(st.sampled_from(SCHEMA), setting_scalar)
def test_every_key_of_the_schema_takes_any_value_or_refuses_it(
    settings_dir: Path, where: tuple[str, str], value: Any
) -> None:
    header, key = where
    load_or_refuse(settings_dir, f"{header}\n{toml_key(key)} = {toml_value(value)}\n")


@bounded(examples=200)
@given(settings_document())
def test_generated_settings_load_or_raise_settings_error(settings_dir: Path, text: str) -> None:
    load_or_refuse(settings_dir, text)


@bounded(examples=150)
@given(st.text(max_size=300))
def test_arbitrary_settings_text_loads_or_raises_settings_error(
    settings_dir: Path, text: str
) -> None:
    load_or_refuse(settings_dir, text)


@pytest.mark.parametrize(
    "value",
    [
        "[" * 5_000 + "]" * 5_000,
        "{a = " * 5_000 + "1" + "}" * 5_000,
    ],
)
def test_deeply_nested_toml_is_a_settings_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, f"x = {value}\n"), env={})
    [problem] = caught.value.problems
    assert problem.startswith("not valid TOML: ")


# --- canonical URLs -------------------------------------------------------------------------

SCHEMES = ["http://", "https://", "HTTPS://", "ftp://", "", "//", "https:///", "mailto:", "tag:"]
HOSTS = ["example.com", "www.example.com", "amp.m.example.com", "www.www.example.com", "m.co"]
HOSTS += ["Example.COM.", "ex.com:80", "ex.com:443", "ex.com:8080", "ex.com:0", "ex.com:99999"]
HOSTS += ["a-b.cdn.ampproject.org", "[::1]", "[::1]:8080", "[bad", "user:pw@ex.com", ".", "é.рф"]
HOSTS += ["", " ", "ex com", "ex.com\u3000", "xn--e1afmkfd.xn--p1ai", "1.2.3.4", "ex%41.com"]
PATH_PARTS = ["", "/", "//", "/a", "/amp", ".amp", "/index.html", ".amp.html", "%2F", "%41"]
PATH_PARTS += ["%2541", "%", "%zz", "%e9", "%C3%A9", "/..", "/.", ";", "+", "%20", " ", "é"]
PATH_PARTS += ["/c/s/example.com/a", "/c/s/a-b.cdn.ampproject.org", "\t", "\x00", "~", "@"]
QUERY_PARTS = ["", "?", "?a=1", "&b=2", "&utm_source=x", "&amp=1", "&output=amp", "&ref=1"]
QUERY_PARTS += ["&a", "&=x", "&a=%zz", "&q=a+b", "&q=%2B", ";x=1", "&UTM_MEDIUM=y", "&é=ё"]
FRAGMENTS = ["", "#", "#comments", "#!/article/9", "#!", "#!a b", "#!x#y"]


@st.composite
def web_url(draw: st.DrawFn) -> str:
    return (
        draw(st.sampled_from(SCHEMES))
        + draw(st.sampled_from(HOSTS))
        + "".join(draw(st.lists(st.sampled_from(PATH_PARTS), max_size=6)))
        + "".join(draw(st.lists(st.sampled_from(QUERY_PARTS), max_size=4)))
        + draw(st.sampled_from(FRAGMENTS))
    )


@bounded(examples=600)
@given(st.one_of(web_url(), st.text(max_size=120)))
def test_canonical_urls_are_a_fixed_point(url: str) -> None:
    once = canonical_url(url)
    assert isinstance(once, str)
    assert canonical_url(once) == once


def test_amp_cache_addresses_unwrap_a_few_layers_and_no_more() -> None:
    layer = "/c/s/a-b.cdn.ampproject.org"
    wrapped = "https://a-b.cdn.ampproject.org" + layer * 2 + "/c/s/x.org/a"
    assert canonical_url(wrapped) == "https://x.org/a"
    deep = "https://a-b.cdn.ampproject.org" + layer * 100_000 + "/c/s/x.org/a"
    started = _time.perf_counter()
    assert canonical_url(deep) == deep
    assert _time.perf_counter() - started < 1.0


def test_a_character_reference_of_thousands_of_digits_costs_no_entry() -> None:
    """Past 4,300 digits int() refuses the number itself; the entry keeps a U+FFFD."""
    data = BAD_REFERENCES.replace(b"&#99999999;", b"&#" + b"9" * 5000 + b";")
    prepared = parse_feed_job(data, "fuzz", None)
    assert [a.guid for a in prepared.feed.articles] == ["1", "2", "3"]
    assert prepared.feed.articles[0].title == "Ferry \ufffd resumes"
