"""Where the article stands in a dump: the densest run of prose on the page.

A copied web page is mostly furniture (menus, lists of other headlines, footers) with one
stretch of paragraphs in it. Each line scores its words when it reads as prose and a small
cost when it does not; the run with the highest total is the article, the same idea as
body-text extraction over HTML tags, with lines in place of tags. It needs nothing a site
shares with another except that articles are written in sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from daemon.parse.lines import Features, Kind
from daemon.parse.stopwords import content_words, density, page_language

_PROSE_WORDS = 10  # a finished sentence this long is a paragraph, not a label
_LONG_WORDS = 20  # this long is prose even without final punctuation (cut-off leads)
_SENTENCE_DENSITY = 0.15  # stop words a finished sentence needs (names, lists have none)
LONG_DENSITY = 0.30  # and an unfinished long line, which may be a row of links
_SENTENCE_WORDS = 4
_SHORT_COST = 2.0  # a short text line: a headline in a list, a menu entry
_FURNITURE_COST = 4.0  # a line the classifier knows is not article text
_PASSED = frozenset({Kind.BLANK, Kind.BOILER, Kind.CAPTION})
_NEUTRAL = frozenset({Kind.BLANK, Kind.BYLINE, Kind.DATELINE, Kind.CAPTION, Kind.AUTHOR_FOOTER})


@dataclass(frozen=True, slots=True)
class Block:
    """First and last line of the article's run."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Which lines read as prose, and where the article's run is."""

    prose: list[bool]
    block: Block | None
    language: int | None

    def prose_words(self, feats: list[Features]) -> list[int]:
        """Prose words before each line (and after the last), so any stretch adds up at once."""
        counts = (f.words if p else 0 for f, p in zip(feats, self.prose, strict=True))
        return list(accumulate(counts, initial=0))


def assess(feats: list[Features], kinds: list[Kind]) -> Layout:
    language = page_language([f.text for f, k in zip(feats, kinds, strict=True) if k is Kind.TEXT])
    prose = [_is_prose(f, k, language) for f, k in zip(feats, kinds, strict=True)]
    return Layout(prose, main_block(feats, kinds, prose), language)


def lead_words(feats: list[Features], layout: Layout, paragraphs: int = 3) -> frozenset[str]:
    """The content words of the article's first paragraphs, which its headline repeats."""
    if layout.block is None:
        return frozenset()
    found: set[str] = set()
    taken = 0
    for i in range(layout.block.first, layout.block.last + 1):
        if layout.prose[i]:
            found.update(content_words(feats[i].text, layout.language))
            taken += 1
            if taken == paragraphs:
                break
    return frozenset(found)


def overlap(text: str, lead: frozenset[str], language: int | None) -> float:
    """Share of a line's content words that the article's lead uses too."""
    mine = content_words(text, language)
    return len(mine & lead) / len(mine) if mine and lead else 0.0


def _is_prose(f: Features, kind: Kind, language: int | None) -> bool:
    if kind is not Kind.TEXT:
        return False
    sentence = f.words >= _PROSE_WORDS and f.ends_sentence
    if not sentence and f.words < _LONG_WORDS:
        return False
    share = density(f.text, language)
    return share is None or share >= (_SENTENCE_DENSITY if sentence else LONG_DENSITY)


def short_sentence(f: Features) -> bool:
    """A one-line paragraph ("Tickets are sold out."): too short for prose, but finished."""
    return f.ends_sentence and f.words >= _SENTENCE_WORDS


def line_score(f: Features, kind: Kind, prose: bool) -> float:
    if prose:
        return float(f.words)
    if kind is Kind.TEXT and short_sentence(f):
        return 1.0  # a one-line paragraph ("Tickets are sold out.") keeps the run going
    if kind in _NEUTRAL:
        return 0.0
    return -_SHORT_COST if kind is Kind.TEXT else -_FURNITURE_COST


def main_block(feats: list[Features], kinds: list[Kind], prose: list[bool]) -> Block | None:
    """The run of lines whose scores add up to the most (Kadane's maximum subarray)."""
    best: Block | None = None
    best_total = 0.0
    total, first = 0.0, 0
    for i, (f, kind) in enumerate(zip(feats, kinds, strict=True)):
        score = line_score(f, kind, prose[i])
        if total <= 0 and score > 0:
            total, first = 0.0, i
        total += score
        if score > 0 and total > best_total:
            best_total, best = total, Block(first, i)
    return None if best is None else _with_tail(feats, kinds, best)


def _with_tail(feats: list[Features], kinds: list[Kind], block: Block) -> Block:
    """Closing one-line paragraphs after a "Subscribe" box still belong to the article: the
    run goes on over dropped lines and short sentences until a line that is neither."""
    last = block.last
    for i in range(block.last + 1, len(feats)):
        kind, f = kinds[i], feats[i]
        if kind is Kind.TEXT and short_sentence(f):
            last = i
        elif kind not in _PASSED:
            break
    return Block(block.first, last)
