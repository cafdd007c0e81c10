"""The fast feed path reads as feedparser does wherever it is allowed to read.

The corpus is feedparser's and feedvalidator's own test feeds (built by
``bench/feeds_corpus.py`` from the public snapshots into the git-ignored ``.corpora/feeds``;
built here when the snapshots are on the machine), the saved feeds of ``../shared`` and our
own fixtures, which are always here, so the test never passes on an empty corpus. The
routing rules were written against the dev part; ``bench/feed_equivalence.py`` reports the
held-out part, which still differs in a few files, and that is why the fast path is off.
"""

from __future__ import annotations

from pathlib import Path

from bench.feed_equivalence import CORPORA, differences, split
from bench.feeds_corpus import FEEDS, build
from tests.support import rss_document

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = ROOT.parent / ".mirror"
OWN = ROOT / "tests" / "data" / "feeds"


def corpus() -> list[Path]:
    if not FEEDS.is_dir() and MIRRORS.is_dir():
        build(MIRRORS)
    found = sorted(p for root in CORPORA if root.is_dir() for p in root.rglob("*") if p.is_file())
    return found + sorted(p for p in OWN.iterdir() if p.suffix in (".xml", ".rdf"))


def test_every_dev_feed_the_fast_path_takes_reads_as_feedparser_reads_it() -> None:
    files = [p for p in corpus() if ".corpora" not in p.parts or split(p) == "dev"]
    taken, differing = set(), []
    for path in files:
        took, fields = differences(path.read_bytes())
        if took:
            taken.add(path)
        if took and fields:
            differing.append(f"{path.name}: {', '.join(fields)}")
    assert {OWN / "rss2.xml", OWN / "plain_atom.xml"} <= taken
    assert differing == []


def test_the_fast_path_declines_what_it_reads_differently() -> None:
    entity_title = rss_document(
        "<item><title>Q&amp;A</title><guid>http://example.org/1</guid></item>"
    )
    plain = entity_title.replace(b"Q&amp;A", b"Questions")
    assert differences(plain)[0] is True
    assert differences(entity_title)[0] is False


def test_the_fast_path_declines_a_link_it_would_resolve_from_a_relative_guid() -> None:
    document = rss_document(
        "<link>http://example.org/news/</link><item><title>Harbour works</title>"
        "<guid>item-17</guid></item>"
    )
    assert differences(document)[0] is False
    with_link = document.replace(
        b"<guid>", b"<link>http://example.org/news/17</link><guid isPermaLink='false'>"
    )
    assert differences(with_link)[0] is True


def test_the_fast_path_declines_text_that_still_holds_a_reference() -> None:
    document = rss_document(
        "<item><title>Harbour works</title><guid>http://example.org/1</guid>"
        "<description><![CDATA[Tides &amp;nbsp;rose]]></description></item>"
    )
    assert differences(document)[0] is False
    assert differences(document.replace(b"&amp;nbsp;", b""))[0] is True
