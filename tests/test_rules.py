"""Rules as users write them: queries, keywords and regions together, with their evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.match import Matcher, RuleErrors, RuleHit
from alerts.payload import build_payload
from alerts.regions import Gazetteer
from alerts.rules import Rule
from daemon.parse import parse_bytes
from storage.types import Article
from tests.support import DATA, ROOT, SHARED

SEED = SHARED / "seeds" / "000_b8295c0ec37f5000.txt"


def rule(name: str, **fields: object) -> Rule:
    return Rule.model_validate({"name": name, "channels": ["log"], **fields})


@pytest.fixture(scope="module")
def seed() -> Article:
    if not SEED.exists():
        pytest.skip("../shared/seeds is not present")
    [article] = parse_bytes(SEED.read_bytes(), name=SEED.name)
    return article


def fired(matcher: Matcher, article: Article) -> dict[str, RuleHit]:
    return {hit.rule.name: hit for hit in matcher.match(article)}


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (["Belgorod Oblast"], True),
        (["RU-KRS"], True),
        (["Dnipropetrovsk Oblast"], True),
        (["Donetsk Oblast"], True),
        (["Ukraine"], True),
        (["Kharkiv Oblast"], False),
        (["Georgia"], False),
        (["Volyn Oblast"], False),
    ],
)
def test_seed_regions_through_the_matcher(
    gazetteer: Gazetteer, seed: Article, regions: list[str], expected: bool
) -> None:
    matcher = Matcher([rule("r", regions=regions)], gazetteer)
    hits = matcher.match(seed)
    assert bool(hits) is expected
    if expected:
        [hit] = hits
        places = [e for e in hit.evidence if e.kind == "place"]
        assert places, hit
        wanted = gazetteer.resolve(regions[0]).code
        for item in places:
            assert wanted in item.chain
            assert seed.text[item.start : item.end] == item.text


def test_query_and_region_must_both_hold(gazetteer: Gazetteer, seed: Article) -> None:
    matcher = Matcher(
        [
            rule("army+dnipro", query='army OR "armed forces"', regions=["Dnipropetrovsk Oblast"]),
            rule("navy+dnipro", query="navy", regions=["Dnipropetrovsk Oblast"]),
            rule("army+kharkiv", query="army", regions=["Kharkiv Oblast"]),
            rule("army-only-title", query="title:army"),
            rule("exercise", query="army AND NOT ceasefire"),
        ],
        gazetteer,
    )
    hits = fired(matcher, seed)
    assert set(hits) == {"army+dnipro", "army-only-title"}
    kinds = {e.kind for e in hits["army+dnipro"].evidence}
    assert kinds == {"term", "place"}
    kryvyi = [e for e in hits["army+dnipro"].evidence if e.kind == "place"]
    assert [e.text for e in kryvyi] == ["Kryvyi Rih"]
    assert "**" in hits["army+dnipro"].excerpt


def test_sources_languages_mentions_and_score(gazetteer: Gazetteer) -> None:
    article = Article(
        title="Troops seen near the border",
        body=["Witnesses said troops moved at night.", "Officials declined to comment."],
        source="wire",
        language="en",
    )
    matcher = Matcher(
        [
            rule("wire", keywords=["troops"], sources=["wire"]),
            rule("other-source", keywords=["troops"], sources=["blog"]),
            rule("russian-only", keywords=["troops"], languages=["ru"]),
            rule("twice", keywords=["troops"], min_mentions=2),
            rule("thrice", keywords=["troops"], min_mentions=3),
            rule("title-weight", keywords=["troops"], min_score=5),  # title 3 + lead 2
            rule("too-high", keywords=["troops"], min_score=6),
        ],
        gazetteer,
    )
    verdicts = {r.name: v for r, v in matcher.explain(article)}
    assert {name for name, v in verdicts.items() if isinstance(v, RuleHit)} == {
        "wire",
        "twice",
        "title-weight",
    }
    assert verdicts["other-source"] == "source 'wire' is not in sources"
    assert verdicts["thrice"] == "2 mentions, fewer than min_mentions = 3"
    assert verdicts["too-high"] == "score 5 is below min_score = 6"


def test_bad_queries_and_unknown_regions_are_reported_together(gazetteer: Gazetteer) -> None:
    with pytest.raises(RuleErrors) as caught:
        Matcher(
            [
                rule("ok", keywords=["army"]),
                rule("broken", query='("drone attack" OR troops'),
                rule("nowhere", regions=["Atlantisland"]),
            ],
            gazetteer,
        )
    problems = [(p.index, p.key) for p in caught.value.problems]
    assert problems == [(1, "query"), (2, "regions")]
    assert "^" in caught.value.problems[0].detail


def test_payload_carries_the_evidence(gazetteer: Gazetteer, seed: Article) -> None:
    [hit] = Matcher([rule("r", query="offensive*", regions=["RU-KRS"])], gazetteer).match(seed)
    payload = build_payload(hit, seed, story_id=3)
    evidence = payload["evidence"]
    assert {e["kind"] for e in evidence} == {"term", "place"}
    place = next(e for e in evidence if e["kind"] == "place")
    assert place["chain"] == ["RU-KRS", "RU"] and place["code"] == "RU-KRS"
    assert payload["matched"][0].lower().startswith("offensive")


def test_rules_test_command_explains_each_rule(
    tmp_path: Path, gazetteer: Gazetteer, cache_dir: Path
) -> None:
    """The command reads the gazetteer the session already built (a cache of its own would
    be built again, a minute of the suite)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "cache").symlink_to(cache_dir, target_is_directory=True)
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
data_dir = "{data}"
[[rules]]
name = "Army near Kharkiv"
query = "army AND Vovchansk"
regions = ["Kharkiv Oblast"]
channels = ["log"]
[[rules]]
name = "Navy"
query = "navy OR fleet"
channels = ["log"]
[channels.log]
type = "file"
path = "alerts.jsonl"
""",
        encoding="utf-8",
    )
    article = DATA / "articles" / "army_vovchansk.txt"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "daemon",
            "--settings",
            str(settings),
            "rules",
            "test",
            "--json",
            "--timezone",
            "Europe/Kyiv",
            str(article),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    report = json.loads(line)
    verdicts = {r["rule"]: r for r in report["rules"]}
    assert verdicts["Army near Kharkiv"]["matched"] is True
    places = [e for e in verdicts["Army near Kharkiv"]["evidence"] if e["kind"] == "place"]
    assert {"UA-63", "UA"} <= {code for e in places for code in e["chain"]}
    assert verdicts["Navy"] == {"rule": "Navy", "matched": False, "reason": "query did not match"}


def test_check_shows_the_query_error_with_a_caret(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[[rules]]\nname = "x"\nquery = \'army AND (troops\'\nchannels = ["log"]\n'
        '[channels.log]\ntype = "file"\npath = "a.jsonl"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "check", str(settings)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{settings}: rules[0].query: ") and lines[0].endswith("(line 3)")
    caret_line = next(line for line in lines if line.strip().startswith("^"))
    query_line = next(line for line in lines if "query: army AND (troops" in line)
    # The missing parenthesis is at the end of the query: the caret stands right after it.
    assert caret_line.index("^") == len(query_line.rstrip())
