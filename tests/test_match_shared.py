"""Rules that fire on the same article share its evidence, scores and excerpts.

Sharing is only a saving: every rule must get exactly what it would get matched alone, on
every article, in any company, however many times the matcher has run before.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alerts.evidence import ELLIPSIS, MARK, snippet
from alerts.match import Matcher, RuleErrors, RuleHit
from alerts.query import Document, Hit, compile_rules, parse_query
from alerts.regions import Gazetteer
from alerts.rules import Rule
from storage.types import Article
from tests.test_query_property import documents, queries

ARTICLES = [
    Article(
        title="Drones over Kharkiv as troops gather near Belgorod",
        body=[
            "Air defence units in Kharkiv intercepted drones overnight, officials in Ukraine "
            "said, while troops were seen on the road to Belgorod.",
            "In Kursk, the governor ordered an evacuation of border villages after shelling. "
            "Drones also struck a depot near Kharkiv, and sanctions were discussed in Kyiv.",
            "Analysts in Russia said troops and drones would stay near the border with Ukraine.",
        ],
        tags=["Kharkiv", "drones"],
        source="wire",
        language="en",
    ),
    Article(
        title="Floods in Bavaria",
        body=["Rivers rose across Bavaria; troops helped with the evacuation in Munich."],
        source="blog",
        language="en",
    ),
]


def rule(name: str, **fields: object) -> Rule:
    return Rule.model_validate({"name": name, "channels": ["log"], **fields})


RULES = [
    rule("drones", query="drones"),
    rule("drones again", query="drones"),  # the same query: one shared node
    rule("drones as keyword", keywords=["drones"]),
    rule("drones or troops", query="drones OR troops OR evacuation"),
    rule("troops or drones", query="troops OR drones OR evacuation"),
    rule("drones or dron*", query="drones OR dron*"),  # one place, two terms: the last names it
    rule("dron* or drones", query="dron* OR drones"),
    rule("drones and kharkiv", query='drones AND "Kharkiv"'),
    rule("drones near kharkiv", query='drones NEAR/5 "Kharkiv"'),
    rule("drones, five times", query="drones", min_mentions=5),
    rule("drones, six times", query="drones", min_mentions=6),
    rule("drones, heavy", query="drones", min_score=9),
    rule("troops, title", query='title:troops OR tags:"Kharkiv"'),
    rule("sanction*", query="sanction* AND NOT exercise*"),
    rule("ukraine", regions=["Ukraine"]),
    rule("ukraine again", regions=["Ukraine"]),  # the same filter: one check per article
    rule("ua", regions=["UA"]),
    rule("ukraine drones", regions=["Ukraine"], query="drones OR troops"),
    rule("ukraine but kharkiv", regions=["Ukraine"], exclude_regions=["Kharkiv Oblast"]),
    rule("troops, not russia", keywords=["troops"], exclude_regions=["Russia"]),
    rule("russia", regions=["Russia"], keywords=["troops"]),
    rule("russia, wire", regions=["Russia"], sources=["wire"]),
    rule("russia, blog", regions=["RU"], sources=["blog"]),
    rule("germany", regions=["DE"], query="evacuation"),
]


def verdict(value: RuleHit | str) -> object:
    if isinstance(value, RuleHit):
        return (value.rule.name, value.evidence, value.excerpt, value.score)
    return value


@pytest.fixture(scope="module")
def alone(gazetteer: Gazetteer) -> dict[tuple[int, str], object]:
    """Each rule's verdict on each article, from a matcher holding that rule only."""
    found = {}
    for index, article in enumerate(ARTICLES):
        for item in RULES:
            [(_, value)] = Matcher([item], gazetteer).explain(article)
            found[index, item.name] = verdict(value)
    return found


def test_rules_together_match_as_each_alone(
    gazetteer: Gazetteer, alone: dict[tuple[int, str], object]
) -> None:
    shuffled = RULES[:]
    random.Random(4).shuffle(shuffled)
    for rules in (RULES, shuffled):
        matcher = Matcher(rules, gazetteer)
        for _ in range(2):  # nothing one article shares may leak into the next
            for index, article in enumerate(ARTICLES):
                hits = [verdict(hit) for hit in matcher.match(article)]
                expected = [alone[index, r.name] for r in rules]
                assert hits == [v for v in expected if isinstance(v, tuple)]
                explained = [verdict(v) for _, v in matcher.explain(article)]
                assert explained == expected
    fired = {hit.rule.name for hit in Matcher(RULES, gazetteer).match(ARTICLES[0])}
    assert {"drones", "drones again", "ukraine drones", "ukraine"} <= fired  # a real test


