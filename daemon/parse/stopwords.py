"""Stop-word density: the share of a line's words that are function words of its language.

Sentences are full of "the", "und", "что"; menus, lists of names and tag clouds hardly have
any, whatever their length. jusText's stoplists (shipped with trafilatura's dependency
jusText) give the words for the languages news is written in; the page's language is the one
whose list its words hit most.
"""

from __future__ import annotations

import re
from functools import cache

import justext

_LANGUAGES = (
    "English", "German", "French", "Spanish", "Italian", "Portuguese", "Dutch", "Polish",
    "Russian", "Ukrainian", "Czech", "Slovak", "Swedish", "Danish", "Norwegian_Bokmal",
    "Finnish", "Turkish", "Romanian", "Hungarian", "Croatian", "Serbian", "Bulgarian",
    "Greek", "Indonesian", "Catalan", "Lithuanian", "Latvian", "Estonian", "Slovenian",
    "Belarusian", "Georgian", "Hebrew", "Arabic", "Persian",
)  # fmt: skip
_CONTENT_LETTERS = 3
_STEM = 5
_SAMPLE_WORDS = 600  # enough to tell languages apart; a page has thousands
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@cache
def _index() -> dict[str, int]:
    """Each stop word with a bit per language whose list holds it."""
    index: dict[str, int] = {}
    for bit, language in enumerate(_LANGUAGES):
        for word in justext.get_stoplist(language):
            clean = word.strip(".,;:!?\"'()«»„“”").lower()
            if clean:
                index[clean] = index.get(clean, 0) | (1 << bit)
    return index


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def page_language(lines: list[str]) -> int | None:
    """The bit of the language whose stop words the page's words hit most (None: no hits,
    as in scripts without spaces between words)."""
    index = _index()
    hits = [0] * len(_LANGUAGES)
    seen = 0
    for line in lines:
        for word in words(line):
            mask = index.get(word, 0)
            while mask:
                low = mask & -mask
                hits[low.bit_length() - 1] += 1
                mask ^= low
            seen += 1
        if seen >= _SAMPLE_WORDS:
            break
    best = max(range(len(hits)), key=hits.__getitem__)
    return 1 << best if hits[best] else None


def density(text: str, language: int | None) -> float | None:
    """Share of stop words among the words of ``text``; None where it cannot be told."""
    if language is None:
        return None
    found = words(text)
    if not found:
        return 0.0
    index = _index()
    return sum(1 for w in found if index.get(w, 0) & language) / len(found)


def language_name(language: int | None) -> str | None:
    return None if language is None else _LANGUAGES[language.bit_length() - 1]


def content_words(text: str, language: int | None) -> set[str]:
    """The words of ``text`` that carry its meaning (no stop words), folded to a stem of
    five letters so "Rheinfelden" meets "Rheinfeldens" and "мост" meets "моста"."""
    index = _index()
    mask = language or 0
    return {
        w[:_STEM] for w in words(text) if len(w) >= _CONTENT_LETTERS and not index.get(w, 0) & mask
    }
