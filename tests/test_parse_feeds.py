"""Feed entries: real saved feeds in several encodings, JSON Feed, malformed documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import ParseError
from daemon.parse import parse_bytes, parse_feed

FEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "feeds"
JSON = Path(__file__).parent / "data" / "json"


def _feed(name: str) -> bytes:
    if not FEEDS.exists():
        pytest.skip("shared testdata folder is absent")
    return (FEEDS / name).read_bytes()


def test_windows_1251_feed_reads_cyrillic_and_zoned_dates() -> None:
    feed = parse_feed(_feed("encoding_WINDOWS-1251.xml"), source="ibash")
    assert feed.title == "iBash.Org.Ru"
    assert feed.bozo_error is None
    assert len(feed.articles) == 50
    first = feed.articles[0]
    assert first.title == "Цитата #17703"
    assert first.guid == first.url == "http://ibash.org.ru/quote.php?id=17703"
    assert first.published == datetime(2018, 3, 21, 7, 27, 32, tzinfo=UTC)
    assert first.language == "ru"
    assert first.source == "ibash"
    assert all("<br" not in p for a in feed.articles for p in a.body)


def test_iso_8859_1_feed_keeps_umlauts_and_cleans_html_content() -> None:
    feed = parse_feed(_feed("encoding_ISO-8859-1.xml"))
    assert feed.title == "Golem.de"
    first = feed.articles[0]
    assert first.title.startswith("Red Dead Redemption 2")
    assert "wünschen" in first.lead
    assert first.published == datetime(2018, 10, 28, 12, 48, tzinfo=UTC)
    assert first.language == "de"
    assert all("<" not in p for a in feed.articles for p in a.body)


def test_undeclared_latin_1_feed_is_read_and_its_complaint_kept() -> None:
    feed = parse_feed(_feed("no_encoding_ISO-8859-1.xml"))
    assert len(feed.articles) == 9  # the tenth item has neither title nor text
    assert feed.bozo_error is not None and "CharacterEncodingOverride" in feed.bozo_error
    assert "études" in feed.articles[0].lead


def test_utf8_feeds_rdf_atom_and_right_to_left() -> None:
    rdf = parse_feed(_feed("rdf_UTF8.xml"))
    assert rdf.articles[0].title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    atom = parse_feed(_feed("small_atom.xml"))
    assert atom.articles[0].authors == ["fguillot"]
    assert atom.articles[0].published == datetime(2024, 3, 12, 5, 30, 27, tzinfo=UTC)
    urdu = parse_feed(_feed("urdu_UTF8.xml"))
    assert urdu.ttl_minutes == 15
    assert urdu.articles[0].language == "ur"


def test_same_articles_as_rss_and_atom() -> None:
    rss = parse_feed(_feed("large_rss.xml")).articles
    atom = parse_feed(_feed("large_atom.xml")).articles
    assert len(rss) == len(atom) == 25
    assert [a.title for a in rss] == [a.title for a in atom]
    assert [a.url for a in rss] == [a.url for a in atom]


def test_entry_categories_authors_and_summary_html() -> None:
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Desk</title><ttl>30</ttl>
<item><title>Strike on a substation leaves district dark</title>
<link>https://desk.example/a/1</link><guid isPermaLink="false">desk-1</guid>
<dc:creator>Iryna Lys</dc:creator>
<category>Energy</category><category>Kharkiv Oblast</category>
<pubDate>Tue, 08 Apr 2025 23:10:00 +0300</pubDate>
<description>&lt;p&gt;A drone hit a substation overnight.&lt;/p&gt;
&lt;p&gt;Repairs will take two days.&lt;/p&gt;&lt;p&gt;Subscribe to our channel&lt;/p&gt;
&lt;script&gt;track()&lt;/script&gt;</description>
</item></channel></rss>"""
    feed = parse_feed(xml)
    assert feed.ttl_minutes == 30
    [entry] = feed.articles
    assert entry.guid == "desk-1"
    assert entry.authors == ["Iryna Lys"]
    assert entry.tags == ["Energy", "Kharkiv Oblast"]
    assert entry.published == datetime(2025, 4, 8, 20, 10, tzinfo=UTC)
    assert entry.body == ["A drone hit a substation overnight.", "Repairs will take two days."]


