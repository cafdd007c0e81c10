"""Snippets: the excerpt a reader sees in an alert, with the words that fired in bold."""

from __future__ import annotations

from alerts.evidence import snippet
from alerts.query import Document, Hit, compile_rules, parse_query

FILLER = "Quiet morning in the region with nothing else to report. " * 8


def hit(text: str, word: str, nth: int = 0) -> Hit:
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return Hit(word, "body", start, start + len(word), word)


def test_short_text_is_shown_whole_with_marks() -> None:
    text = "Troops were seen near Belgorod."
    assert snippet(text, [hit(text, "Troops"), hit(text, "Belgorod")]) == (
        "**Troops** were seen near **Belgorod**."
    )


def test_long_text_is_cut_at_word_boundaries_around_the_hit() -> None:
    text = FILLER + "A drone attack hit the depot overnight. " + FILLER
    excerpt = snippet(text, [hit(text, "drone attack")], width=80)
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert "**drone attack**" in excerpt
    inner = excerpt.strip("…")
    assert inner == inner.strip()
    for word in inner.replace("**", "").split():
        assert word in text.split()  # no word cut in half
    assert len(inner.replace("**", "")) <= 80


def test_the_window_with_most_hits_wins() -> None:
    text = (
        "Kursk was mentioned once at the start. "
        + FILLER
        + "Later, troops crossed near Kursk while troops from Kursk regrouped. "
        + FILLER
    )
    hits = [hit(text, "Kursk", 0), hit(text, "troops"), hit(text, "Kursk", 1)]
    hits += [hit(text, "troops", 1), hit(text, "Kursk", 2)]
    excerpt = snippet(text, hits, width=100)
    assert excerpt.count("**") == 8
    assert "**troops** crossed near **Kursk** while **troops** from **Kursk**" in excerpt


def test_overlapping_hits_are_marked_once() -> None:
    text = "The drone attack began."
    hits = [hit(text, "drone attack"), hit(text, "drone"), hit(text, "attack")]
    assert snippet(text, hits) == "The **drone attack** began."


def test_whitespace_is_collapsed_and_no_hits_gives_the_start() -> None:
    text = "Line one.\n\nLine   two with more words after it."
    assert snippet(text, []) == "Line one. Line two with more words after it."
    assert snippet(text, [], width=15) == "Line one. Line…"
    assert snippet(text, [Hit("x", "body", 500, 505, "ghost")]) == snippet(text, [])


def test_snippet_from_matcher_hits() -> None:
    doc = Document(
        title="Strike on Kryvyi Rih",
        body=FILLER + "A missile struck Kryvyi Rih in the evening, officials said. " + FILLER,
    )
    hits = compile_rules({"r": parse_query('missile NEAR/3 "kryvyi rih"')}).match(doc)["r"]
    body_hits = [h for h in hits if h.field == "body"]
    excerpt = snippet(doc.field_text("body"), body_hits, width=120)
    assert "A **missile** struck **Kryvyi Rih** in the evening" in excerpt
