"""The region table: sentences in English, Russian and Ukrainian, each with a rule region and
whether the sentence lies inside it. Passes at 95% or more; every miss is printed."""

from __future__ import annotations

from pathlib import Path

from alerts.regions import Gazetteer, RegionFilter

TABLE = Path(__file__).parent / "data" / "regions" / "sentences.tsv"
THRESHOLD = 0.95


def _rows() -> list[tuple[bool, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expect, region, sentence = line.split("\t")
        rows.append((expect == "+", region, sentence))
    return rows


def test_table_is_large_and_covers_three_languages() -> None:
    rows = _rows()
    assert len(rows) >= 150
    cyrillic = [s for _, _, s in rows if any("\u0400" <= ch <= "\u04ff" for ch in s)]
    ukrainian = [s for s in cyrillic if any(ch in s for ch in "іїєґ")]
    assert len(ukrainian) >= 20
    assert len(cyrillic) - len(ukrainian) >= 20
    assert sum(1 for expect, _, _ in rows if not expect) >= 30


def test_region_table_accuracy(gazetteer: Gazetteer) -> None:
    rows = _rows()
    failures = []
    for expect, region, sentence in rows:
        mentions = gazetteer.find(sentence)
        evidence = RegionFilter(gazetteer, [region]).check(mentions)
        if (evidence is not None) != expect:
            seen = [(m.text, m.place.name, m.place.chain) for m in mentions]
            failures.append(f"{'+' if expect else '-'} {region}: {sentence}\n    found {seen}")
    accuracy = 1 - len(failures) / len(rows)
    print(f"\nregion table: {len(rows) - len(failures)}/{len(rows)} = {accuracy:.1%}")
    for failure in failures:
        print(failure)
    assert accuracy >= THRESHOLD, "\n".join(failures)
