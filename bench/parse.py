"""Parse throughput for text dumps and HTML pages, against floors measured in the same run.

    .venv/bin/python bench/parse.py [--seconds 2]

Floors: for dumps, bare ``bytes.decode`` + ``splitlines`` of the same files (the least any
parser must do); for HTML, bare ``trafilatura.extract`` of the same pages (the extractor we
build on). Ratios, not absolute numbers, are what compares across machines.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import trafilatura

from daemon.parse import parse_bytes

ROOT = Path(__file__).resolve().parents[1]
DUMPS = sorted((ROOT / "tests" / "data" / "dumps").glob("*.txt"))
PAGES = [
    p for p in sorted((ROOT / "tests" / "data" / "html").glob("*.html")) if "no_" not in p.name
]
ZONE = ZoneInfo("Europe/Kyiv")


def rate(work: Callable[[bytes], object], files: list[bytes], seconds: float) -> float:
    """Files per second over whole passes of ``files`` for at least ``seconds``."""
    for data in files:  # warm caches and lazy imports once, outside the clock
        work(data)
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for data in files:
            work(data)
        done += len(files)
    return done / elapsed


def floor_text(data: bytes) -> object:
    return data.decode("utf-8", "replace").splitlines()


def parse_text(data: bytes) -> object:
    return parse_bytes(data, timezone=ZONE)


def floor_html(data: bytes) -> object:
    return trafilatura.extract(data.decode("utf-8", "replace"))


def parse_html(data: bytes) -> object:
    return parse_bytes(data, name="page.html", timezone=ZONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    dumps = [p.read_bytes() for p in DUMPS]
    pages = [p.read_bytes() for p in PAGES]
    for label, files, floor, ours in (
        (f"text dumps ({len(dumps)} files)", dumps, floor_text, parse_text),
        (f"HTML pages ({len(pages)} files)", pages, floor_html, parse_html),
    ):
        base = rate(floor, files, seconds)
        got = rate(ours, files, seconds)
        print(
            f"{label:<26} parse {got:9.0f} files/s   floor {base:9.0f} files/s   "
            f"ratio {got / base:6.3f}"
        )


if __name__ == "__main__":
    main()
