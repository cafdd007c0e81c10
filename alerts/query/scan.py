"""One pass of the shared automaton over a document, and the per-document facts rules read.

The scan records, for each pattern found, a bit mask of the fields it was found in (all that
most rules need) and, lazily, the word spans of each occurrence (only proximity operators and
evidence need them).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import Any, Final

from alerts import textnorm
from alerts.query.nodes import FIELDS, Document, Hit

FIELD_BITS: Final = {name: 1 << i for i, name in enumerate(FIELDS)}
_FIELD_NAMES: Final = {bit: name for name, bit in FIELD_BITS.items()}

Part = tuple[int, int, int, str]
"""Evidence: (field bit, first word, last word, the query term as written)."""

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
        self.memo: dict[object, Any] = {}
        """Results shared by the rules that hold the same term, for this document only."""
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

    def hits(self, parts: list[Part]) -> list[Hit]:
        """Parts in word indexes -> hits in character offsets, deduplicated, in text order."""
        unique = {(bit, first, last): term for bit, first, last, term in parts}
        found = []
        for bit, first, last in sorted(unique):  # field bits follow FIELDS, then words
            part = (bit, first, last, unique[bit, first, last])
            hit = self._hits.get(part)
            if hit is None:
                analysed = self.fields[bit]
                start, end = analysed.spans[first][0], analysed.spans[last][1]
                hit = Hit(part[3], _FIELD_NAMES[bit], start, end, analysed.text[start:end])
                self._hits[part] = hit
            found.append(hit)
        return found

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
