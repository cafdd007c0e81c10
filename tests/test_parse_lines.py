"""The line classifier on lines no fixture was built around, and robustness on any bytes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.errors import ParseError
from daemon.parse import parse_bytes
from daemon.parse.lines import Kind, classify, credit_split, features, names_only


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("date 2025-01-02 Get our app for breaking news alerts.", Kind.CAPTURE),
        ("World, Europe, Poland, Elections, Donald Tusk", Kind.TAGS),
        ("Tags: drones, air defense, Odesa", Kind.TAGS),
        ("News | Opinion | Culture | Sport | Podcasts", Kind.NAV),
        ("Home › Business › Energy", Kind.BREADCRUMB),
        ("by Kateryna Denisova May 2, 2025 6:01 PM 3 min read", Kind.BYLINE),
        ("By SAM JONES | Updated 09:12 BST", Kind.BYLINE),
        ("Reporting by Olena Harmash; editing by Tom Reid", Kind.BYLINE),
        ("Rescuers at the site of the strike. (State Emergency Service)", Kind.CAPTION),
        ("A tram in Lviv. Photo: Ihor Kovalenko / Ukrinform", Kind.CAPTION),
        ("Read more: Why the grid is so hard to protect", Kind.BOILER),
        ("Читайте також: Як працюватимуть школи восени", Kind.BOILER),
        ("Share Facebook Telegram Copy link", Kind.BOILER),
        ("More from this section", Kind.CUT),
        ("© 2025 The Daily Example. All rights reserved.", Kind.FOOTER),
        ("Author: Denys Karlovskyi", Kind.AUTHOR_FOOTER),
        ("Ukraine, Poland and Moldova signed a transit deal on Friday.", Kind.TEXT),
        ("By the end of the week, most schools had reopened.", Kind.TEXT),
        ("Talks resume in Istanbul", Kind.TEXT),
    ],
)
def test_line_kinds(line: str, kind: Kind) -> None:
    assert classify(features(line)) is kind


def test_credit_split_keeps_the_caption_sentence() -> None:
    assert credit_split("A ferry at dawn. (Ann Lee/Reuters)") == (
        "A ferry at dawn.",
        "Ann Lee/Reuters",
    )
    assert credit_split("Photograph: Jo Bell/PA") == ("", "Jo Bell/PA")
    assert credit_split("The mayor spoke (in Ukrainian) for an hour.") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Helen Brooks", True),
        ("Tomasz Wilk and Anna Horvath", True),
        ("Energy Ministry Announces New Grid Tariffs For Winter", False),
        ("Kyiv", False),
        ("Helen Brooks, 14 March", False),
    ],
)
def test_bare_names(line: str, expected: bool) -> None:
    assert names_only(features(line)) is expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8")))
def test_any_bytes_give_articles_or_a_parse_error(data: bytes) -> None:
    try:
        articles = parse_bytes(data, name="fuzz.txt")
    except ParseError as exc:
        assert str(exc)
    else:
        assert articles and all(a.title or a.body for a in articles)
