"""Gazetteer costs: build time, cached load time, memory, and median ``find`` on a 5 KB text.

Run: ``.venv/bin/python bench/gazetteer.py``. Timings are printed beside a floor measured in
the same run (a plain ``str.lower`` pass over the same text), so machines compare by ratio.
Target: the cached load stays under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.gazetteer.index import DEFAULT_MIN_POPULATION
from alerts.regions import Gazetteer

PARAGRAPH = (
    "Air defence was active over Kyiv overnight, while shelling hit Kharkiv and Kupiansk. "
    "В Белгородской области объявили ракетную опасность, а у Кривому Розі рятувальники "
    "працюють на місці удару. President Volodymyr Zelensky said troops remain in Kursk Oblast. "
    "Officials in Moscow said talks with the U.S. would continue next week in Istanbul. "
)
RUNS = 200


def _article(size: int = 5000) -> str:
    text = ""
    while len(text) < size:
        text += PARAGRAPH
    return text[:size]


def _median(fn: object, arg: str) -> float:
    assert callable(fn)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--min-population", type=int, default=DEFAULT_MIN_POPULATION)
    floor_people = parser.parse_args().min_population
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        started = time.perf_counter()
        Gazetteer.load(cache, floor_people)
        build = time.perf_counter() - started
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        gazetteer = Gazetteer.load(cache, floor_people)
        load = time.perf_counter() - started
        rss = psutil.Process().memory_info().rss - rss_before
        tracemalloc.start()
        Gazetteer.load(cache, floor_people)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = sum(p.stat().st_size for p in cache.iterdir())
    text = _article()
    floor = _median(str.lower, text)
    find = _median(gazetteer.find, text)
    mentions = len(gazetteer.find(text))
    print(f"places            {len(gazetteer.places)} (towns of {floor_people}+ people)")
    print(f"build             {build:8.2f} s")
    print(f"cached load       {load:8.2f} s   (target < 2 s: {'ok' if load < 2 else 'MISSED'})")
    print(f"cache file        {size / 1e6:8.1f} MB")
    print(f"memory, RSS delta {rss / 1e6:8.1f} MB after the first cached load")
    print(f"memory, traced    {current / 1e6:8.1f} MB held, {peak / 1e6:.1f} MB peak while loading")
    print(f"find, 5 KB text   {find * 1e3:8.3f} ms median of {RUNS} ({mentions} mentions)")
    print(f"floor str.lower   {floor * 1e6:8.1f} us; find / floor = {find / floor:.0f}x")


if __name__ == "__main__":
    main()
