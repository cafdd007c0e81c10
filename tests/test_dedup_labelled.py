"""Precision and recall of story grouping on hand-labelled article pairs.

``tests/data/dedup/articles.jsonl`` holds invented news reports; ``pairs.jsonl`` labels pairs
of them: syndicated copies, re-headlined and corrected versions and feed summaries are
duplicates; reports from the same region on the same day about another event, and follow-ups
that reuse background paragraphs, are hard non-duplicates. Each pair goes through the whole
path (sketch, LSH lookup, decision), so index misses count against recall.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from daemon.dedup import (
    DEFAULT_THRESHOLD,
    Candidate,
    DedupSettings,
    Kind,
    MemorySketchIndex,
    StoryDecider,
    band_keys,
    place,
    sketch,
)

DATA = Path(__file__).parent / "data" / "dedup"
THRESHOLDS = (0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.60)


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ARTICLES = {a["id"]: a for a in _load("articles.jsonl")}
PAIRS = _load("pairs.jsonl")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


async def _grouped(pair: dict[str, Any], decider: StoryDecider, lsh: bool) -> bool:
    """Store article a as story 1, then place article b: does it join story 1?

    Without ``lsh`` the decider sees article a whether or not the index would have found it,
    which shows what the similarity threshold alone does.
    """
    index = MemorySketchIndex()
    a, b = ARTICLES[pair["a"]], ARTICLES[pair["b"]]
    sa, pa = sketch(a["title"], a["text"]), datetime.fromisoformat(a["published"])
    sb, pb = sketch(b["title"], b["text"]), datetime.fromisoformat(b["published"])
    if lsh:
        await index.add(1, 1, band_keys(sa), sa, pa)
        decision = await place(index, decider, sb, pb)
    else:
        decision = decider.decide(sb, pb, [Candidate(1, 1, sa, pa)])
    return decision.kind is Kind.JOIN and decision.story_id == 1


async def _score(threshold: float, lsh: bool = True) -> tuple[Score, list[str]]:
    decider = StoryDecider(DedupSettings(threshold=threshold))
    score, wrong = Score(), []
    for pair in PAIRS:
        grouped = await _grouped(pair, decider, lsh)
        if grouped and pair["duplicate"]:
            score.tp += 1
        elif grouped:
            score.fp += 1
        elif pair["duplicate"]:
            score.fn += 1
        else:
            score.tn += 1
        if grouped != pair["duplicate"]:
            wrong.append(f"{pair['kind']}: {pair['a']} / {pair['b']}")
    return score, wrong


def test_the_labelled_set_is_large_and_hard() -> None:
    kinds = Counter((p["kind"], p["duplicate"]) for p in PAIRS)
    assert len(PAIRS) >= 80
    assert sum(p["duplicate"] for p in PAIRS) >= 30
    hard = ("same-region-same-day", "follow-up", "same-title-different-event")
    assert sum(n for (kind, dup), n in kinds.items() if kind in hard and not dup) >= 30


async def test_threshold_table_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for threshold in THRESHOLDS:
        full, _ = await _score(threshold)
        bare, _ = await _score(threshold, lsh=False)
        rows.append(
            f"  {threshold:9.2f}  {full.precision:9.3f}  {full.recall:6.3f}"
            f"  {bare.precision:18.3f}  {bare.recall:6.3f}"
        )
    default, wrong = await _score(DEFAULT_THRESHOLD)
    with capsys.disabled():
        print(f"\n{len(PAIRS)} labelled pairs")
        print("  threshold  precision  recall  (no LSH) precision  recall")
        print("\n".join(rows))
        print(
            f"default {DEFAULT_THRESHOLD:.2f}: precision {default.precision:.3f}, "
            f"recall {default.recall:.3f} ({default})"
        )
        for line in wrong:
            print("  misjudged", line)
    assert default.precision >= 0.95
    assert default.recall >= 0.90