def test_markup_that_is_not_text_never_reaches_an_entry() -> None:
    """Entry HTML is read into text by our own walker, not cleaned by feedparser first: code,
    styles, embedded programs, comments and frames in a summary, its content or its title
    must leave only the words a reader sees."""
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Desk</title>
<item><title type="html">Ferry &lt;script&gt;steal()&lt;/script&gt;returns</title>
<guid>desk-2</guid>
<description>&lt;p onclick="steal()"&gt;The ferry is back.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p onmouseover="steal()">The ferry is back on the river.</p>
<style>p { color: red }</style><script>steal()</script><!-- a comment -->
<applet code="Steal.class">Your browser needs Java</applet>
<iframe src="https://ads.example/">framed</iframe><noscript>Enable scripts</noscript>
<p>Tickets cost two hryvnias.</p>]]></content:encoded>
</item></channel></rss>"""
    [entry] = parse_feed(xml).articles
    assert entry.title == "Ferry returns"
    assert entry.lead == "The ferry is back."
    assert entry.body == ["The ferry is back on the river.", "Tickets cost two hryvnias."]


def test_zone_less_feed_dates_are_read_in_the_source_timezone() -> None:
    xml = b"""<rss version="2.0"><channel><title>Local</title><item><title>Market reopens</title>
<link>https://local.example/m</link><pubDate>2025-04-08 09:30</pubDate>
<description>Stalls are back.</description>
</item></channel></rss>"""
    feed = parse_feed(xml, timezone=ZoneInfo("Europe/Kyiv"))
    assert feed.articles[0].published == datetime(2025, 4, 8, 6, 30, tzinfo=UTC)


def test_malformed_feed_keeps_the_entries_read_before_the_break() -> None:
    xml = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>
<item><title>First entry</title><link>https://b.example/1</link>
<description>Fine.</description></item>
<item><title>Second entry</title><link>https://b.example/2</link>
<description>Also fine.</description></item>
<item><title>Third & last"""
    feed = parse_feed(xml)
    assert feed.bozo_error is not None
    assert [a.title for a in feed.articles][:2] == ["First entry", "Second entry"]


def test_json_feed_1_1() -> None:
    feed = parse_feed((JSON / "jsonfeed_1_1.json").read_bytes(), source="fieldnotes")
    assert feed.title == "Field Notes"
    first, second = feed.articles
    assert first.guid == "fn-2025-031"
    assert first.authors == ["Rosa Delgado"]
    assert first.published == datetime(2025, 4, 10, 11, 15, tzinfo=UTC)
    assert first.tags == ["Infrastructure", "Bridges"]
    assert first.lead == "Corrosion found in three spans of the old river bridge."
    assert first.body[1] == "Repairs are expected to take the whole summer."
    assert first.language == "en"
    assert second.authors == ["Field Notes Desk"]
    assert second.body == [
        "The weekly market will move to the old bus station while the square is repaved.",
        "Stall holders keep their pitch numbers.",
    ]


def test_json_feed_1_0_author_and_detection_in_parse_bytes() -> None:
    data = (JSON / "jsonfeed_1_0.json").read_bytes()
    assert parse_feed(data).articles[0].authors == ["Ivo Petrov"]
    [article] = parse_bytes(data, name="harbour.json")
    assert article.published == datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def test_feed_xml_dropped_as_a_file_yields_its_entries() -> None:
    articles = parse_bytes(_feed("small_atom.xml"), name="commits.xml")
    assert len(articles) == 20


def test_feed_without_entries_is_refused_from_a_drop() -> None:
    with pytest.raises(ParseError, match="feed document holds no entries"):
        parse_bytes(b'<rss version="2.0"><channel><title>Empty</title></channel></rss>')


IMPOSSIBLE_DATES = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Night desk</title>
<item><title>Hour twenty-five</title><guid>a</guid>
<pubDate>Sun, 01 Jan 2006 25:61:60 GMT</pubDate></item>
<item><title>ISO hour twenty-five</title><guid>b</guid>
<pubDate>2006-01-01T25:61:60Z</pubDate></item>
<item><title>A day offset</title><guid>c</guid><pubDate>2006-01-01T10:00:00+25:00</pubDate></item>
<item><title>Ordinary</title><guid>d</guid><pubDate>Sun, 01 Jan 2006 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_an_impossible_entry_date_costs_that_entry_its_date_not_the_feed_its_entries() -> None:
    articles = parse_feed(IMPOSSIBLE_DATES, source="night").articles
    assert [a.title for a in articles] == [
        "Hour twenty-five",
        "ISO hour twenty-five",
        "A day offset",
        "Ordinary",
    ]
    assert [a.published for a in articles[:3]] == [None, None, None]
    assert articles[3].published == datetime(2006, 1, 1, 10, tzinfo=UTC)
