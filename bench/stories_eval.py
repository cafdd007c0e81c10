"""How well real article versions are grouped into stories, dev and held-out apart.

The labelled pairs in ``tests/data/dedup`` score one decision at a time against one stored
article; the daemon instead places a stream, where an early wrong split or merge steers every
later copy. This replays ``.corpora/stories`` (built by ``bench/stories_corpus.py``) the way the
drop folder would: each dump parsed by the real reader, prepared, and placed one at a time in a
shuffled order into one index per split. Orders are averaged because a copy that only matches
one sibling joins or not depending on which arrived first. Stories an article bridges are
merged, as the daemon merges them: the grouping figures are where files end up, "alerts per
story" counts the stories a report's files started, each of which alerted before any merge.

    .venv/bin/python bench/stories_eval.py [--seed N] [--shuffles 3]

Tune on the dev column only; the held-out column is there to report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stories_corpus import NEGATIVE_KINDS, STORIES, STORY_LABELS, VERSION_KINDS
from daemon.dedup import (
    DedupSettings,
    Kind,
    MemorySketchIndex,
    StoryDecider,
    band_keys,
    place,
    similarity,
    sketch,
)
from daemon.dedup.sketch import Sketch
from daemon.errors import ParseError
from daemon.parse import parse_bytes
from daemon.prepared import prepare

PAIRS_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedup"
SPLITS = ("dev", "heldout")


@dataclass(frozen=True, slots=True)
class Item:
    """One file ready to place; ``sketch`` is None where the reader refused the dump."""

    file: str
    story: str
    group: str
    kind: str
    split: str
    sketch: Sketch | None
    bands: tuple[int, ...]
    published: datetime
    date_off: bool  # the reader's date is more than a day from the labelled one


def load_items() -> tuple[list[Item], list[str]]:
    """Every labelled dump parsed as the drop folder would; refusals are kept, not dropped."""
    with STORY_LABELS.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    items: list[Item] = []
    refused: list[str] = []
    for row in rows:
        labelled = datetime.fromisoformat(row["published"])
        data = (STORIES / row["file"]).read_bytes()
        try:
            articles = parse_bytes(data, name=row["file"], captured=labelled)
        except ParseError as error:
            refused.append(f"{row['file']}: {error}")
            articles = []
        entry: tuple[Sketch | None, tuple[int, ...], datetime, bool]
        if articles:
            ready = prepare(articles[0])
            off = abs(ready.published - labelled) > timedelta(days=1)
            entry = (ready.sketch, tuple(ready.bands), ready.published, off)
        else:
            entry = (None, (), labelled, False)
        items.append(
            Item(row["file"], row["story"], row["group"], row["kind"], row["split"], *entry)
        )
    return items, refused


async def place_all(items: Sequence[Item], settings: DedupSettings) -> dict[str, int]:
    """Predicted story of each file when the files arrive in the given order.

    The returned story is where the file ends (after later articles merged stories); the
    story it started, if any, is under ``"+" + file``, so alerts can be counted as made.
    """
    index, decider = MemorySketchIndex(), StoryDecider(settings)
    predicted: dict[str, int] = {}
    next_story = 0
    for article_id, item in enumerate(items, 1):
        if item.sketch is None:
            next_story += 1
            predicted[item.file] = predicted["+" + item.file] = next_story
            continue
        decision = await place(index, decider, item.sketch, item.published)
        if decision.kind is Kind.JOIN and decision.story_id is not None:
            story = decision.story_id
            await index.merge(story, decision.merges)
        else:
            next_story += 1
            story = predicted["+" + item.file] = next_story
        predicted[item.file] = story
        await index.add(story, article_id, item.bands, item.sketch, item.published)
    return {k: v if k.startswith("+") else index.story_of(v) for k, v in predicted.items()}


def pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def figures(items: Sequence[Item], predicted: dict[str, int]) -> dict[str, float]:
    """Every figure for one split and one order, as name -> value, so orders can be averaged."""
    truth = Counter(i.story for i in items)
    guess = Counter(predicted[i.file] for i in items)
    both = Counter((i.story, predicted[i.file]) for i in items)
    tp, same_guess, same_truth = pairs(both), pairs(guess), pairs(truth)
    out = {
        "pair precision": tp / same_guess if same_guess else 1.0,
        "pair recall": tp / same_truth if same_truth else 1.0,
    }
    landed: dict[str, set[int]] = defaultdict(set)
    for i in items:
        landed[i.story].add(predicted[i.file])
    stories_of: dict[int, set[str]] = defaultdict(set)
    for i in items:
        stories_of[predicted[i.file]].add(i.story)
    multi = [s for s, n in truth.items() if n >= 2]
    out["stories whole"] = sum(len(landed[s]) == 1 for s in multi) / len(multi)
    out["stories exact"] = sum(
        len(landed[s]) == 1 and stories_of[next(iter(landed[s]))] == {s} for s in multi
    ) / len(multi)
    started: dict[str, set[int]] = defaultdict(set)
    for i in items:
        if "+" + i.file in predicted:
            started[i.story].add(predicted["+" + i.file])
    out["alerts per story"] = sum(len(started[s]) for s in multi) / len(multi)
    out["wrongly merged"] = sum(any(len(stories_of[p]) > 1 for p in landed[s]) for s in truth)
    original = {i.group: predicted[i.file] for i in items if i.kind == "original"}
    for kind in (*VERSION_KINDS, *NEGATIVE_KINDS):
        of_kind = [i for i in items if i.kind == kind]
        if of_kind:
            joined = sum(predicted[i.file] == original[i.group] for i in of_kind)
            out[f"  {kind}"] = joined / len(of_kind)
    return out


def average(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = dict.fromkeys(k for run in runs for k in run)
    return {k: sum(run.get(k, 0.0) for run in runs) / len(runs) for k in keys}


def show(columns: dict[str, dict[str, float]], sizes: dict[str, str]) -> None:
    names = list(columns)
    print(f"{'':28}" + "".join(f"{n:>12}" for n in names))
    print(f"{'':28}" + "".join(f"{sizes[n]:>12}" for n in names))
    keys = list(dict.fromkeys(k for col in columns.values() for k in col))
    for key in keys:
        if key == "  wire":
            print("recall by version kind (joined the original's story):")
        if key == f"  {NEGATIVE_KINDS[0]}":
            print("hard negatives (false merge with the original's story):")
        cells = "".join(
            f"{columns[n][key]:>12.3f}" if key in columns[n] else f"{'-':>12}" for n in names
        )
        print(f"{key:28}{cells}")


async def hand_pairs(seed: int, shuffles: int, settings: DedupSettings) -> dict[str, float]:
    """The project's hand-written pairs replayed as one stream, scored on the labelled pairs."""
    with (PAIRS_DIR / "articles.jsonl").open(encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh if line.strip()]
    with (PAIRS_DIR / "pairs.jsonl").open(encoding="utf-8") as fh:
        labelled = [json.loads(line) for line in fh if line.strip()]
    items = []
    for a in articles:
        s = sketch(a["title"], a["text"])
        when = datetime.fromisoformat(a["published"])
        items.append(Item(a["id"], a["id"], a["id"], "", "", s, tuple(band_keys(s)), when, False))
    runs = []
    for n in range(shuffles):
        order = random.Random(seed + n).sample(items, len(items))
        predicted = await place_all(order, settings)
        score = Counter(
            (predicted[p["a"]] == predicted[p["b"]], bool(p["duplicate"])) for p in labelled
        )
        tp, fp, fn = score[True, True], score[True, False], score[False, True]
        runs.append(
            {
                "pair precision": tp / (tp + fp) if tp + fp else 1.0,
                "pair recall": tp / (tp + fn) if tp + fn else 1.0,
            }
        )
    return average(runs)


