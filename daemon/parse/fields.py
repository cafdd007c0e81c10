"""Field helpers every parser shares, so an author list or a reading time means the same
thing whether it came from a text dump, an HTML page, a JSON record or a feed entry."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

WORDS_PER_MINUTE = 200

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\bі\b|\bта\b|\bи\b)\s*")
_NAME_PARTICLES = frozenset(
    [
        "de",
        "da",
        "di",
        "del",
        "van",
        "von",
        "der",
        "den",
        "al",
        "bin",
        "ibn",
        "la",
        "le",
        "du",
        "dos",
        "das",
    ]
)
_LATIN_STOPWORDS = {
    "en": frozenset(
        [
            "the",
            "and",
            "of",
            "to",
            "in",
            "is",
            "that",
            "for",
            "on",
            "with",
            "was",
            "as",
            "by",
            "at",
            "from",
            "has",
            "have",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "mit",
            "den",
            "von",
            "zu",
            "sich",
            "auf",
            "für",
            "im",
            "dem",
            "des",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "des",
            "est",
            "une",
            "dans",
            "pour",
            "que",
            "qui",
            "sur",
            "pas",
            "par",
            "au",
            "du",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "que",
            "en",
            "del",
            "por",
            "con",
            "una",
            "para",
            "es",
            "se",
            "al",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "che",
            "di",
            "della",
            "per",
            "non",
            "sono",
            "una",
            "con",
            "del",
            "alla",
            "gli",
            "nel",
        ]
    ),
    "pl": frozenset(
        ["i", "w", "na", "się", "że", "nie", "jest", "do", "z", "to", "jak", "przez", "oraz", "po"]
    ),
}
_UK_LETTERS = re.compile("[іїєґ]")
_RU_LETTERS = re.compile("[ыэъё]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")


def opening_words(paragraph: str, count: int) -> str:
    """A title for an article that printed none: its first words, marked as cut."""
    words = paragraph.split()
    return " ".join(words) if len(words) <= count else " ".join(words[:count]) + "…"


def clean_line(text: str) -> str:
    """One line as readers see it: NFC, no BOM, no zero-width marks, single spaces."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    return _SPACES.sub(" ", text).strip()


def split_names(text: str) -> list[str]:
    """People in a byline fragment: "A, B and C" -> three names; places after a comma
    ("Jane Roe, Kyiv") are dropped because a single capitalised word rarely is a name when
    a full name stands beside it."""
    parts = [p.strip(" .:-–—") for p in _NAME_SPLIT.split(text)]
    names = [p for p in parts if p and _looks_like_name(p)]
    if any(len(n.split()) > 1 for n in names):
        names = [n for n in names if len(n.split()) > 1]
    return unique(names)


def _looks_like_name(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= 5:
        return False
    return all(w[0].isupper() or w.lower() in _NAME_PARTICLES for w in words) and not any(
        c.isdigit() for c in text
    )


def unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def estimate_reading_time(paragraphs: Iterable[str]) -> int | None:
    words = sum(len(p.split()) for p in paragraphs)
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else None


# Each stop word with the languages it belongs to: one pass over a text's words scores them
# all, instead of one pass per language.
_STOPWORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _lang, _stop in _LATIN_STOPWORDS.items():
    for _word in _stop:
        _STOPWORD_LANGUAGES[_word] = (*_STOPWORD_LANGUAGES.get(_word, ()), _lang)
_LATIN_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str | None:
    """A cheap guess from script and stop words; good enough to route rules, not to publish."""
    sample = text[:4000].lower()
    # Letters are only counted where Cyrillic appears: a text without any goes straight to
    # the stop words, which give None for a text without letters as well.
    if (
        _CYRILLIC.search(sample)
        and len(_CYRILLIC.findall(sample)) > len(_LETTER.findall(sample)) / 3
    ):
        uk = len(_UK_LETTERS.findall(sample))
        ru = len(_RU_LETTERS.findall(sample))
        return "uk" if uk >= ru else "ru"
    scores = dict.fromkeys(_LATIN_STOPWORDS, 0)
    for word in _LATIN_WORD.findall(sample):
        for lang in _STOPWORD_LANGUAGES.get(word, ()):
            scores[lang] += 1
    lang, score = max(scores.items(), key=lambda kv: kv[1])
    return lang if score >= 3 else None
