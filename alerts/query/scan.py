"""One pass of the shared automaton over a document, and the per-document facts rules read.

The scan records, for each pattern found, a bit mask of the fields it was found in (all that
most rules need) and, lazily, the word spans of each occurrence (only proximity operators and
evidence need them).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, Final

from alerts import textnorm
from alerts.query.nodes import FIELDS, Document, Hit

FIELD_BITS: Final = {name: 1 << i for i, name in enumerate(FIELDS)}
_PLACE: Final = itemgetter(0, 1, 2)  # of a Part: field bit, first word, last word
_FIELD_NAMES: Final = {bit: name for name, bit in FIELD_BITS.items()}

Part = tuple[int, int, int, str]
"""Evidence: (field bit, first word, last word, the query term as written)."""

Parts = tuple[Part, ...]
"""A node's evidence, as a tuple so that results can be shared between rules."""

Occurrence = tuple[int, int, int]
"""(field bit, index of the first word, index of the last word)."""


class Scan:
    """What one document holds of the patterns; built once per document, read by every rule."""

    def __init__(self, fields: Mapping[int, textnorm.Analysed], automaton: Any, lengths: list[int]):
        self.fields = fields
        self.mask: dict[int, int] = {}
        self._lengths = lengths
        self._raw: list[tuple[int, int, int]] = []
        self._occurrences: dict[int, list[Occurrence]] | None = None
        self._hits: dict[Part, Hit] = {}
        # Keyed on identities; each value holds on to the keyed objects, so no other object
        # can take their ids while the scan lives.
        self._shared_hits: dict[int, tuple[Parts, tuple[Hit, ...]]] = {}
        self._joined: dict[tuple[int, ...], tuple[list[Parts], Parts]] = {}
        self.memo: dict[object, Any] = {}
        """Results shared by the rules that hold the same term, for this document only."""
        self.parts: dict[int, Parts] = {}
        """Evidence by compiled node (its ``serial``): rules sharing a subquery share it."""
        mask = self.mask
        raw = self._raw
        for bit, analysed in fields.items():
            for end, pid in automaton.iter(analysed.joined):
                mask[pid] = mask.get(pid, 0) | bit
                raw.append((pid, bit, end))

    def occurrences(self, pid: int) -> list[Occurrence]:
        """Where pattern ``pid`` occurs, in words; computed for all patterns on first call."""
        if self._occurrences is None:
            self._occurrences = self._locate()
        return self._occurrences.get(pid, [])

    def join(self, pieces: Sequence[Parts]) -> Parts:
        """The concatenation of ``pieces``, the same object whenever the pieces are the same.

        Hundreds of rules combine the same few terms; keyed on the pieces' identities, each
        combination is built once and its hits (:meth:`shared_hits`) converted once.
        """
        kept = list(filter(None, pieces))
        if len(kept) < 2:
            return kept[0] if kept else ()
        key = tuple(map(id, kept))
        found = self._joined.get(key)
        if found is None:
            found = self._joined[key] = (kept, tuple(chain.from_iterable(kept)))
        return found[1]

    def shared_hits(self, parts: Parts) -> tuple[Hit, ...]:
        """:meth:`hits`, computed once per ``parts`` object (see :meth:`join`).

        The same tuple comes back for the same ``parts``, so callers can in turn memoise
        what they derive from it on its identity, as long as they keep it alive.
        """
        found = self._shared_hits.get(id(parts))
        if found is None:
            found = self._shared_hits[id(parts)] = (parts, tuple(self.hits(parts)))
        return found[1]

    def hits(self, parts: Sequence[Part]) -> list[Hit]:
        """Parts in word indexes -> hits in character offsets, deduplicated, in text order.

        Where parts share a place, the term written last names the hit.
        """
        unique = dict(zip(map(_PLACE, parts), parts, strict=True))
        # Sorting the parts sorts their places (unique): field bits follow FIELDS, then words.
        ordered = sorted(unique.values())
        try:
            return list(map(self._hits.__getitem__, ordered))  # each part seen before
        except KeyError:
            known = self._hits.get
            return [known(part) or self._hit(part) for part in ordered]

    def _hit(self, part: Part) -> Hit:
        bit, first, last, term = part
        analysed = self.fields[bit]
        start, end = analysed.spans[first][0], analysed.spans[last][1]
        hit = self._hits[part] = Hit(term, _FIELD_NAMES[bit], start, end, analysed.text[start:end])
        return hit

    def _locate(self) -> dict[int, list[Occurrence]]:
        located: dict[int, list[Occurrence]] = {}
        for pid, bit, end in self._raw:
            last = bisect_right(self.fields[bit].starts, end) - 1
            first = last - self._lengths[pid] + 1
            located.setdefault(pid, []).append((bit, first, last))
        return located


def analyse_document(doc: Document, bits: int) -> dict[int, textnorm.Analysed]:
    """The fields of ``doc`` that some rule reads (``bits``), prepared for scanning."""
    analysed: dict[int, textnorm.Analysed] = {}
    for name, bit in FIELD_BITS.items():
        if bits & bit:
            text = doc.field_text(name)
            if text:
                analysed[bit] = textnorm.analyse(text)
    return analysed
