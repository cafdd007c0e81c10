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
