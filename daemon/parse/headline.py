"""Which line of a dump is its headline: title-shaped, placed just above the article's first
paragraph, followed by a byline or a date, and naming what the lead is about.

No single cue decides across thousands of outlets, so each candidate gets a number per cue and
the weighted sum picks the line; the weights are fitted on pages nobody here wrote
(``bench/fit_headline.py``), and each cue is one that holds across sites and languages.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from daemon.parse.dumppage import Page, bare_byline, dateline
from daemon.parse.layout import overlap
from daemon.parse.lines import Features, Kind

TITLE_WINDOW = 14  # non-blank lines from the top where a title (and header) may stand
_WIDE_TITLE_WINDOW = 40
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
_ECHO_REACH = 80  # lines above a candidate where its echo is looked for
_HEAD_KINDS = frozenset({Kind.BYLINE, Kind.DATELINE, Kind.CAPTION, Kind.AUTHOR_FOOTER})
_ABOVE_KINDS = frozenset({Kind.TAGS, Kind.NAV, Kind.BREADCRUMB, Kind.CAPTURE, Kind.DATELINE})


def find_title(page: Page) -> int | None:
    """The title line: the best-scoring candidate above the article's first paragraph (or
    near the top of a page without one)."""
    best, best_score = -1, float("-inf")
    for i, cues in candidates(page):
        score = sum(w * c for w, c in zip(_WEIGHTS.values(), cues, strict=True))
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        return None
    where = "above the article's first paragraph" if page.block else "near the top"
    page.label(best, "headline", f"title-shaped, placed {where} (score {best_score:.1f})")
    return best


@dataclass(frozen=True, slots=True)
class _Window:
    """The lines where the title may stand, and what every candidate's cues look up in them:
    found once per page rather than once per candidate."""

    lines: list[int]
    anchor: int  # where the article's first paragraph stands in ``lines``
    narrow: frozenset[int]  # the last ``TITLE_WINDOW`` lines up to the first paragraph
    shaped: list[bool]  # which of ``lines`` are title-shaped
    counts: Counter[str]  # how often each line (made bare) stands on the whole page


def candidates(page: Page) -> list[tuple[int, list[float]]]:
    """Each line that may be the title, with its cues (one number per ``CUES`` entry): what
    the weights score here and what ``bench/fit_headline.py`` fits them on."""
    lines = _title_window(page)
    window = _Window(
        lines=lines,
        anchor=lines.index(page.block.first) if page.block and page.block.first in lines else 0,
        narrow=frozenset(lines[-TITLE_WINDOW:]),
        shaped=[_title_shaped(page, i) for i in lines],
        counts=Counter(_bare(line) for line in page.lines if line),
    )
    return [(i, _cues(page, window, rank)) for rank, i in enumerate(lines) if _candidate(page, i)]


def _title_window(page: Page) -> list[int]:
    """The lines where the title may stand: those above the article's first paragraph, up to
    ``_WIDE_TITLE_WINDOW`` of them (a long menu can push the article down), or the top of a
    page with no article run. Never past the first paragraph: a short line inside the
    article is a subheading."""
    nonblank = page.nonblank()
    if page.block is None:
        return nonblank[:TITLE_WINDOW]
    start = nonblank.index(page.block.first)
    return nonblank[max(0, start + 1 - _WIDE_TITLE_WINDOW) : start + 1]


def _candidate(page: Page, i: int) -> bool:
    f = page.feats[i]
    if page.kinds[i] is not Kind.TEXT or not 1 <= f.words <= 30 or len(f.text) > 250:
        return False
    if f.text[0] in _BULLETS or _SUB_BULLET.match(f.text):  # a menu, other headlines
        return False
    if f.text[-1] in ".:;,。，；：" or dateline(page, i) or bare_byline(page, i):
        return False
    # One or two words are a menu entry unless they name what the article is about.
    return f.words >= 3 or overlap(f.text, page.lead, page.language) > 0


def _title_shaped(page: Page, i: int) -> bool:
    return _candidate(page, i) and page.feats[i].words >= 3


# How much each cue counts; fitted by bench/fit_headline.py on the dev pages of the reading
# corpus (never its held-out pages). A cue's weight is only meaningful beside the others.
_WEIGHTS: dict[str, float] = {
    "bias": 0.00,
    "byline or date below": 0.94,
    "header line above": 0.22,
    "section name above": 0.36,
    "title length": 1.56,
    "echoed above": 2.85,
    "repeats a title below": -0.60,
    "opens the article": -1.15,
    "lead overlap": 3.48,
    "lines from the article": -0.30,
    "in the narrow window": 0.72,
    "one or two words": -2.29,
    "words": -0.09,
    "all capitals": -1.13,
    "longer title below": 0.48,
    "title above": -0.33,
    "first candidate": 0.39,
    "repeated on the page": 0.74,
}
CUES = tuple(_WEIGHTS)


def _cues(page: Page, window: _Window, rank: int) -> list[float]:
    """What the candidate at ``rank`` of the window shows of being the headline."""
    lines, shaped = window.lines, window.shaped
    i = lines[rank]
    f = page.feats[i]
    nxt = lines[rank + 1] if rank + 1 < len(lines) else None
    prev = lines[rank - 1] if rank > 0 else None
    head_below = nxt is not None and (page.kinds[nxt] in _HEAD_KINDS or dateline(page, nxt))
    header_above = prev is None or page.kinds[prev] in _ABOVE_KINDS or dateline(page, prev)
    longer_below = nxt is not None and shaped[rank + 1] and page.feats[nxt].words > f.words
    return [
        1.0,
        float(head_below),
        float(header_above),
        float(prev is not None and section_shaped(page.feats[prev])),
        float(5 <= f.words <= 22),
        float(_echoed(page, i)),
        float(_repeats_below(page, window, rank)),
        float(page.block is not None and i == page.block.first),
        overlap(page.lines[i], page.lead, page.language),
        abs(window.anchor - rank) / 4,
        float(i in window.narrow),
        float(f.words <= 2),
        f.words / 10,
        float(f.caps_ratio == 1.0 and f.text.upper() == f.text),
        float(longer_below),
        float(prev is not None and shaped[rank - 1]),
        float(not any(shaped[:rank])),
        float(window.counts[_bare(page.lines[i])] > 1),
    ]


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


def _repeats_below(page: Page, window: _Window, rank: int) -> bool:
    """The line ends with a title-shaped line under it: it is that title with a crumb or a
    kicker before it."""
    i = window.lines[rank]
    below = zip(window.lines[rank + 1 :], window.shaped[rank + 1 :], strict=True)
    return any(shaped and _ends_with(page, i, j) for j, shaped in below)


def _ends_with(page: Page, longer: int, shorter: int) -> bool:
    mine = _bare(page.lines[shorter])
    return (
        len(mine.split()) >= 2
        and len(page.lines[longer]) > len(page.lines[shorter])
        and _bare(page.lines[longer]).endswith(mine)
    )
