"""JSON records: one object or JSON Lines, the documented schema, unknown keys in ``extra``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import ParseError
from daemon.parse import parse_bytes

JSON = Path(__file__).parent / "data" / "json"
KYIV = ZoneInfo("Europe/Kyiv")


def test_one_record_with_local_time_and_unknown_keys() -> None:
    [article] = parse_bytes((JSON / "record.json").read_bytes(), timezone=KYIV, source="drops")
    assert article.title == "Water tower in Pavlohrad repaired after shelling"
    assert article.url == "https://drops.example.org/items/8841"
    assert article.published == datetime(2025, 5, 21, 15, 20, tzinfo=UTC)
    assert article.authors == ["Svitlana Oliinyk"]
    assert article.tags == ["Pavlohrad", "Water supply", "Dnipropetrovsk Oblast"]
    assert len(article.body) == 3
    assert article.lead.startswith("Engineers finished repairing")
    assert article.extra == {"scraper": "regional-news-v3", "confidence": 0.87}
    assert article.source == "drops"


def test_json_lines_give_one_article_per_line() -> None:
    articles = parse_bytes((JSON / "records.jsonl").read_bytes(), timezone=KYIV)
    assert [a.url for a in articles] == [
        "https://drops.example.org/items/9001",
        "https://drops.example.org/items/9002",
        "https://drops.example.org/items/9003",
    ]
    first, second, third = articles
    assert first.authors == ["Oleksii Moroz", "Nadiia Hryhorenko"]
    assert first.tags == ["Zaporizhzhia", "Curfew"]
    assert first.published == datetime(2025, 6, 5, 6, 0, tzinfo=UTC)
    assert first.body == [
        "The regional military administration shortened the night curfew by an hour "
        "starting on Friday.",
        "The curfew will now run from midnight to 5 a.m.",
    ]
    assert second.body == [
        "У ліцеї в Ірпені завершили будівництво укриття на 600 учнів.",
        "Навчання в приміщенні відновиться з першого вересня.",
    ]
    assert second.published == datetime(2025, 6, 5, 9, 0, tzinfo=UTC)
    assert second.extra == {"region": "Kyiv Oblast"}
    assert third.published == datetime(2025, 6, 5, 11, 10, tzinfo=UTC)
    assert third.language == "en"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"title": "x", "authors": 5}', "'authors' must be a list of strings or a string"),
        (b'{"title": "x", "published": "next full moon"}', "'published' is not a date or time"),
        (b'{"title": ', "invalid JSON: Expecting value at line 1"),
        (b'{"title": "a", "text": "b"}\n{"title": oops}\n', "invalid JSON Lines: line 2"),
        (b"[1, 2]", "JSON record 1 is a int, not an object"),
        (b"[]", "JSON holds no records"),
        (b'{"url": "https://x.example/"}', "has neither a title nor text/html"),
    ],
)
def test_bad_records_are_refused_with_a_precise_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, name="drop.json")
    assert reason in str(caught.value)
