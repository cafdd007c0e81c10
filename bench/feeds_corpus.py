"""Build ``.corpora/feeds/``: the test feeds of feedparser, feedvalidator, gofeed and feedjira,
byte for byte.

The first two keep hundreds of small feeds that exercise every corner of RSS, Atom and RDF
(encodings, namespaces, dates, ill-formed documents), and gofeed (mmcdole/gofeed) some nine
hundred more, each a corner of RSS or Atom named in its header comment; feedjira keeps some
two hundred feeds saved from real blogs and sites, which no routing rule of the fast path was
written against (``bench/feed_equivalence.py`` reports them apart, as "fresh"). They are
third-party files, so they are copied from the snapshots the search tool fetches into a
git-ignored folder, never into the repository. The equivalence check
(``tests/test_feed_equivalence.py`` and ``bench/feed_equivalence.py``) reads them with both
parser paths.

    .venv/bin/python bench/feeds_corpus.py [--mirrors /work/.mirror]
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / ".corpora" / "feeds"
SOURCES = {
    "kurtmckee+feedparser": ("tests/",),
    "rubys+feedvalidator": ("testcases/",),
    "feedjira+feedjira": ("spec/sample_feeds/",),
    "mmcdole+gofeed": ("testdata/parser/", "testdata/translator/", "testdata/extensions/"),
}
FRESH = FEEDS / "feedjira+feedjira"
SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".feed")


def build(mirrors: Path) -> int:
    copied = 0
    for repo, prefixes in SOURCES.items():
        git_dir = mirrors / repo / "repo"
        if not git_dir.exists():
            print(f"missing snapshot {git_dir}: fetch github:{repo.replace('+', '/')} first")
            continue
        names = subprocess.run(
            ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", "HEAD"],
            check=True, capture_output=True, text=True,
        ).stdout.split("\n")  # fmt: skip
        for name in names:
            if not name.startswith(prefixes) or not name.lower().endswith(SUFFIXES):
                continue
            data = subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"HEAD:{name}"],
                check=True, capture_output=True,
            ).stdout  # fmt: skip
            target = FEEDS / repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            copied += 1
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=ROOT.parent / ".mirror")
    args = parser.parse_args()
    print(f"{build(args.mirrors)} feed files in {FEEDS}")


if __name__ == "__main__":
    main()
