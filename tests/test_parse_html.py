"""HTML pages: publisher metadata (JSON-LD, OpenGraph) first, trafilatura for the text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import ParseError
from daemon.parse import parse_bytes
from storage.types import Image

HTML = Path(__file__).parent / "data" / "html"


def _one(name: str, **kwargs: Any) -> dict[str, Any]:
    [article] = parse_bytes((HTML / name).read_bytes(), name=name, **kwargs)
    return article.to_json()


def test_json_ld_news_article_wins_over_the_page_title() -> None:
    out = _one("news_jsonld.html")
    assert out["title"] == "Ferry service to resume across the estuary after storm repairs"
    assert out["authors"] == ["Marta Kowalczyk", "Ben Ashworth"]
    assert out["published"] == "2025-03-14T06:30:00+00:00"
    assert out["section"] == "Local news"
    assert out["tags"] == ["Transport", "Ferries", "Storm damage"]
    assert out["url"] == "https://herald.example.org/news/2025/03/ferry-service-resume"
    assert out["language"] == "en"
    assert out["images"][0] == {
        "caption": "The ferry Saltmarsh at its berth during repairs.",
        "credit": "Lucy Pryor/Coastline Herald",
        "url": "https://herald.example.org/img/ferry.jpg",
    }


def test_main_text_is_the_article_without_navigation_promos_or_footer() -> None:
    out = _one("news_jsonld.html")
    body = out["body"]
    assert isinstance(body, list)
    assert body[0].startswith("The passenger ferry across the estuary will start running")
    assert body[-1].startswith("Season tickets bought before the storm")
    text = " ".join(body)
    for junk in ("cookies", "Weather", "Read more", "Most read", "All rights reserved", "By Marta"):
        assert junk not in text
    assert out["lead"] == body[0]


def test_open_graph_metadata_without_json_ld() -> None:
    out = _one("og_only.html")
    assert out["title"] == "Volunteers plant 12,000 trees on former quarry"
    assert out["authors"] == ["Denise Carter"]
    assert out["published"] == "2025-04-02T20:45:00+00:00"
    assert out["section"] == "Environment"
    assert out["tags"] == ["Trees", "Volunteering"]
    assert out["language"] == "en"
    body = out["body"]
    assert isinstance(body, list) and len(body) == 4
    assert "Share on Facebook" not in " ".join(body)
    assert "newsletter" not in " ".join(body)


def test_page_without_metadata_falls_back_to_extracted_title_and_date() -> None:
    out = _one("bare.html", timezone=ZoneInfo("Europe/London"))
    assert out["title"] == "Library extends opening hours for exam season"
    assert out["published"] is not None
    published = datetime.fromisoformat(str(out["published"]))
    assert published.astimezone(ZoneInfo("Europe/London")).date().isoformat() == "2025-05-06"
    body = out["body"]
    assert isinstance(body, list)
    assert body[0].startswith("The central library will stay open until 10 p.m.")
    assert out["reading_time"] == 1


def test_declared_windows_1251_page_is_read_in_cyrillic() -> None:
    out = _one("cp1251_page.html")
    assert out["title"] == "Новий маршрут тролейбуса з’єднає два райони"
    assert out["language"] == "uk"
    assert len(out["body"]) == 3


def test_page_with_no_article_is_refused_with_a_reason() -> None:
    with pytest.raises(ParseError, match="HTML page holds no article"):
        parse_bytes((HTML / "no_article.html").read_bytes(), name="no_article.html")


def test_html_is_recognised_by_content_whatever_the_file_name() -> None:
    data = (HTML / "og_only.html").read_bytes()
    [article] = parse_bytes(data, name="saved-page.txt")
    assert article.title == "Volunteers plant 12,000 trees on former quarry"
    assert article.images == [] or all(isinstance(i, Image) for i in article.images)
    assert article.published == datetime(2025, 4, 2, 20, 45, tzinfo=UTC)


_PARAGRAPHS = (
    "<p>The city council voted on Thursday evening to build a cycle and footbridge across the "
    "river between the station and the new housing estate on the east bank.</p>"
    "<p>Councillors approved the plan by 34 votes to 9 after a debate of almost three hours, in "
    "which several residents spoke about the long detour they make today.</p>"
    "<p>The bridge will cost about 6.4 million, most of it from a national fund for active "
    "travel, and construction is due to start next spring, the council said.</p>"
)


@pytest.mark.parametrize(
    ("head", "top", "title"),
    [
        ("", "<p>Council votes for a cycle bridge</p>", "Council votes for a cycle bridge"),
        ("<title>Cycle bridge approved</title>", "", "Cycle bridge approved"),
        (
            "",
            "",
            "The city council voted on Thursday evening to build a cycle and footbridge "
            "across the river between the station and…",
        ),
    ],
    ids=["first-heading-like-line", "title-element", "opening-words"],
)
def test_page_without_headline_markup_still_gives_its_article(
    head: str, top: str, title: str
) -> None:
    html = f"<html><head>{head}</head><body><div>{top}{_PARAGRAPHS}</div></body></html>"
    [article] = parse_bytes(html.encode(), name="page.html")
    assert article.title == title
    assert len(article.body) == 3
    assert article.body[0].startswith("The city council voted")
    assert article.title not in article.body


@pytest.mark.parametrize(
    ("head", "h1", "title"),
    [
        (
            '<meta property="og:title" content="Ferry resumes service | Harbour Times">',
            "<h1>Ferry resumes service</h1>",
            "Ferry resumes service",
        ),
        (
            "<title>Harbour Times - Ferry resumes service</title>",
            "<h1>Ferry resumes service</h1>",
            "Ferry resumes service",
        ),
        (
            '<meta property="og:title" content="Ferry resumes service &raquo; Harbour Times">'
            '<meta property="og:site_name" content="Harbour Times">',
            "",
            "Ferry resumes service",
        ),
        (
            '<meta property="og:title" content="Ferry resumes service - Harbour Times">'
            '<meta property="og:site_name" content="Harbour Times">',
            "",
            "Ferry resumes service",
        ),
        (
            '<meta property="og:title" content="Ferry resumes service">',
            "<h1>Ferry resumes service - and more sailings</h1>",
            "Ferry resumes service",
        ),
    ],
    ids=["og-suffix", "title-prefix", "entity-as-separator", "site-name", "longer-h1"],
)
def test_headline_leaves_the_site_name_out(head: str, h1: str, title: str) -> None:
    html = f"<html><head>{head}</head><body>{h1}<div>{_PARAGRAPHS}</div></body></html>"
    [article] = parse_bytes(html.encode(), name="page.html")
    assert article.title == title
