"""The fast feed path against feedparser, field by field, on feeds nobody here wrote.

Every file of ``.corpora/feeds`` (``bench/feeds_corpus.py``) and ``../shared/testdata/feeds``
is read twice: by the routed path the daemon uses (feedparser-rs where it reads cleanly,
feedparser for the rest) and by feedparser alone, the reference. It prints how many files the
fast path took, every field of our articles where the two readings differ (split dev and
held-out by a hash of the file name; feedjira's saved real-world feeds apart as "fresh", a
held-out set that arrived after the routing rules were written), and both paths' speed on
the files the fast path took.

    .venv/bin/python bench/feed_equivalence.py [--show 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpora import split_of  # noqa: E402
from bench.feeds_corpus import FRESH  # noqa: E402
from daemon.parse.dates import Clock  # noqa: E402
from daemon.parse.feeds import _fast, parse_xml_feed  # noqa: E402
from storage.types import Article  # noqa: E402

FIELDS = ("title", "lead", "body", "published", "url", "guid", "authors", "tags", "language")
CORPORA = (ROOT / ".corpora" / "feeds", ROOT.parent / "shared" / "testdata" / "feeds")


def files() -> list[Path]:
    return sorted(p for root in CORPORA if root.is_dir() for p in root.rglob("*") if p.is_file())


def split(path: Path) -> str:
    """``dev``, ``heldout`` (by a hash of the file name) or ``fresh`` (feedjira's feeds)."""
    return "fresh" if path.is_relative_to(FRESH) else split_of(path.name)


def reading(article: Article) -> dict[str, object]:
    return {f: getattr(article, f) for f in FIELDS} | {"images": [i.url for i in article.images]}


def differences(data: bytes) -> tuple[bool, list[str]]:
    """Whether the fast path took the file, and the fields where the two readings differ."""
    clock = Clock()
    routed = parse_xml_feed(data, clock, "corpus", fast=True).articles
    reference = parse_xml_feed(data, clock, "corpus", fast=False).articles
    if len(routed) != len(reference):
        return True, ["entries"]
    found: set[str] = set()
    for a, b in zip(routed, reference, strict=True):
        ra, rb = reading(a), reading(b)
        found |= {k for k in ra if ra[k] != rb[k]}
    return _fast(data) is not None, sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=20, help="list this many differing files")
    args = parser.parse_args()
    paths = files()
    splits = ("dev", "heldout", "fresh")
    fast_taken = dict.fromkeys(splits, 0)
    total = Counter[str]()
    fields = {split: Counter[str]() for split in splits}
    differing: list[tuple[str, str, list[str]]] = []
    for path in paths:
        part = split(path)
        total[part] += 1
        took, diff = differences(path.read_bytes())
        fast_taken[part] += took
        if diff:
            fields[part].update(diff)
            differing.append((part, str(path.relative_to(ROOT.parent)), diff))
    print(
        f"{len(paths)} feed files: dev {total['dev']}, held-out {total['heldout']}, "
        f"fresh {total['fresh']}"
    )
    for part in splits:
        n = total[part] or 1
        print(
            f"  {part:8} fast path took {fast_taken[part]} ({100 * fast_taken[part] / n:.0f}%),"
            f" files differing {sum(1 for s, _, _ in differing if s == part)}"
        )
        for field, count in fields[part].most_common():
            print(f"      {field:10} {count}")
    # Only dev files are named: the others are there to report, not to tune on.
    for _, path, diff in [d for d in differing if d[0] == "dev"][: args.show]:
        print(f"  differs: {path}: {', '.join(diff)}")
    speed(paths)


def speed(paths: list[Path]) -> None:
    """Both paths over the files the fast one takes, a few rounds each: entries per second."""
    bodies = [d for p in paths if _fast(d := p.read_bytes()) is not None]
    clock = Clock()
    entries = sum(len(parse_xml_feed(d, clock, "x", fast=True).articles) for d in bodies)
    timings = {}
    for label, fast in (("feedparser", False), ("fast path", True)):
        started = time.perf_counter()
        for _ in range(3):
            for d in bodies:
                parse_xml_feed(d, clock, "x", fast=fast)
        timings[label] = (time.perf_counter() - started) / 3
    base = timings["feedparser"]
    for label, seconds in timings.items():
        print(
            f"  {label:10} {entries / seconds:9.0f} entries/s (our whole entry reading included)"
            f"  {base / seconds:5.2f}x feedparser"
        )


if __name__ == "__main__":
    main()
