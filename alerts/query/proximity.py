"""Distances between matched words: the arithmetic behind ``NEAR/N`` and ``"…"~N``.

Distances are counted in words of the folded text (line breaks count as far away, see
:data:`alerts.textnorm.BOUNDARY_GAP`), in any order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from alerts.query.scan import Part

Span = tuple[int, int, int, tuple[Part, ...]]
"""A positional match: (field bit, first word, last word, the parts it is made of)."""


def near_spans(
    left: Sequence[Span], right: Sequence[Span], distance: int, positions: dict[int, list[int]]
) -> list[Span]:
    """Pairs of spans in one field with at most ``distance`` words between them."""
    found: list[Span] = []
    for l_bit, l_first, l_last, l_parts in left:
        where = positions[l_bit]
        for r_bit, r_first, r_last, r_parts in right:
            if r_bit != l_bit:
                continue
            if l_last < r_first:
                gap = where[r_first] - where[l_last] - 1
            elif r_last < l_first:
                gap = where[l_first] - where[r_last] - 1
            else:
                gap = 0
            if gap <= distance:
                span = (l_bit, min(l_first, r_first), max(l_last, r_last), l_parts + r_parts)
                found.append(span)
    return found


def window_spans(
    events: list[tuple[int, str, int]], needed: Counter[str], width: int, bit: int, term: str
) -> list[Span]:
    """Minimal windows, at most ``width`` words long, holding every needed word.

    ``events`` are ``(position, word, word index)`` sorted by position; ``needed`` counts
    each word of the phrase (a word written twice must be found twice).
    """
    found: list[Span] = []
    have: Counter[str] = Counter()
    missing = len(needed)
    left = 0
    for right, (position, word, _) in enumerate(events):
        have[word] += 1
        if have[word] == needed[word]:
            missing -= 1
        while missing == 0:
            l_position, l_word, _ = events[left]
            if have[l_word] == needed[l_word] and position - l_position < width:
                window = events[left : right + 1]
                parts = tuple((bit, idx, idx, term) for _, _, idx in window)
                found.append((bit, window[0][2], window[-1][2], parts))
            have[l_word] -= 1
            if have[l_word] < needed[l_word]:
                missing += 1
            left += 1
    return found
