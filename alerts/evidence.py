"""Evidence a reader can take in at a glance: an excerpt with the words that fired marked.

Marker: each hit is wrapped in ``**`` on both sides (``**Belgorod Oblast**``), Markdown's bold,
because webhook receivers and mail clients either render it or leave it readable as is.
Asterisks already in the text are not escaped. An excerpt cut inside the text starts or ends
with ``…``; whitespace runs (line breaks included) become single spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from alerts.query import Hit

MARK: Final = "**"
ELLIPSIS: Final = "…"


def snippet(text: str, hits: Sequence[Hit], width: int = 240) -> str:
    """An excerpt of about ``width`` characters of ``text`` around its best hits.

    ``hits`` are offsets into ``text`` (hits of other fields should not be passed). The
    window is the one, among windows opening just before each hit, that holds the most hits;
    on a tie the earliest wins, so with one hit it is the excerpt around the first.
    """
    spans = _merge(sorted((h.start, h.end) for h in hits if 0 <= h.start < h.end <= len(text)))
    if not spans:
        start, end = 0, _cut_back(text, min(width, len(text)), 0)
    else:
        start, end = _best_window(text, spans, width)
    marked = _mark(text, start, end, [s for s in spans if start <= s[0] and s[1] <= end])
    excerpt = " ".join(marked.split())
    return (ELLIPSIS if start > 0 else "") + excerpt + (ELLIPSIS if end < len(text) else "")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching hits become one marked stretch (no ``****`` in the output)."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    best: tuple[int, int] = (0, 0)
    best_count = -1
    for anchor_start, anchor_end in spans:
        lead = max(0, (width - (anchor_end - anchor_start)) // 3)
        start = max(0, anchor_start - lead)
        end = max(anchor_end, start + width)
        count = sum(1 for s, e in spans if start <= s and e <= end)
        if count > best_count:
            best, best_count = (start, end), count
    start, end = best
    anchor = next(s for s in spans if start <= s[0])
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
