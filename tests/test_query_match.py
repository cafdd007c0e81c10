"""Matching documents: every operator, scopes, wildcards, proximity, scripts, evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.query import Document, Hit, compile_rules, keywords_query, parse_query
from storage.types import Article

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

REPORT = Document(
    title="Drone attack on fuel depot near Belgorod",
    body=(
        "Regional authorities said a drone attack hit a fuel depot on the outskirts of the city "
        "overnight. Troops were moved to the border district, officials added.\n\n"
        "The governor said air defence units shot down three drones. Western sanctions on "
        "drone parts were discussed at a summit last week.\n\n"
        "Residents described a loud explosion."
    ),
    tags=("Russia", "Belgorod Oblast", "Drone warfare"),
    author="Mariana Kovalenko",
    source="Borderland Daily",
)


def matches(query: str, doc: Document = REPORT) -> bool:
    return "rule" in compile_rules({"rule": parse_query(query)}).match(doc)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # words, whole-word, case
        ("drone", True),
        ("DEPOT", True),
        ("dron", False),
        ("explosions", False),
        # phrases
        ('"drone attack"', True),
        ('"attack drone"', False),
        ('"fuel depot near belgorod"', True),
        ('"explosion residents"', False),
        # AND, implicit AND, OR, NOT
        ("drone AND governor", True),
        ("drone governor", True),
        ("drone AND submarine", False),
        ("submarine OR governor", True),
        ("submarine OR frigate", False),
        ("NOT submarine", True),
        ("NOT drone", False),
        ("drone AND NOT submarine", True),
        ("drone NOT governor", False),
        # precedence: NOT > AND > OR
        ("submarine AND frigate OR governor", True),
        ("submarine AND (frigate OR governor)", False),
        ("NOT submarine AND frigate", False),
        ("NOT (submarine AND frigate)", True),
        ("frigate OR NOT submarine", True),
        ("frigate OR NOT drone", False),
        # wildcards
        ("sanction*", True),
        ("sanctions*", True),
        ("explo*", True),
        ("explosions*", False),
        ('"air def*"', True),
        ('"air off*"', False),
        ('"air defence*"', True),
        ('"defence air*"', False),
        # field scopes
        ("title:belgorod", True),
        ("title:governor", False),
        ("body:governor", True),
        ('title:"drone attack"', True),
        ("title:(governor OR depot)", True),
        ("title:(governor OR explosion)", False),
        ("title:sanction*", False),
        ("body:sanction*", True),
        ('tags:"drone warfare"', True),
        ('tags:"oblast drone"', False),  # tags do not run into each other
        ("author:kovalenko", True),
        ("kovalenko", False),  # unscoped terms read title, body and tags
        ("source:borderland", True),
        ("source:drone", False),
        ("oblast", True),  # from the tags
        # proximity
        ('"drone depot"~3', True),  # drone attack hit a fuel depot: 3 words between
        ('"drone depot"~2', False),
        ('"depot drone"~3', True),  # any order
        ('"troops border district"~4', True),  # were moved to the: 4 words
        ('"troops border district"~3', False),
        ('"drone explosion"~5', False),  # paragraphs apart
        ("drone NEAR/3 depot", True),
        ("drone NEAR/2 depot", False),
        ("depot NEAR/3 drone", True),
        ("(missile OR drone) NEAR/1 attack", True),
        ('"air defence" NEAR/4 drone*', True),  # units shot down three
        ('"air defence" NEAR/3 drone*', False),
        ('"air defence" NEAR/0 units', True),
        ("title:drone NEAR/5 governor", False),  # not in the same field
        ("governor NEAR/3 explosion", False),  # across a paragraph break
        ("sanction* NEAR/2 parts", True),
        ("(drone NEAR/1 attack) NEAR/2 depot", True),
    ],
)
def test_operators(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "title", "body", "expected"),
    [
        ("Белгород", "", "Обстрел БЕЛГОРОДА ночью", False),
        ("Белгород*", "", "Обстрел БЕЛГОРОДА ночью", True),
        ('"белгородской области"', "", "В Белгородской области объявлена тревога", True),
        ("ёлка", "", "Новогодняя елка на площади", True),
        ("елка", "", "Новогодняя ЁЛКА на площади", True),
        ("мой", "", "Это мои слова", False),
        ("Харків", "", "Вибухи у ХАРКОВІ та Харківській області", False),
        ("харків*", "", "Удар по Харківській області", True),
        ("café", "", "A CAFE near the station", True),
        ("cafe", "", "Un café près de la gare", True),
        ('"São Paulo"', "", "Protest in sao paulo today", True),
        ("حلب", "", "قَصْف على مدينة حَلَب", True),
        ("إسرائيل", "", "غارة جوية اسرائيل", True),
        ("北京", "", "今天北京的天气很好", True),
        ("京北", "", "今天北京的天气很好", False),
        ('"北京 天气"', "", "今天北京的天气很好", False),  # 的 stands between
        ('"北京的天气"', "", "今天北京的天气很好", True),
        ("东京", "", "今天北京的天气很好", False),
        ("ウクライナ", "", "ウクライナ軍が発表した", True),
        ("서울", "", "서울 특별시", True),
    ],
)
def test_scripts(query: str, title: str, body: str, expected: bool) -> None:
    assert matches(query, Document(title=title, body=body)) is expected


def test_evidence_points_at_the_text_as_written() -> None:
    found = compile_rules({"rule": parse_query('"Drone attack" AND sanction* NOT frigate')})
    hits = found.match(REPORT)["rule"]
    body = REPORT.body
    assert hits == [
        Hit("Drone attack", "title", 0, 12, "Drone attack"),
        Hit("Drone attack", "body", body.index("drone attack"), body.index(" hit"), "drone attack"),
        Hit("sanction*", "body", body.index("sanctions"), body.index(" on drone"), "sanctions"),
    ]
    for hit in hits:
        assert REPORT.field_text(hit.field)[hit.start : hit.end] == hit.text


def test_evidence_of_or_names_only_what_fired() -> None:
    found = compile_rules({"rule": parse_query("submarine OR (governor AND frigate) OR depot")})
    assert [hit.text for hit in found.match(REPORT)["rule"]] == ["depot", "depot"]


def test_evidence_of_proximity_names_the_words() -> None:
    found = compile_rules({"near": parse_query("title:belgorod NEAR/2 depot")})
    assert [(h.term, h.field, h.text) for h in found.match(REPORT)["near"]] == [
        ("depot", "title", "depot"),
        ("belgorod", "title", "Belgorod"),
    ]


def test_evidence_in_tags_indexes_the_joined_tags() -> None:
    hits = compile_rules({"t": parse_query('tags:"belgorod oblast"')}).match(REPORT)["t"]
    assert hits == [Hit("belgorod oblast", "tags", 7, 22, "Belgorod Oblast")]
    assert REPORT.field_text("tags")[7:22] == "Belgorod Oblast"


def test_many_rules_share_one_matcher() -> None:
    queries = {
        "depot": parse_query("depot"),
        "not-naval": parse_query("NOT (submarine OR frigate)"),
        "naval": parse_query("submarine OR frigate"),
        "either": parse_query("frigate OR NOT drone"),
        "sanctions": parse_query("sanction* AND title:belgorod"),
        "keywords": keywords_query(["Fuel depot", "pipeline"]),
    }
    matcher = compile_rules(queries)
    found = matcher.match(REPORT)
    assert list(found) == ["depot", "not-naval", "sanctions", "keywords"]
    assert found["not-naval"] == []
    # depot, submarine, frigate, drone, sanction*, belgorod, "fuel depot", pipeline
    assert matcher.pattern_count == 8
    assert compile_rules(queries).match(Document(title="", body="")) == {
        "not-naval": [],
        "either": [],
    }


def test_no_rules_and_empty_documents() -> None:
    assert compile_rules({}).match(REPORT) == {}
    assert compile_rules({"n": parse_query("NOT x")}).match(Document("", "")) == {"n": []}


def test_document_from_article_puts_the_lead_in_the_body() -> None:
    article = Article(
        title="Shelling in Kharkiv",
        authors=["A. Writer", "B. Editor"],
        lead="Overnight shelling hit the city.",
        body=["Overnight shelling hit the city.", "Power was cut."],
        tags=["Kharkiv"],
        source="Wire",
    )
    doc = Document.from_article(article)
    assert doc.body == "Overnight shelling hit the city.\n\nPower was cut."
    assert doc.author == "A. Writer\nB. Editor"
    other = Document.from_article(article.replace(body=["Power was cut."]))
    assert other.body == doc.body
    assert matches('author:"writer"', doc) and not matches('author:"writer b"', doc)


def test_the_seed_article() -> None:
    seed = SHARED / "seeds" / "000_b8295c0ec37f5000.txt"
    if not SHARED.exists():
        pytest.skip("the shared test data folder is absent")
    text = seed.read_text(encoding="utf-8")
    doc = Document(title="", body=text)
    matcher = compile_rules(
        {
            "cross-border": parse_query('("armed forces" OR army OR troops) AND belgorod'),
            "exercises": parse_query("exercise* AND belgorod"),
            "kursk-op": parse_query('"kursk operation"'),
            "strike": parse_query('(missile OR drone) NEAR/3 "kryvyi rih"'),
        }
    )
    found = matcher.match(doc)
    assert sorted(found) == ["cross-border", "kursk-op", "strike"]
    for hits in found.values():
        assert all(text[h.start : h.end] == h.text for h in hits)
    assert {h.text for h in found["strike"]} == {"missile", "Kryvyi Rih"}
