"""The fast feed path reads as feedparser does wherever it is allowed to read.

The corpus is feedparser's and feedvalidator's own test feeds (built by
``bench/feeds_corpus.py`` from the public snapshots into the git-ignored ``.corpora/feeds``;
built here when the snapshots are on the machine) and the saved feeds of ``../shared``. The
routing rules were written against the dev part; ``bench/feed_equivalence.py`` reports the
held-out part, which still differs in a few files, and that is why the fast path is off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpora import split_of
from bench.feed_equivalence import CORPORA, differences
from bench.feeds_corpus import FEEDS, build

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = ROOT.parent / ".mirror"


def corpus() -> list[Path]:
    if not FEEDS.is_dir() and MIRRORS.is_dir():
        build(MIRRORS)
    found = sorted(p for root in CORPORA if root.is_dir() for p in root.rglob("*") if p.is_file())
    if not found:
        pytest.skip("no feed corpus: neither the snapshots nor ../shared/testdata are here")
    return found


def test_every_dev_feed_the_fast_path_takes_reads_as_feedparser_reads_it() -> None:
    files = [p for p in corpus() if split_of(p.name) == "dev" or "shared" in p.parts]
    taken, differing = 0, []
    for path in files:
        took, fields = differences(path.read_bytes())
        taken += took
        if took and fields:
            differing.append(f"{path.name}: {', '.join(fields)}")
    assert taken > 0
    assert differing == []


def test_the_fast_path_declines_what_it_reads_differently() -> None:
    entity_title = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
        b"<item><title>Q&amp;A</title><guid>http://example.org/1</guid></item></channel></rss>"
    )
    plain = entity_title.replace(b"Q&amp;A", b"Questions")
    assert differences(plain)[0] is True
    assert differences(entity_title)[0] is False
