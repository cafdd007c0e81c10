"""Where the bench corpora live, and the one page split every bench script shares.

``bench/corpus.py`` builds ``.corpora/`` (git-ignored: third-party pages never enter the repo);
other bench scripts import this module to read it, so they all agree on paths and on which pages
are ``dev`` (free to tune on) and which are ``heldout`` (looked at only to report).

    .venv/bin/python bench/corpora.py      # says what is built, if anything
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / ".corpora"
PAGES = CORPORA / "trafilatura" / "pages"
DUMPS = CORPORA / "dumps"
LABELS = CORPORA / "labels.jsonl"
RENDERERS = ("chromium", "w3m", "inscriptis")


def split_of(name: str) -> str:
    """``dev`` or ``heldout`` from the file name alone, so the split cannot follow any tuning."""
    return "dev" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 7 else "heldout"


def dump_path(renderer: str, stem: str) -> Path:
    """The text dump of page ``stem`` as ``renderer`` made it (present or not)."""
    return DUMPS / renderer / f"{stem}.txt"


def page_path(file: str) -> Path:
    """The raw HTML of a page, byte for byte as in the trafilatura snapshot."""
    return PAGES / file


def load_labels() -> list[dict[str, Any]]:
    """Every page's labels; empty rather than an error where the corpus was never built."""
    if not LABELS.is_file():
        return []
    with LABELS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def main() -> None:
    labels = load_labels()
    if not labels:
        print(f"no corpus at {CORPORA}; build it with .venv/bin/python bench/corpus.py")
        return
    splits = Counter(label["split"] for label in labels)
    rendered = Counter(name for label in labels for name in label["renderers"])
    headlines = sum(label["headline"] is not None for label in labels)
    print(
        f"{len(labels)} pages ({splits['dev']} dev, {splits['heldout']} heldout), "
        f"{headlines} with a headline truth"
    )
    for name in RENDERERS:
        print(f"  {name}: {rendered[name]} non-empty dumps")


if __name__ == "__main__":
    main()