async def show_misses(dev: Sequence[Item], seed: int, settings: DedupSettings) -> None:
    """Dev versions that did not join their original in the first order, with the evidence."""
    predicted = await place_all(random.Random(f"{seed}/dev/0").sample(dev, len(dev)), settings)
    original = {i.group: i for i in dev if i.kind == "original"}
    print("dev versions apart from their original (first order):")
    for i in dev:
        o = original[i.group]
        if i.kind == "original" or i.story != o.story or predicted[i.file] == predicted[o.file]:
            continue
        score = f"{similarity(i.sketch, o.sketch):.2f}" if i.sketch and o.sketch else "-"
        print(
            f"  {i.file}: similarity {score}, published {i.published:%Y-%m-%d %H:%M}"
            f" (original {o.published:%Y-%m-%d %H:%M})"
        )


async def run(seed: int, shuffles: int, misses: bool) -> None:
    started = time.perf_counter()
    if not STORY_LABELS.is_file():
        print(f"no story set at {STORIES}; build it with .venv/bin/python bench/stories_corpus.py")
        return
    items, refused = load_items()
    dev_files = {i.file for i in items if i.split == "dev"}
    settings = DedupSettings()
    columns: dict[str, dict[str, float]] = {}
    sizes: dict[str, str] = {}
    for split in SPLITS:
        mine = [i for i in items if i.split == split]
        runs = []
        for n in range(shuffles):
            order = random.Random(f"{seed}/{split}/{n}").sample(mine, len(mine))
            runs.append(figures(mine, await place_all(order, settings)))
        columns[split] = average(runs)
        sizes[split] = f"{len({i.group for i in mine})}g/{len(mine)}f"
    print(f"story grouping on {STORIES} ({shuffles} orders, seed {seed}, default settings)")
    show(columns, sizes)
    off = Counter(i.kind for i in items if i.date_off and i.split == "dev")
    if off:
        print(
            "dev files whose parsed date is > 1 day off: "
            + ", ".join(f"{k} {n}" for k, n in off.most_common())
        )
    held = sum(1 for i in items if i.sketch is None and i.split == "heldout")
    print(f"refused by the reader: {len(refused) - held} dev, {held} heldout (own stories)")
    for line in refused:
        if line.split(":", 1)[0] in dev_files:
            print("  dev refused:", line)
    if misses:
        await show_misses([i for i in items if i.split == "dev"], seed, settings)
    hand = await hand_pairs(seed, shuffles, settings)
    print(
        f"hand-written pairs as one stream: precision {hand['pair precision']:.3f}, "
        f"recall {hand['pair recall']:.3f}"
    )
    print(f"wall time {time.perf_counter() - started:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument(
        "--misses", action="store_true", help="list dev versions split from their original"
    )
    args = parser.parse_args()
    asyncio.run(run(args.seed, args.shuffles, args.misses))


if __name__ == "__main__":
    main()
