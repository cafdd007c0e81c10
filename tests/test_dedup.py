"""Each dedup level on realistic cases: item identity, article identity, story grouping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from daemon.dedup import (
    Candidate,
    Kind,
    MemorySketchIndex,
    Reason,
    Sketch,
    StoryDecider,
    alert_round,
    band_keys,
    canonical_url,
    content_hash,
    item_key,
    place,
    sketch,
)
from daemon.dedup.sketch import NUM_BINS

_LINES = (Path(__file__).parent / "data/dedup/articles.jsonl").read_text("utf-8").splitlines()
ARTICLES = {a["id"]: a for a in map(json.loads, _LINES)}
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://WWW.Example.COM:80/news/a/?utm_source=tg&utm_medium=x", "https://example.com/news/a"),
        ("https://example.com/news/a?fbclid=IwAR0&gclid=abc#comments", "https://example.com/news/a"),
        ("https://example.com:443/news/a/amp", "https://example.com/news/a"),
        ("https://amp.example.com/news/a.amp.html", "https://example.com/news/a.html"),
        ("https://example-com.cdn.ampproject.org/c/s/example.com/news/a", "https://example.com/news/a"),
        ("https://example.com/news/a?outputType=amp", "https://example.com/news/a"),
        ("https://example.com/story?id=7&b=2&a=1", "https://example.com/story?a=1&b=2&id=7"),
        ("https://example.com:8443/a/", "https://example.com:8443/a"),
        ("https://example.com/app#!/article/9", "https://example.com/app#!/article/9"),
        ("https://example.com/caf%C3%A9", "https://example.com/caf%C3%A9"),
        ("tag:example.com,2024:/b/1", "tag:example.com,2024:/b/1"),
    ],
)  # fmt: skip
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_keeps_pages_apart() -> None:
    assert canonical_url("https://example.com/a?id=1") != canonical_url(
        "https://example.com/a?id=2"
    )
    assert canonical_url("https://example.com/a") != canonical_url("https://example.org/a")


def test_item_key_prefers_guid_then_url_then_text() -> None:
    by_guid = item_key("urn:1", "https://example.com/a", "T", "x")
    assert by_guid == item_key("urn:1", "https://example.com/b", "Other", "y")
    assert by_guid != item_key("urn:2", "https://example.com/a", "T", "x")
    by_url = item_key(None, "http://www.example.com/a/?utm_campaign=rss", "T", "x")
    assert by_url == item_key("  ", "https://example.com/a", "Other", "y")
    assert item_key(None, None, "Title", "Body.") == item_key(None, None, "title", "body")
    assert item_key(None, None, "Title", "Body") != item_key(None, None, "Title", "Other")


def test_permalink_guids_survive_a_move_to_https() -> None:
    assert item_key("http://example.com/p/1", None, "", "") == item_key(
        "https://example.com/p/1/", None, "", ""
    )


def test_content_hash_ignores_layout_case_punctuation_and_boilerplate() -> None:
    base = ARTICLES["kharkiv/base"]["text"]
    paragraphs = base.split("\n\n")[1:]  # without the byline
    rewrapped = "\n".join(p.upper().replace(", ", " — ") for p in paragraphs)
    wrapped = "\n\n".join(
        ["By Someone Else, Eastern Wire", *paragraphs, "Sign up for our newsletter.", "© 2024"]
    )
    assert content_hash(base) == content_hash(rewrapped) == content_hash(wrapped)
    assert content_hash(base) != content_hash(ARTICLES["kharkiv/update"]["text"])


def test_short_bodies_do_not_identify_an_article() -> None:
    assert content_hash("More to follow.") == ""
    assert sketch("Live", "More to follow.").text_key == 0


def test_sketch_round_trips_through_bytes() -> None:
    a = ARTICLES["odesa/base"]
    s = sketch(a["title"], a["text"], "https://example.com/odesa")
    assert Sketch.from_bytes(s.to_bytes()) == s
    with pytest.raises(ValueError):
        Sketch.from_bytes(s.to_bytes()[:-1])


def test_a_version_1_sketch_still_reads_without_lead_keys() -> None:
    a = ARTICLES["odesa/base"]
    s = sketch(a["title"], a["text"])
    assert len(s.lead) >= 2
    old = bytes([1]) + s.to_bytes()[1 : -(1 + 8 * len(s.lead))]
    assert Sketch.from_bytes(old) == Sketch(s.signature, s.size, s.text_key, s.title_key, 0)


def test_lead_keys_ignore_a_dateline_put_in_front_of_the_first_sentence() -> None:
    text = (
        "The port authority closed two grain terminals on Thursday after an overnight fire"
        " damaged the conveyor that feeds them. Officials said loading would resume next week."
    )
    plain = sketch("Terminals shut", text)
    wired = sketch("Terminals shut", "IZMAIL, May 14 (Reuters) - " + text)
    assert plain.lead and plain.lead == wired.lead


def test_band_keys_fit_bigint_and_empty_text_has_none() -> None:
    a = ARTICLES["odesa/base"]
    keys = band_keys(sketch(a["title"], a["text"], "https://example.com/odesa"))
    assert len(keys) > NUM_BINS // 4
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert band_keys(sketch("", "")) == []


class Store:
    """Articles placed in order, as the store will: lookup, decide, record."""

    def __init__(self, decider: StoryDecider | None = None) -> None:
        self.index = MemorySketchIndex()
        self.decider = decider or StoryDecider()
        self.items: dict[str, Candidate] = {}
        self.stories = 0

    async def put(self, art: dict[str, Any], at: datetime, item: str | None = None) -> Any:
        s = sketch(art["title"], art["text"])
        decision = await place(self.index, self.decider, s, at, self.items.get(item or ""))
        if decision.kind is Kind.SAME:
            return decision
        story = decision.story_id
        if story is None:
            self.stories += 1
            story = self.stories
        entry = Candidate(story, len(self.items) + 1, s, at)
        self.items[item or f"#{entry.article_id}"] = entry
        await self.index.add(story, entry.article_id, band_keys(s), s, at)
        return decision


@pytest.mark.parametrize("topic", ["kharkiv", "gao"])
async def test_one_wire_report_from_three_outlets_is_one_story(topic: str) -> None:
    store = Store()
    for n, variant in enumerate(("base", "synd", "synd2")):
        await store.put(ARTICLES[f"{topic}/{variant}"], T0 + timedelta(hours=n))
    assert store.stories == 1


@pytest.mark.parametrize("topic", ["kharkiv", "odesa", "bavaria", "gao", "dnipro", "belgrade"])
async def test_two_reports_from_one_region_on_one_day_are_two_stories(topic: str) -> None:
    store = Store()
    await store.put(ARTICLES[f"{topic}/base"], T0)
    decision = await store.put(ARTICLES[f"{topic}/neg"], T0 + timedelta(hours=5))
    assert decision.kind is Kind.NEW
    assert store.stories == 2


async def test_a_follow_up_reusing_background_is_a_new_story() -> None:
    store = Store()
    await store.put(ARTICLES["dnipro/base"], T0)
    assert (await store.put(ARTICLES["dnipro/follow"], T0 + timedelta(days=2))).kind is Kind.NEW


LONG_REPORT = [
    "Flood water broke through a levee south of the town of Mirny on Sunday night, forcing the"
    " evacuation of about 2,300 residents from three low-lying districts, the regional emergency"
    " service said. Rescue teams used boats to reach families trapped on upper floors.",
    "The river had risen nearly four metres in two days after heavy rain upstream. Engineers had"
    " reinforced the embankment with sandbags on Saturday, but the water found a weak section"
    " near the old railway bridge shortly before midnight.",
    "Schools in the affected districts were turned into shelters, and the local hospital moved"
    " patients from its ground floor as a precaution. Drinking water was being delivered by"
    " tanker trucks because the main pumping station was under water.",
    "The governor declared a state of emergency for the district and asked the national"
    " government for additional pumps and helicopters. Forecasters expect more rain on Tuesday.",
    "Residents said warnings came late. A pensioner who lives near the bridge said she heard the"
    " sirens only when the water was already in her courtyard, and lost most of her belongings.",
    "Officials said the levee was last repaired fifteen years ago and that a full inspection"
    " had been planned for the summer. Prosecutors opened an inquiry into its maintenance.",
]


async def test_a_brief_under_its_own_headline_joins_the_full_report() -> None:
    store = Store()
    full = {"title": "Levee breach floods three districts", "text": "\n\n".join(LONG_REPORT)}
    brief = {
        "title": "Thousands evacuated as river bursts its banks",
        "text": "MIRNY, May 14 (AP) - " + LONG_REPORT[0] + "\n\nMore to follow.",
    }
    await store.put(full, T0)
    joined = await store.put(brief, T0 + timedelta(hours=2))
    assert (joined.kind, joined.reason) == (Kind.JOIN, Reason.LEAD)
    assert store.stories == 1


async def test_a_follow_up_that_repeats_the_lead_is_its_own_story() -> None:
    store = Store()
    await store.put({"title": "Levee breach floods", "text": "\n\n".join(LONG_REPORT)}, T0)
    follow = [
        "Clean-up began in Mirny on Wednesday as the river fell back below the warning level,"
        " and the first of the evacuated families were allowed to return to their homes.",
        LONG_REPORT[0],
        "Insurers sent assessors to the three districts, where ground floors and cellars were"
        " still full of mud. The town council promised grants to households without cover.",
        "The railway bridge was reopened to freight after divers checked its supports, and the"
        " water company said the pumping station would be running again within a week.",
        "Volunteers from neighbouring villages have been clearing streets, and a collection for"
        " those who lost their belongings raised more than the council had expected.",
        "The inquiry into the levee's maintenance will report to the governor within a month,"
        " prosecutors said, and the contractor who last repaired it has been asked for papers.",
    ]
    decision = await store.put(
        {"title": "Mirny starts clean-up as river falls", "text": "\n\n".join(follow)},
        T0 + timedelta(days=2),
    )
    assert decision.kind is Kind.NEW


async def test_a_corrected_version_of_the_same_item_is_an_update_of_its_story() -> None:
    store = Store()
    first = await store.put(ARTICLES["nairobi/base"], T0, item="g:cbk-rate")
    again = await store.put(ARTICLES["nairobi/base"], T0 + timedelta(hours=1), item="g:cbk-rate")
    corrected = await store.put(ARTICLES["nairobi/update"], T0 + timedelta(hours=3), "g:cbk-rate")
    assert (first.kind, again.kind, corrected.kind) == (Kind.NEW, Kind.SAME, Kind.UPDATE)
    assert corrected.story_id == 1 and corrected.reason is Reason.ITEM


async def test_a_corrected_version_under_a_new_address_joins_the_story() -> None:
    store = Store()
    await store.put(ARTICLES["nairobi/base"], T0)
    decision = await store.put(ARTICLES["nairobi/update"], T0 + timedelta(hours=3))
    assert (decision.kind, decision.story_id, decision.reason) == (Kind.JOIN, 1, Reason.SKETCH)


@pytest.mark.parametrize(("on_update", "alerts"), [("ignore", 1), ("alert", 2)])
async def test_updates_alert_again_only_when_the_rule_asks(on_update: Any, alerts: int) -> None:
    """A set of (rule, story, channel, round) stands in for the alerts' unique constraint."""
    store, sent = Store(), set()
    updates = 0
    for variant, hours in (("base", 0), ("synd", 1), ("update", 3)):
        decision = await store.put(ARTICLES[f"dhaka/{variant}"], T0 + timedelta(hours=hours), item=(
            "g:dhaka" if variant != "synd" else None
        ))  # fmt: skip
        updates += decision.kind is Kind.UPDATE
        round_ = alert_round(decision.kind, on_update, updates)
        if round_ is not None:
            sent.add(("rule", decision.story_id or store.stories, "desk", round_))
    assert len(sent) == alerts


