"""Which line of a dump is its headline: title-shaped, placed just above the article's first
paragraph, followed by a byline or a date, and naming what the lead is about."""

from __future__ import annotations

from daemon.parse.dumppage import Page, bare_byline, dateline
from daemon.parse.layout import overlap
from daemon.parse.lines import Features, Kind

TITLE_WINDOW = 14  # non-blank lines from the top where a title (and header) may stand
_WIDE_TITLE_WINDOW = 40
_DISTANCE_COST = 0.25  # per line between a candidate and the article's first paragraph
_BULLETS = frozenset("•*·▪►-–—◦")
_OVERLAP_WEIGHT = 4.0  # a headline names what its lead is about; a menu entry does not
_HEAD_KINDS = frozenset({Kind.BYLINE, Kind.DATELINE, Kind.CAPTION, Kind.AUTHOR_FOOTER})
_ABOVE_KINDS = frozenset({Kind.TAGS, Kind.NAV, Kind.BREADCRUMB, Kind.CAPTURE, Kind.DATELINE})


def find_title(page: Page) -> int | None:
    """The title line, looked for just above the article and, when share buttons and
    widgets stand between them, further up."""
    for window in _title_windows(page):
        anchor = window.index(page.block.first) if page.block and page.block.first in window else 0
        best, best_score = -1, float("-inf")
        for rank, i in enumerate(window):
            if not _title_shaped(page, i):
                continue
            score = _title_score(page, window, rank) - _DISTANCE_COST * abs(anchor - rank)
            if score > best_score:
                best, best_score = i, score
        if best >= 0:
            where = "above the article's first paragraph" if page.block else "near the top"
            page.label(best, "headline", f"title-shaped, placed {where} (score {best_score:.1f})")
            return best
    return None


def _title_windows(page: Page) -> list[list[int]]:
    """The lines where the title may stand: the top of the page, or, when a long menu pushes
    the article down, the lines just above its first paragraph; then a wider stretch."""
    nonblank = page.nonblank()
    if page.block is None:
        return [nonblank[:TITLE_WINDOW]]
    start = nonblank.index(page.block.first)
    low = max(0, start + 1 - TITLE_WINDOW)
    wide = max(0, start + 1 - _WIDE_TITLE_WINDOW)
    return [nonblank[low : low + TITLE_WINDOW], nonblank[wide : start + 1]]


def _title_shaped(page: Page, i: int) -> bool:
    f = page.feats[i]
    if page.kinds[i] is not Kind.TEXT or not 3 <= f.words <= 30 or len(f.text) > 250:
        return False
    if f.text[0] in _BULLETS:  # an item of a list: a menu, other headlines
        return False
    return f.text[-1] not in ".:;," and not dateline(page, i) and not bare_byline(page, i)


def _title_score(page: Page, window: list[int], rank: int) -> float:
    score = 0.0
    nxt = window[rank + 1] if rank + 1 < len(window) else None
    if nxt is not None and (page.kinds[nxt] in _HEAD_KINDS or dateline(page, nxt)):
        score += 3
    prev = window[rank - 1] if rank > 0 else None
    if prev is None or page.kinds[prev] in _ABOVE_KINDS or dateline(page, prev):
        score += 1.5
    if prev is not None and section_shaped(page.feats[prev]):
        score += 1.5
    if 5 <= page.feats[window[rank]].words <= 22:
        score += 1
    return score + _OVERLAP_WEIGHT * overlap(page.lines[window[rank]], page.lead, page.language)


def section_shaped(f: Features) -> bool:
    return 1 <= f.words <= 3 and not f.has_digit and not f.ends_sentence and f.caps_ratio > 0
