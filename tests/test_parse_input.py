"""Bad input is refused with a precise reason; odd but valid text is still read."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

from daemon.errors import ParseError
from daemon.parse import parse_bytes
from daemon.parse.command import main

DUMPS = Path(__file__).parent / "data" / "dumps"
STORY = (
    "Harbour crane back in service after repairs\n\n"
    "By Jane Roe | Updated 14:05 GMT\n\n"
    "The largest crane at the harbour is working again after a month of repairs to its gears.\n\n"
    "Dock workers said queues of lorries at the gates should clear by the end of the week.\n"
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b" \n\r\n\t ", "file holds only whitespace"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "binary file (PDF document)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (PNG image)"),
        (gzip.compress(b"hello"), "binary file (gzip archive)"),
        (b"plain text then\x00\x01\x02 noise", "binary file (NUL byte at offset 15)"),
        (codecs.BOM_UTF8 + b"caf\xe9 au lait", "undecodable bytes: the utf-8 byte-order mark"),
    ],
)
def test_unreadable_input_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, name="drop.txt")
    assert reason in str(caught.value)


def test_files_over_the_size_limit_are_refused_before_parsing() -> None:
    data = STORY.encode() * 10
    with pytest.raises(ParseError, match=r"too large: 2,\d{3} bytes, over the limit of 1,000"):
        parse_bytes(data, max_bytes=1_000)
    assert parse_bytes(data[: len(STORY)], max_bytes=1_000)[0].authors == ["Jane Roe"]


def test_utf16_with_bom_is_read() -> None:
    [article] = parse_bytes(codecs.BOM_UTF16_LE + STORY.encode("utf-16-le"))
    assert article.title == "Harbour crane back in service after repairs"


def test_cli_prints_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = DUMPS / "001_scraper.txt"
    assert main(str(path), "Europe/Kyiv") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    printed = json.loads(out[0])
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert printed["title"] == expected["title"]
    assert printed["published"] == expected["published"]
    assert printed["images"] == expected["images"]
    assert set(printed) >= {"title", "authors", "published", "captured", "section", "tags"}


def test_cli_prints_one_line_per_json_lines_record(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).parent / "data" / "json" / "records.jsonl"
    assert main(str(path), None) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["url"][-4:] for line in lines] == ["9001", "9002", "9003"]


def test_cli_reports_parse_errors_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(str(empty), None) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"error: {empty}: empty file (0 bytes)"


def test_cli_rejects_unknown_timezones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(str(DUMPS / "001_scraper.txt"), "Mars/Olympus") == 2
    assert "unknown timezone 'Mars/Olympus'" in capsys.readouterr().err