def test_the_same_item_unchanged_never_alerts() -> None:
    assert alert_round(Kind.SAME, "alert", 3) is None
    assert alert_round(Kind.JOIN, "alert", 0) == 0


async def test_copies_outside_the_window_start_a_new_story() -> None:
    store = Store()
    await store.put(ARTICLES["malatya/base"], T0)
    late = await store.put(ARTICLES["malatya/synd"], T0 + timedelta(days=4))
    assert late.kind is Kind.NEW


async def test_the_most_similar_story_wins() -> None:
    store = Store()
    await store.put(ARTICLES["telecom/neg"], T0)
    await store.put(ARTICLES["telecom/base"], T0 + timedelta(minutes=5))
    decision = await store.put(ARTICLES["telecom/synd"], T0 + timedelta(hours=1))
    assert decision.story_id == 2


async def test_a_hot_key_returns_only_the_most_recent_entries() -> None:
    index = MemorySketchIndex(per_key_limit=10)
    s = sketch("Live updates", "")
    for n in range(100):
        await index.add(n, n, [42], s, T0 + timedelta(minutes=n))
    found = await index.candidates([42], T0)
    assert sorted(c.article_id for c in found) == list(range(90, 100))
    assert await index.candidates([42], T0 + timedelta(minutes=95)) != []
    assert len(await index.candidates([42], T0 + timedelta(minutes=95))) == 5


async def test_a_hot_key_keeps_the_most_recent_when_articles_arrive_out_of_order() -> None:
    index = MemorySketchIndex(per_key_limit=3)
    s = sketch("Live updates", "")
    for n in (5, 1, 9, 3, 7, 2, 8):  # published minutes, in arrival order
        await index.add(n, n, [42], s, T0 + timedelta(minutes=n))
    found = await index.candidates([42], T0)
    assert sorted(c.article_id for c in found) == [7, 8, 9]


async def test_prune_forgets_old_articles_and_their_keys() -> None:
    index = MemorySketchIndex()
    a, b = ARTICLES["cluj/base"], ARTICLES["cluj/synd"]
    sa, sb = sketch(a["title"], a["text"]), sketch(b["title"], b["text"])
    await index.add(1, 1, band_keys(sa), sa, T0 - timedelta(days=100))
    await index.add(1, 2, band_keys(sb), sb, T0)
    assert await index.prune(T0 - timedelta(days=90)) == 1
    assert len(index) == 1
    found = await index.candidates(band_keys(sa), T0 - timedelta(days=365))
    assert [c.article_id for c in found] == [2]
