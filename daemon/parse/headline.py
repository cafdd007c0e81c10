"""Which line of a dump is its headline: title-shaped, placed just above the article's first
paragraph, followed by a byline or a date, and naming what the lead is about."""

from __future__ import annotations

import re
from functools import lru_cache

from daemon.parse.dumppage import Page, bare_byline, dateline
from daemon.parse.layout import overlap
from daemon.parse.lines import Features, Kind

TITLE_WINDOW = 14  # non-blank lines from the top where a title (and header) may stand
_WIDE_TITLE_WINDOW = 40
_DISTANCE_COST = 0.25  # per line between a candidate and the article's first paragraph
_BULLETS = frozenset("•*·▪►-–—◦+")
_MARKERS = "".join(_BULLETS) + "> "  # what stands before a crumb or a list item
# A nested list item in a text browser's dump ("o Kontakt"): no sentence opens that way.
_SUB_BULLET = re.compile(r"^o\s+(?=[^\W\d_])")
# A trail of short crumbs that ends in the page's own title: "Home > News > Title".
_TRAIL = re.compile(r"^(?:[^>»›]{1,40}?\s*[>»›]\s*)+(?=\S)")
_TRAIL_LEAD = re.compile(
    r"^(?:you are here|sie sind hier|vous êtes ici|ви тут|вы здесь)\s*:\s*", re.I
)
_OPEN_CRUMB = re.compile(r"^(?:[>›]\s*|»\s+)")
_NUMBERED = re.compile(r"^\d{1,2}\.\s+(?=\S)")
_OVERLAP_WEIGHT = 4.0  # a headline names what its lead is about; a menu entry does not
_ECHO_BONUS = 2.0  # the page's own title ends its breadcrumb trail or a kicker line above it
_ECHO_REACH = 80  # lines above a candidate where its echo is looked for
_OPENS_ARTICLE_COST = 3.0  # a long line that starts the run of prose is its lead, mostly
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
    # Never past the first paragraph: a short line inside the article is a subheading.
    return [nonblank[low : start + 1], nonblank[wide : start + 1]]


def _title_shaped(page: Page, i: int) -> bool:
    f = page.feats[i]
    if page.kinds[i] is not Kind.TEXT or not 3 <= f.words <= 30 or len(f.text) > 250:
        return False
    if f.text[0] in _BULLETS or _SUB_BULLET.match(f.text):  # a menu, other headlines
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
    if _echoed(page, window[rank]):
        score += _ECHO_BONUS
    if _repeats_below(page, window, rank):
        score -= _ECHO_BONUS
    if page.block is not None and window[rank] == page.block.first:
        score -= _OPENS_ARTICLE_COST
    return score + _OVERLAP_WEIGHT * overlap(page.lines[window[rank]], page.lead, page.language)


def section_shaped(f: Features) -> bool:
    return 1 <= f.words <= 3 and not f.has_digit and not f.ends_sentence and f.caps_ratio > 0


def title_text(page: Page, i: int) -> str:
    """The title as its line gives it, without what a renderer put before it: the trail of
    crumbs that ends in it ("Home > News > Title") or the number of a breadcrumb kept as an
    ordered list ("1. Home", "2. News", "3. Title")."""
    text = _OPEN_CRUMB.sub("", _TRAIL_LEAD.sub("", page.lines[i]))
    trail = _TRAIL.match(text)
    if trail is not None and len(text[trail.end() :].split()) >= 3:
        text = text[trail.end() :]
    numbered = _NUMBERED.match(text)
    if numbered is not None and _numbered_above(page, i):
        text = text[numbered.end() :]
    return text


def _numbered_above(page: Page, i: int) -> bool:
    above = next((j for j in range(i - 1, -1, -1) if page.kinds[j] is not Kind.BLANK), None)
    return above is not None and _NUMBERED.match(page.lines[above]) is not None


@lru_cache(maxsize=4096)
def _bare(text: str) -> str:
    """A line as its echoes are compared: without list markers, case or spacing. Each line
    is compared with up to ``_ECHO_REACH`` others, so each is made bare once."""
    return " ".join(text.casefold().lstrip(_MARKERS).split())


def _echoed(page: Page, i: int) -> bool:
    """The line is repeated at the end of a line above it: the last crumb of a trail
    ("Home > Energy > Title", "3. Title") or a kicker run into it ("Local news Title")."""
    return any(_ends_with(page, j, i) for j in range(max(0, i - _ECHO_REACH), i))


def _repeats_below(page: Page, window: list[int], rank: int) -> bool:
    """The line ends with a title-shaped line under it: it is that title with a crumb or a
    kicker before it."""
    i = window[rank]
    return any(_ends_with(page, i, j) and _title_shaped(page, j) for j in window[rank + 1 :])


def _ends_with(page: Page, longer: int, shorter: int) -> bool:
    mine = _bare(page.lines[shorter])
    return (
        len(mine.split()) >= 2
        and len(page.lines[longer]) > len(page.lines[shorter])
        and _bare(page.lines[longer]).endswith(mine)
    )