def test_a_disabled_rule_sharing_a_query_is_left_out() -> None:
    article = ARTICLES[0]
    matcher = Matcher([rule("on", query="drones"), rule("off", query="drones", enabled=False)])
    assert [hit.rule.name for hit in matcher.match(article)] == ["on"]
    assert [r.name for r, _ in matcher.explain(article)] == ["on"]
    with pytest.raises(RuleErrors):  # but its settings are still checked
        Matcher([rule("on", query="drones"), rule("off", query="(drones", enabled=False)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries, min_size=2, max_size=6), st.lists(documents, min_size=1, max_size=2))
def test_queries_together_give_the_evidence_each_gives_alone(
    sources: list[str], docs: list[Document]
) -> None:
    parsed = {f"rule{i}": parse_query(text) for i, text in enumerate(sources)}
    together = compile_rules(parsed)
    for doc in docs:
        found = together.match(doc)
        for name, query in parsed.items():
            assert found.get(name) == compile_rules({name: query}).match(doc).get(name)


# --- excerpts: the same as the straightforward algorithm ------------------------------------


def reference_snippet(text: str, hits: list[Hit], width: int = 240) -> str:
    """Every window counted against every hit, as ``snippet`` was first written."""
    spans: list[tuple[int, int]] = []
    for start, end in sorted((h.start, h.end) for h in hits if 0 <= h.start < h.end <= len(text)):
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    start, end = reference_window(text, spans, width)
    pieces, cursor = [], start
    for s, e in spans:
        if start <= s and e <= end:
            pieces += [text[cursor:s], MARK, text[s:e], MARK]
            cursor = e
    pieces.append(text[cursor:end])
    shown = " ".join("".join(pieces).split())
    return (ELLIPSIS if start > 0 else "") + shown + (ELLIPSIS if end < len(text) else "")


def reference_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    start, end, first = 0, min(width, len(text)), (0, 0)
    best_count = -1
    for anchor_start, anchor_end in spans:
        lead = max(0, (width - (anchor_end - anchor_start)) // 3)
        window_start = max(0, anchor_start - lead)
        window_end = max(anchor_end, window_start + width)
        count = sum(1 for s, e in spans if window_start <= s and e <= window_end)
        if count > best_count:
            start, end, best_count = window_start, window_end, count
            first = next(s for s in spans if start <= s[0])
    if start > 0 and not text[start - 1].isspace():
        while start < first[0] and not text[start].isspace():
            start += 1
    if end >= len(text):
        return start, len(text)
    while end > first[1] and not text[end].isspace():
        end -= 1
    return start, end


def body_hit(start: int, end: int) -> Hit:
    return Hit("t", "body", start, end, "")


words = st.sampled_from(["Kursk", "drone", "attack", "a", "troops", "in", "the", "border"])


@st.composite
def texts_with_hits(draw: st.DrawFn) -> tuple[str, list[Hit], int]:
    chosen = draw(st.lists(words, min_size=1, max_size=120))
    text = "".join(w + draw(st.sampled_from([" ", " ", "\n", ", "])) for w in chosen)
    bounds = st.integers(-3, len(text) + 3)
    hits = [
        body_hit(start, start + length)
        for start, length in draw(st.lists(st.tuples(bounds, st.integers(-1, 30)), max_size=25))
    ]
    return text, hits, draw(st.sampled_from([20, 60, 240]))


@settings(max_examples=400, deadline=None)
@given(texts_with_hits())
@example(("word " * 20, [body_hit(0, 5), body_hit(15, 20), body_hit(30, 35), body_hit(36, 40)], 20))
def test_snippet_agrees_with_the_straightforward_algorithm(
    case: tuple[str, list[Hit], int],
) -> None:
    text, hits, width = case
    assert snippet(text, hits, width) == reference_snippet(text, hits, width)
    assert snippet(text, hits[::-1] + hits, width) == snippet(text, hits, width)
