"""How well newswatch reads pages nobody here wrote: dev and held-out apart.

    .venv/bin/python bench/read_eval.py [--renderers chromium,w3m] [--misses dev] [--html]

Scores the text-dump reader on the dumps ``bench/corpus.py`` rendered from trafilatura's
evaluation pages (per renderer), and on our own scraper corpus in ``tests/data/dumps``. With
``--html`` it also scores the HTML path on the same pages against bare trafilatura.

A page's "with" strings must be in the title or body and its "without" strings must not; only
strings the dump itself holds count for a dump (what a renderer dropped no reader can keep).
A file passes "with" when it keeps every such string, "without" when it holds none. The
headline is right when it equals the page's own headline (its ``<h1>`` where ``og:title``
agrees). "lost" counts files whose body is under half of a reference body of three or more
paragraphs: the gold body for our corpus, trafilatura's reading of the HTML for the pages
(its article alone: readers' comments are no part of the body a dump must keep), and of a
dump only the paragraphs that dump holds, as with the strings (a page whose renderer wrote
its menu and not its article has nothing to lose).

Misses are listed only for the split named by ``--misses`` (dev by default): tuning looks at
dev alone, held-out figures are only reported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import RENDERERS, dump_path, load_labels, page_path, split_of

from daemon.errors import ParseError
from daemon.parse import parse_bytes
from storage.types import Article

ROOT = Path(__file__).resolve().parents[1]
OWN = ROOT / "tests" / "data" / "dumps"
SPLITS = ("dev", "heldout")
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass
class Tally:
    """Per-file outcomes of one reader on one split."""

    files: int = 0
    errors: int = 0
    with_files: int = 0
    with_ok: int = 0
    without_files: int = 0
    without_ok: int = 0
    with_found: int = 0
    with_total: int = 0
    without_found: int = 0
    without_total: int = 0
    headline_files: int = 0
    headline_ok: int = 0
    lost_files: int = 0
    lost: int = 0
    fields: dict[str, list[int]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def share(self, ok: int, total: int) -> str:
        return f"{ok / total:6.1%} ({ok}/{total})" if total else "     - (0)"

    def string_scores(self) -> tuple[float, float, float]:
        """trafilatura's own measure: with strings found are hits, without strings found
        are false alarms."""
        tp, fn = self.with_found, self.with_total - self.with_found
        fp = self.without_found
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    filename: str
    with_: list[str]
    without: list[str]
    headline: str | None
    reference: list[str] | None  # a body to measure "lost" against
    gold: dict[str, Any] | None = None  # our corpus: every field
    zone: str = "UTC"


Reader = Callable[[Case], Article | None]
_FIELDS = ("authors", "published", "section", "tags", "images")


def score(tally: Tally, case: Case, read: Reader) -> None:
    tally.files += 1
    article = read(case)
    if article is None:
        tally.errors += 1
        tally.misses.append(f"{case.name}: no article")
        article = Article(title="", body=[])
    title, body = article.title, article.body
    if case.gold is not None:  # our corpus, the one set with every field: authors, dates …
        got = article.to_json()
        for key in _FIELDS:
            tally.fields.setdefault(key, []).append(int(got[key] == case.gold[key]))
    text = norm("\n".join([title, *body]))
    missing = [w for w in case.with_ if norm(w) not in text]
    present = [w for w in case.without if norm(w) in text]
    if case.with_:
        tally.with_files += 1
        tally.with_ok += not missing
        tally.with_total += len(case.with_)
        tally.with_found += len(case.with_) - len(missing)
    if case.without:
        tally.without_files += 1
        tally.without_ok += not present
        tally.without_total += len(case.without)
        tally.without_found += len(present)
    if case.headline is not None:
        tally.headline_files += 1
        right = norm(title).casefold() == norm(case.headline).casefold()
        tally.headline_ok += right
        if not right:
            tally.misses.append(f"{case.name}: headline {title[:70]!r} != {case.headline[:70]!r}")
    if case.reference is not None and len(case.reference) >= 3:
        tally.lost_files += 1
        kept = len(" ".join(body).split()) / max(1, len(" ".join(case.reference).split()))
        if kept < 0.5:
            tally.lost += 1
            tally.misses.append(f"{case.name}: lost the article ({kept:.0%} of the reference)")
    for w in missing[:2]:
        tally.misses.append(f"{case.name}: dropped {w[:70]!r}")
    for w in present[:2]:
        tally.misses.append(f"{case.name}: kept {w[:70]!r}")


def read_dump(case: Case) -> Article | None:
    """The text-dump reader and the HTML path alike: ``parse_bytes`` tells them apart."""
    try:
        [article] = parse_bytes(case.data, name=case.filename, timezone=ZoneInfo(case.zone))
    except (ParseError, ValueError):
        return None
    return article


def read_trafilatura(case: Case) -> Article | None:
    text = trafilatura.extract(case.data.decode("utf-8", "replace"))
    return None if text is None else Article(title="", body=text.splitlines())


def page_cases(labels: list[dict[str, Any]], renderer: str) -> Iterable[Case]:
    for label in labels:
        path = dump_path(renderer, label["stem"])
        data = path.read_bytes() if path.is_file() else b""
        if not data.strip():
            continue
        dump = norm(data.decode("utf-8", "replace"))
        yield Case(
            name=label["file"],
            data=data,
            filename=path.name,
            with_=[w for w in label["with"] if norm(w) in dump],
            without=[w for w in label["without"] if norm(w) in dump],
            headline=label["headline"]
            if label["headline"] and norm(label["headline"]) in dump
            else None,
            reference=[p for p in _reference(label) if _held(p, dump)],
        )


_REFERENCES: dict[str, list[str]] = {}


def _held(paragraph: str, dump: str) -> bool:
    """The dump holds the paragraph: its opening, since renderers break long ones apart."""
    return norm(paragraph)[:60] in dump


def _reference(label: dict[str, Any]) -> list[str]:
    if label["file"] not in _REFERENCES:
        html = page_path(label["file"]).read_bytes().decode("utf-8", "replace")
        text = trafilatura.extract(html, include_comments=False) or ""
        _REFERENCES[label["file"]] = [p for p in text.splitlines() if p.strip()]
    return _REFERENCES[label["file"]]


def html_cases(labels: list[dict[str, Any]]) -> Iterable[Case]:
    for label in labels:
        path = page_path(label["file"])
        if path.is_file():
            yield Case(
                label["file"],
                path.read_bytes(),
                path.name,
                label["with"],
                label["without"],
                label["headline"],
                None,
            )


def own_cases() -> Iterable[Case]:
    for path in sorted(OWN.glob("*.txt")):
        gold = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        body = gold["body"]
        yield Case(
            path.name,
            path.read_bytes(),
            path.name,
            body,
            [],
            gold["title"],
            body,
            gold,
            gold["timezone"],
        )


def run(cases: Iterable[Case], read: Reader) -> dict[str, Tally]:
    tallies = {split: Tally() for split in SPLITS}
    for case in cases:
        score(tallies[split_of(case.name)], case, read)
    return tallies


def report(name: str, tallies: dict[str, Tally], misses: str) -> None:
    print(f"\n{name}")
    print(f"  {'':28}{'dev':>22}  {'held-out':>22}")
    dev, held = tallies["dev"], tallies["heldout"]
    rows = [
        ("files (no article)", lambda t: f"{t.files} ({t.errors})"),
        ("every 'with' kept", lambda t: t.share(t.with_ok, t.with_files)),
        ("no 'without' kept", lambda t: t.share(t.without_ok, t.without_files)),
        ("headline right", lambda t: t.share(t.headline_ok, t.headline_files)),
        ("lost the article", lambda t: t.share(t.lost, t.lost_files)),
        ("strings P / R / F1", lambda t: "{:.3f} {:.3f} {:.3f}".format(*t.string_scores())),
    ]
    for key in dev.fields:
        rows.append(
            (key, lambda t, k=key: t.share(sum(t.fields.get(k, [])), len(t.fields.get(k, []))))
        )
    for label, cell in rows:
        print(f"  {label:<28}{cell(dev):>22}  {cell(held):>22}")
    if misses in tallies:
        for line in tallies[misses].misses:
            print(f"    {misses} miss: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderers", default=",".join(RENDERERS))
    parser.add_argument("--misses", default="dev", help="dev, heldout or none")
    parser.add_argument("--html", action="store_true", help="also score the HTML path")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args = parser.parse_args()
    labels = load_labels()
    if args.limit:
        labels = labels[: args.limit]
    if not labels:
        print("no page corpus: build it with .venv/bin/python bench/corpus.py")
    report("own corpus (tests/data/dumps)", run(own_cases(), read_dump), args.misses)
    for renderer in args.renderers.split(","):
        if labels:
            tallies = run(page_cases(labels, renderer), read_dump)
            report(f"text dumps rendered by {renderer}", tallies, args.misses)
    if args.html and labels:
        report("HTML path (newswatch)", run(html_cases(labels), read_dump), args.misses)
        report("HTML, bare trafilatura.extract", run(html_cases(labels), read_trafilatura), "none")


if __name__ == "__main__":
    main()
