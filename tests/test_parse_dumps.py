"""Text dumps: the seed exactly as the issue states it, and accuracy over the fixture corpus."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemon.parse import parse_bytes
from storage.types import Article

DUMPS = Path(__file__).parent / "data" / "dumps"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
KYIV = ZoneInfo("Europe/Kyiv")


def test_seed_parses_exactly_as_documented() -> None:
    seed = SHARED / "seeds" / "000_b8295c0ec37f5000.txt"
    if not seed.exists():
        pytest.skip("shared seeds folder is absent")
    [article] = parse_bytes(seed.read_bytes(), name=seed.name, timezone=KYIV)
    out = article.to_json()
    assert out["title"] == "Ukrainian army present in Russia's Belgorod Oblast, Zelensky says"
    assert out["authors"] == ["Volodymyr Ivanyshyn"]
    assert out["published"] == "2025-04-07T21:34:00+00:00"
    assert out["captured"] == "2025-04-07"
    assert out["section"] == "News Feed"
    assert out["tags"] == [
        "Ukraine",
        "Russia",
        "Belgorod Oblast",
        "Volodymyr Zelensky",
        "Ukrainian armed forces",
        "Ukrainian Army",
    ]
    assert out["reading_time"] == 2
    assert out["images"] == [
        {
            "caption": "Illustrative photo of the city of Belgorod on April 11, 2019.",
            "credit": "Vasily Maximov/AFP via Getty Images",
        }
    ]
    body = out["body"]
    assert len(body) == 9
    assert body[0].startswith("The Ukrainian Armed Forces are present")
    assert body[-1].endswith("So far, Moscow has refused.")
    assert out["lead"] == body[0]
    text = "\n".join(body)
    assert "The Power Within" not in text
    assert "Author:" not in text


def _cases() -> list[Path]:
    return sorted(DUMPS.glob("*.txt"))


def test_corpus_is_large_and_varied() -> None:
    cases = _cases()
    layouts = {p.stem.split("_", 1)[1] for p in cases}
    assert len(cases) >= 30
    assert len(layouts) >= 6
    assert all(p.with_suffix(".json").exists() for p in cases)
    raw = [p.read_bytes() for p in cases]
    assert any(b"\r\n" in r for r in raw), "a dump with CRLF line ends"
    assert any(r.startswith(b"\xef\xbb\xbf") for r in raw), "a dump with a BOM"
    assert any(_is_cp1251(r) for r in raw), "a dump in windows-1251"


def _is_cp1251(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "Автор" in data.decode("cp1251")
    return False


def _tokens(paragraphs: list[str]) -> Counter[str]:
    return Counter(" ".join(paragraphs).split())


def body_f1(got: list[str], want: list[str]) -> float:
    g, w = _tokens(got), _tokens(want)
    overlap = sum((g & w).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(g.values()), overlap / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def _close(got: str | None, want: str | None, seconds: float = 60) -> bool:
    if got is None or want is None:
        return got == want
    delta = datetime.fromisoformat(got) - datetime.fromisoformat(want)
    return abs(delta.total_seconds()) <= seconds


def _score(article: Article, want: dict[str, Any]) -> dict[str, float]:
    got = article.to_json()
    scores = {
        "title": float(got["title"] == want["title"]),
        "authors": float(got["authors"] == want["authors"]),
        "published": float(_close(got["published"], want["published"])),
        "captured": float(_close(got["captured"], want["captured"], 0)),
        "section": float(got["section"] == want["section"]),
        "tags": float(got["tags"] == want["tags"]),
        "images": float(got["images"] == want["images"]),
        "language": float(got["language"] == want["language"]),
        "body_f1": body_f1(got["body"], want["body"]),
    }
    if "reading_time" in want:
        scores["reading_time"] = float(got["reading_time"] == want["reading_time"])
    return scores


def test_corpus_accuracy() -> None:
    totals: dict[str, list[float]] = {}
    misses: list[str] = []
    for path in _cases():
        want = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        zone = ZoneInfo(want["timezone"])
        [article] = parse_bytes(path.read_bytes(), name=path.name, timezone=zone)
        for field, value in _score(article, want).items():
            totals.setdefault(field, []).append(value)
            if value < 0.9:
                misses.append(f"{path.name}: {field} ({value:.2f})")
    accuracy = {field: sum(v) / len(v) for field, v in totals.items()}
    print("\nper-field accuracy over", len(_cases()), "dumps:")
    for field, value in accuracy.items():
        print(f"  {field:<13} {value:6.1%}")
    print("misses:", *misses, sep="\n  ")
    assert accuracy["title"] >= 0.95
    assert accuracy["authors"] >= 0.90
    assert accuracy["published"] >= 0.90
    assert accuracy["body_f1"] >= 0.90
