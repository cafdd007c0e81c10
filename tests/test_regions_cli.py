"""``regions lookup`` and ``regions find``: what a user sees, and the JSON line contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.commands import regions


def test_lookup_shows_every_candidate_with_kind_code_and_chain(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert regions.lookup("Georgia", cache_dir) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("\tcountry\tGE\tGE\t" in line for line in lines)
    assert any("\tsubdivision\tUS-GA\tUS-GA > US\t" in line for line in lines)


def test_lookup_of_nothing_fails(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert regions.lookup("Qwxzv", cache_dir) == 1
    assert "no place" in capsys.readouterr().err


def test_find_json_prints_one_line_per_file_in_order(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "one.txt"
    first.write_text("A missile struck Kryvyi Rih at dawn.\n", encoding="utf-8")
    second = tmp_path / "two.txt"
    second.write_text("Nothing happened here.\n", encoding="utf-8")
    assert regions.find([str(first), str(second)], True, cache_dir) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(second)]
    [place] = lines[0]["places"]
    assert place["text"] == "Kryvyi Rih"
    assert place["chain"] == ["UA-12", "UA"]
    assert place["kind"] == "city"
    assert place["end"] - place["start"] == len("Kryvyi Rih")
    assert lines[0]["regions"] == ["UA-12", "UA"]
    assert lines[1] == {"file": str(second), "places": [], "regions": []}


def test_find_json_deduplicates_region_codes(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "many.txt"
    path.write_text("Drones hit Dnipro, then Kryvyi Rih, then Belgorod.\n", encoding="utf-8")
    assert regions.find([str(path)], True, cache_dir) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["regions"] == ["UA-12", "UA", "RU-BEL", "RU"]


def test_find_human_output_and_missing_file(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.txt"
    path.write_text("Officials in Kharkiv said the metro was running.\n", encoding="utf-8")
    assert regions.find([str(path), str(tmp_path / "absent.txt")], False, cache_dir) == 1
    captured = capsys.readouterr()
    assert "'Kharkiv'" in captured.out
    assert "UA-63, UA" in captured.out
    assert "absent.txt" in captured.err


def test_find_explain_shows_the_choice_the_rivals_and_what_was_set_aside(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "a.txt"
    text.write_text(
        "The cruiser Moskva sank in April. Heavy fighting raged around Pokrovsk.\n",
        encoding="utf-8",
    )
    assert regions.find([str(text)], True, cache_dir, explain=True) == 0
    [line] = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    seen = {e["text"]: e for e in line["explain"]}
    assert seen["Moskva"]["place"] is None
    assert "ship" in seen["Moskva"]["why"]
    # Engels was called Pokrovsk until 1931 and is three times larger: the old name of
    # another city must not outweigh the main name of this one.
    assert seen["Pokrovsk"]["code"] is None
    assert seen["Pokrovsk"]["chain"][0] == "UA-14"
    assert "Engels" not in {other["place"] for other in seen["Pokrovsk"]["others"]}
    assert [p["text"] for p in line["places"]] == ["Pokrovsk"]

    assert regions.find([str(text)], False, cache_dir, explain=True) == 0
    human = capsys.readouterr().out
    assert "'Moskva'\tnot a place here: names a thing" in human
    assert "-> Pokrovsk [UA-14 > UA]" in human
