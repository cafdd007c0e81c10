"""Unicode normalisation and tokenisation shared by queries and the texts they are matched on.

Matching is whole-word, case- and accent-insensitive, so both sides go through the same two
steps: :func:`tokenize` splits a string into word tokens (keeping their offsets in the original
string, so evidence can point at what the reader sees), and :func:`fold` turns each token into
its comparison form.

Folding rules, and why:

* ``casefold`` then NFKD: compatibility forms (ligatures, full-width Latin, superscripts) and
  case differences must not hide a match.
* Accents are dropped (``Café`` = ``cafe``, Arabic short vowels and hamza seats are
  ignored, Russian stress marks ``за́мок`` = ``замок``) in the alphabets where marks are
  accents (Latin, Greek, Cyrillic, Hebrew, Arabic), *except* where the mark makes a distinct
  Cyrillic letter: ``й`` (и + breve), ``ў`` (у + breve) and ``ї`` (і + diaeresis) stay apart
  from ``и``, ``у`` and ``і``, because merging them conflates different words (``мой``/``мои``).
  ``ё`` folds to ``е`` on purpose: Russian text routinely prints ``е`` for ``ё``.
* The Arabic tatweel (a stretching stroke with no meaning) is removed.

Tokenisation: a token is a run of letters, digits and combining marks; apostrophes, hyphens and
other punctuation split tokens on both sides alike (``Russia's`` holds the token ``russia``,
``al-Assad`` the tokens ``al assad``). Chinese and Japanese are written without spaces, so each
Han, Hiragana or Katakana character is its own token: a CJK term then matches as a run of
consecutive characters inside longer text, the usual practice without a dictionary segmenter.
A line break is a hard boundary: phrases do not run across paragraphs, separate tags or
lines of a header.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Final

BOUNDARY_GAP: Final = 1000
"""Position jump at a line break, so proximity operators never reach across paragraphs."""

_CACHE_LIMIT: Final = 200_000
_CJK: Final = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002fa1f"
)
_KEPT_MARKS: Final = {("\u0306", "и"), ("\u0306", "у"), ("\u0308", "і")}
_DROPPED: Final = {"\u0640"}  # Arabic tatweel


def _mark_class() -> str:
    """Every combining mark in this Python's Unicode tables, as a regex class body.

    Python's ``\\w`` leaves marks out, which would cut Hindi words at each vowel sign and
    split decomposed accents (``e`` + U+0301) off their letter.
    """
    ranges: list[str] = []
    start = previous = -2
    for cp in [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)]:
        if not unicodedata.category(chr(cp)).startswith("M"):
            continue
        if cp != previous + 1:
            if start >= 0:
                ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
            start = cp
        previous = cp
    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
    return "".join(ranges)


_MARKS: Final = _mark_class()
_LETTERS: Final = rf"[^\W_\u02bc{_CJK}]"  # word characters but underscore, ʼ and CJK
_WORD: Final = rf"{_LETTERS}+(?:[{_MARKS}]+{_LETTERS}*)*|[{_CJK}][{_MARKS}]*"
_TOKEN_OR_BREAK: Final = re.compile(rf"({_WORD})|\n")
_fold_cache: dict[str, str] = {}


def fold(token: str) -> str:
    """The comparison form of one token (see the module docstring for the rules)."""
    cached = _fold_cache.get(token)
    if cached is not None:
        return cached
    folded = token.lower() if token.isascii() else _fold_unicode(token)
    if len(_fold_cache) >= _CACHE_LIMIT:
        _fold_cache.clear()  # a long-running daemon sees unbounded vocabularies
    _fold_cache[token] = folded
    return folded


def _fold_unicode(token: str) -> str:
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", token.casefold()):
        if char in _DROPPED or (unicodedata.combining(char) and _is_accent(char, kept)):
            continue
        kept.append(char)
    return sys.intern(unicodedata.normalize("NFC", "".join(kept)))


def _is_accent(mark: str, kept: list[str]) -> bool:
    """Whether ``mark`` is a removable accent on the last kept letter.

    In the alphabets below U+0900 (Latin, Greek, Cyrillic, Hebrew, Arabic…) and in the
    precomposed Latin and Greek blocks marks are accents or vowel points; in Indic and other
    scripts they are parts of the letters themselves (a virama changes the word) and stay.
    """
    if not kept:
        return True
    base = kept[-1]
    if (mark, base) in _KEPT_MARKS:
        return False
    return base < "\u0900" or "\u1e00" <= base < "\u2000"


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its folded form, its offsets in the original string, its position.

    ``position`` counts words, with a jump of :data:`BOUNDARY_GAP` at each line break.
    """

    text: str
    start: int
    end: int
    position: int


