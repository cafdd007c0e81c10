"""Folding and tokenisation: the ground both queries and articles stand on."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import textnorm


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Kharkiv", "kharkiv"),
        ("CAFÉ", "cafe"),
        ("cafe\u0301", "cafe"),  # decomposed accent stays with its letter
        ("naïve", "naive"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),  # ligature
        ("ＫＹＩＶ", "kyiv"),  # full-width Latin
        ("İstanbul", "istanbul"),
        ("Ἀθῆναι", "αθηναι"),
        ("БЕЛГОРОДСКОЙ", "белгородской"),
        ("Ёлка", "елка"),  # ё is commonly printed as е
        ("за́мок", "замок"),  # stress mark
        ("Йошкар", "йошкар"),  # й is a letter of its own
        ("и\u0306на", "йна"),  # … also when written decomposed
        ("Їжак", "їжак"),
        ("ўсход", "ўсход"),
        ("أَحْمَد", "احمد"),  # vowel points and the hamza seat
        ("العـــربية", "العربية"),  # tatweel
        ("हिन्दी", "हिन्दी"),  # a virama is part of the letter, not an accent
    ],
)
def test_fold(written: str, folded: str) -> None:
    assert textnorm.fold(written) == folded


def test_fold_keeps_distinct_cyrillic_letters_apart() -> None:
    assert textnorm.fold("мой") != textnorm.fold("мои")
    assert textnorm.fold("її") != textnorm.fold("ii")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Russia's war", ["russia", "s", "war"]),
        ("al-Assad, U.S.", ["al", "assad", "u", "s"]),
        ("snake_case", ["snake", "case"]),
        ("мʼясо і м'ясо", ["м", "ясо", "і", "м", "ясо"]),  # both apostrophes split alike
        ("30-day ceasefire", ["30", "day", "ceasefire"]),
        ("我在北京工作", ["我", "在", "北", "京", "工", "作"]),
        ("ウクライナ軍", ["ウ", "ク", "ラ", "イ", "ナ", "軍"]),
        ("서울 특별시", ["서울", "특별시"]),  # Hangul is written with spaces
        ("قصف على مدينة حلب", ["قصف", "على", "مدينة", "حلب"]),
        ("  ...  ", []),
    ],
)
def test_words(text: str, words: list[str]) -> None:
    assert textnorm.words(text) == words


def test_tokens_keep_original_offsets() -> None:
    text = "Near KHARKIV, «Харків»."
    tokens = textnorm.tokenize(text)
    assert [text[t.start : t.end] for t in tokens] == ["Near", "KHARKIV", "Харків"]
    assert [t.text for t in tokens] == ["near", "kharkiv", "харків"]


def test_line_breaks_push_positions_apart() -> None:
    tokens = textnorm.tokenize("one two\n\nthree")
    assert [t.position for t in tokens] == [0, 1, 2 + 2 * textnorm.BOUNDARY_GAP]


def test_analyse_joins_words_for_whole_word_patterns() -> None:
    analysed = textnorm.analyse("Drone ATTACK\nnear Kursk")
    assert analysed.joined == " drone attack \n near kursk "
    assert [analysed.joined[s : s + 5] for s in analysed.starts] == [
        "drone",
        "attac",
        "near ",
        "kursk",
    ]
    assert analysed.spans == [(0, 5), (6, 12), (13, 17), (18, 23)]


# Letters, digits and marks of several scripts, CJK, a tatweel, a modifier apostrophe, an
# underscore, punctuation, and line breaks: every branch of tokenising and folding.
_PIECES = [*"aZé9_ʼ-'. \n\n", "e\u0301", "й", "Ё", "ـ", "ـب", "北京", "カ", "ﬁ", "ｆ", "क्ष"]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_joined_text_is_what_the_word_table_builds(text: str) -> None:
    analysed = textnorm.analyse(text)
    joined, starts, _, _ = textnorm.word_table(text)
    assert analysed.joined == joined
    assert analysed.starts == starts


def test_word_tables_agree_with_the_tokens() -> None:
    text = "Kursk Oblast\n\nnear ‘Sudzha’ — Суджа"
    analysed = textnorm.analyse(text)
    tokens = textnorm.tokenize(text)
    assert analysed.spans == [(t.start, t.end) for t in tokens]
    assert analysed.positions == [t.position for t in tokens]
    at = zip(analysed.starts, tokens, strict=True)
    assert [analysed.joined[s : s + len(t.text)] for s, t in at] == [t.text for t in tokens]
