"""Evidence a reader can take in at a glance: an excerpt with the words that fired marked.

Marker: each hit is wrapped in ``**`` on both sides (``**Belgorod Oblast**``), Markdown's bold,
because webhook receivers and mail clients either render it or leave it readable as is.
Asterisks already in the text are not escaped. An excerpt cut inside the text starts or ends
with ``…``; whitespace runs (line breaks included) become single spaces.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Final

from alerts.query import Hit

MARK: Final = "**"
ELLIPSIS: Final = "…"

Spans = tuple[tuple[int, int], ...]


def snippet(text: str, hits: Sequence[Hit], width: int = 240) -> str:
    """An excerpt of about ``width`` characters of ``text`` around its best hits.

    ``hits`` are offsets into ``text`` (hits of other fields should not be passed). The
    window is the one, among windows opening just before each hit, that holds the most hits;
    on a tie the earliest wins, so with one hit it is the excerpt around the first.
    """
    return excerpt(text, marked_spans(text, [(h.start, h.end) for h in hits]), width)


def marked_spans(text: str, offsets: Iterable[tuple[int, int]]) -> Spans:
    """All an excerpt depends on besides ``text``: the stretches to mark, in order.

    Hits given in another order, twice, or overlapping differently can mark the same
    stretches; callers that make many excerpts of one text memoise :func:`excerpt` on this.
    Overlapping or touching hits become one stretch (no ``****`` in the output); offsets
    outside the text are left out.
    """
    merged: list[tuple[int, int]] = []
    limit = len(text)
    first = last = -1  # the stretch being grown; none yet
    for start, end in sorted(offsets):
        if not 0 <= start < end <= limit:
            continue
        if start <= last:
            if end > last:
                last = end
        else:
            if last >= 0:
                merged.append((first, last))
            first, last = start, end
    if last >= 0:
        merged.append((first, last))
    return tuple(merged)


def excerpt(text: str, marked: Spans, width: int = 240) -> str:
    """:func:`snippet` of the stretches :func:`marked_spans` returned."""
    spans = list(marked)
    if not spans:
        start, end = 0, _cut_back(text, min(width, len(text)), 0)
    else:
        start, end = _best_window(text, spans, width)
    window = _mark(text, start, end, [s for s in spans if start <= s[0] and s[1] <= end])
    shown = " ".join(window.split())
    return (ELLIPSIS if start > 0 else "") + shown + (ELLIPSIS if end < len(text) else "")


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    # Merged spans neither overlap nor touch, so starts and ends both increase: the spans
    # inside a window are those from the first starting in it to the last ending in it.
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    best: tuple[int, int] = (0, 0)
    best_count = -1
    for anchor_start, anchor_end in spans:
        lead = (width - (anchor_end - anchor_start)) // 3
        start = anchor_start - lead if lead > 0 else anchor_start
        if start < 0:
            start = 0
        end = start + width
        if end < anchor_end:
            end = anchor_end
        count = bisect_right(ends, end) - bisect_left(starts, start)
        if count > best_count:
            best, best_count = (start, end), count
            if count == len(spans):
                break  # no later window can hold more
    start, end = best
    anchor = spans[bisect_left(starts, start)]  # the first span in the window
    return _cut_forward(text, start, anchor[0]), _cut_back(text, end, anchor[1])


def _cut_forward(text: str, start: int, limit: int) -> int:
    """Move ``start`` past the word it cuts, but never beyond ``limit``."""
    if start == 0 or text[start - 1].isspace():
        return start
    while start < limit and not text[start].isspace():
        start += 1
    return start


def _cut_back(text: str, end: int, limit: int) -> int:
    """Move ``end`` back before the word it cuts, but never before ``limit``."""
    if end >= len(text):
        return len(text)
    while end > limit and not text[end].isspace():
        end -= 1
    return end


def _mark(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    cursor = start
    for s, e in spans:
        pieces += [text[cursor:s], MARK, text[s:e], MARK]
        cursor = e
    pieces.append(text[cursor:end])
    return "".join(pieces)