def tokenize(text: str) -> list[Token]:
    """Words of ``text`` in order, folded, with their original offsets."""
    tokens: list[Token] = []
    position = 0
    for match in _TOKEN_OR_BREAK.finditer(text):
        word = match.group(1)
        if word is None:
            position += BOUNDARY_GAP
            continue
        folded = fold(word)
        if folded:
            tokens.append(Token(folded, match.start(), match.end(), position))
            position += 1
    return tokens


def words(text: str) -> list[str]:
    """Just the folded words of ``text``: how a query term is read."""
    return [token.text for token in tokenize(text)]


WordTable = tuple[str, list[int], list[tuple[int, int]], list[int]]
"""``joined``, ``starts``, ``spans`` and ``positions`` of :class:`Analysed`."""


class Analysed:
    """A text prepared for the multi-pattern scan.

    ``joined`` holds the folded words separated by single spaces (and ``" \\n "`` at line
    breaks), with a space at each end, so a pattern ``" drone attack "`` can only match whole
    words in sequence and never across a break. ``starts[k]`` is where word ``k`` begins in
    ``joined``; ``spans[k]`` its ``(start, end)`` in the original text; ``positions[k]`` its
    word position as in :class:`Token`.

    Every new article is scanned, but few match anything, and only a match needs to know
    where its words are: ``joined`` is built at once, the word tables on first use. That
    halves the cost of preparing a text, the largest single cost the event loop's thread
    pays for a new article.
    """

    __slots__ = ("_table", "joined", "text")

    def __init__(self, text: str, joined: str) -> None:
        self.text = text
        self.joined = joined
        self._table: WordTable | None = None

    @property
    def starts(self) -> list[int]:
        return self._words()[1]

    @property
    def spans(self) -> list[tuple[int, int]]:
        return self._words()[2]

    @property
    def positions(self) -> list[int]:
        return self._words()[3]

    def _words(self) -> WordTable:
        if self._table is None:
            self._table = word_table(self.text)
        return self._table


_BREAK_RUN: Final = re.compile(r"\n(?: \n)+")


def analyse(text: str) -> Analysed:
    """Prepare ``text`` for scanning: the cost floor of matching a document.

    The same string as :func:`word_table` builds, made from a list the regex engine returns
    in one call instead of a Python step per word and per table.
    """
    folded = [fold(word) if word else "\n" for word in _TOKEN_OR_BREAK.findall(text)]
    if "" in folded:  # a token that folds to nothing (a lone tatweel) is no word
        folded = [word for word in folded if word]
    if not folded:
        return Analysed(text, " ")
    joined = f" {' '.join(folded)} "
    if "\n \n" in joined:  # consecutive breaks count as one
        joined = _BREAK_RUN.sub("\n", joined)
    return Analysed(text, joined)


def word_table(text: str) -> WordTable:
    """``text`` analysed word by word, with where each word is in ``joined`` and in ``text``."""
    pieces = [" "]
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    positions: list[int] = []
    cursor = 1
    position = 0
    for match in _TOKEN_OR_BREAK.finditer(text):
        word = match.group(1)
        if word is None:
            if pieces[-1] != "\n ":
                pieces.append("\n ")
                cursor += 2
            position += BOUNDARY_GAP
            continue
        folded = fold(word)
        if not folded:
            continue
        starts.append(cursor)
        spans.append(match.span())
        positions.append(position)
        pieces.append(folded)
        pieces.append(" ")
        cursor += len(folded) + 1
        position += 1
    return "".join(pieces), starts, spans, positions
