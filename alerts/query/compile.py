"""Turning query trees into closures over a :class:`~alerts.query.scan.Scan`.

Each node becomes three things: a fast yes/no test (field masks only, for every candidate
rule), an evidence function (word spans, run only for rules that matched) and its *anchors*:
patterns of which at least one must occur for the node to be true. A rule is only tested when
one of its anchors was found, which is what keeps 10,000 rules near the cost of 10. Nodes that
can be true on an empty document (``NOT x``, ``a OR NOT b``) have no anchors and are tested
on every document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alerts.query.nodes import And, Near, Node, Or, Proximity, Term
from alerts.query.proximity import Part, Span, near_spans, window_spans
from alerts.query.scan import FIELD_BITS, Scan

Test = Callable[[Scan], bool]
Evidence = Callable[[Scan], list[Part]]
SpanFinder = Callable[[Scan], list[Span]]


class Patterns:
    """The shared pattern table: each distinct word, phrase or prefix gets one id."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.lengths: list[int] = []

    def id_for(self, tokens: Sequence[str], prefix: bool) -> int:
        key = " " + " ".join(tokens) + ("" if prefix else " ")
        pid = self.ids.get(key)
        if pid is None:
            pid = self.ids[key] = len(self.keys)
            self.keys.append(key)
            self.lengths.append(len(tokens))
        return pid

    def cost(self, anchors: frozenset[int] | None) -> float:
        """How often the anchors are likely to fire: short patterns are common words."""
        if anchors is None:
            return float("inf")
        return sum(1.0 / len(self.keys[pid]) for pid in anchors)


@dataclass(frozen=True, slots=True)
class Compiled:
    test: Test
    evidence: Evidence
    anchors: frozenset[int] | None
    spans: SpanFinder | None = None  # only for nodes with a place in the text


def compile_node(node: Node, patterns: Patterns) -> Compiled:
    if isinstance(node, Term):
        return _term(node, patterns)
    if isinstance(node, Proximity):
        return _proximity(node, patterns)
    if isinstance(node, Near):
        return _near(node, patterns)
    if isinstance(node, And):
        return _and([compile_node(child, patterns) for child in node.children], patterns)
    if isinstance(node, Or):
        return _or([compile_node(child, patterns) for child in node.children])
    child = compile_node(node.child, patterns)
    return Compiled(lambda scan: not child.test(scan), _no_evidence, None)


def _no_evidence(scan: Scan) -> list[Part]:
    return []


def _field_mask(fields: frozenset[str]) -> int:
    return sum(FIELD_BITS[name] for name in fields)


def _term(node: Term, patterns: Patterns) -> Compiled:
    pid = patterns.id_for(node.tokens, node.prefix)
    mask = _field_mask(node.fields)
    label = node.text or str(node)

    def test(scan: Scan) -> bool:
        return scan.mask.get(pid, 0) & mask != 0

    def spans(scan: Scan) -> list[Span]:
        return [
            (bit, first, last, ((bit, first, last, label),))
            for bit, first, last in scan.occurrences(pid)
            if bit & mask
        ]

    return Compiled(test, _parts_of(spans), frozenset({pid}), spans)


def _proximity(node: Proximity, patterns: Patterns) -> Compiled:
    pids = {word: patterns.id_for((word,), False) for word in node.tokens}
    mask = _field_mask(node.fields)
    needed = Counter(node.tokens)
    width = len(node.tokens) + node.slop
    label = node.text or str(node)

    def spans(scan: Scan) -> list[Span]:
        found: list[Span] = []
        for bit, analysed in scan.fields.items():
            if not bit & mask:
                continue
            events = sorted(
                (analysed.positions[first], word, first)
                for word, pid in pids.items()
                for occ_bit, first, _ in scan.occurrences(pid)
                if occ_bit == bit
            )
            found.extend(window_spans(events, needed, width, bit, label))
        return found

    def test(scan: Scan) -> bool:
        common = mask
        for pid in pids.values():
            common &= scan.mask.get(pid, 0)
        return common != 0 and bool(spans(scan))

    rarest = max(pids, key=len)
    return Compiled(test, _parts_of(spans), frozenset({pids[rarest]}), spans)


def _near(node: Near, patterns: Patterns) -> Compiled:
    left, right = compile_node(node.left, patterns), compile_node(node.right, patterns)
    left_spans, right_spans = left.spans, right.spans
    assert left_spans is not None and right_spans is not None  # the parser checked
    distance = node.distance

    def spans(scan: Scan) -> list[Span]:
        positions = {bit: analysed.positions for bit, analysed in scan.fields.items()}
        return near_spans(left_spans(scan), right_spans(scan), distance, positions)

    def test(scan: Scan) -> bool:
        return left.test(scan) and right.test(scan) and bool(spans(scan))

    anchors = min((left.anchors, right.anchors), key=patterns.cost)
    return Compiled(test, _parts_of(spans), anchors, spans)


def _parts_of(spans: SpanFinder) -> Evidence:
    def evidence(scan: Scan) -> list[Part]:
        return [part for span in spans(scan) for part in span[3]]

    return evidence


def _and(children: list[Compiled], patterns: Patterns) -> Compiled:
    # Cheap mask tests first, position arithmetic after, negations last.
    ordered = sorted(children, key=lambda c: (c.anchors is None, c.spans is not None))
    tests = [child.test for child in ordered]
    if len(tests) == 2:
        first, second = tests

        def test(scan: Scan) -> bool:
            return first(scan) and second(scan)
    else:

        def test(scan: Scan) -> bool:
            return all(t(scan) for t in tests)

    def evidence(scan: Scan) -> list[Part]:
        return [part for child in children for part in child.evidence(scan)]

    anchors = min((child.anchors for child in children), key=patterns.cost)
    return Compiled(test, evidence, anchors)


def _or(children: list[Compiled]) -> Compiled:
    tests = [child.test for child in children]
    if len(tests) == 2:
        first, second = tests

        def test(scan: Scan) -> bool:
            return first(scan) or second(scan)
    else:

        def test(scan: Scan) -> bool:
            return any(t(scan) for t in tests)

    def evidence(scan: Scan) -> list[Part]:
        return [part for c in children if c.test(scan) for part in c.evidence(scan)]

    anchors: frozenset[int] | None = frozenset()
    for child in children:
        anchors = None if anchors is None or child.anchors is None else anchors | child.anchors
    spans: SpanFinder | None = None
    finders = [child.spans for child in children]
    if all(finder is not None for finder in finders):

        def spans(scan: Scan) -> list[Span]:
            return [span for finder in finders if finder is not None for span in finder(scan)]

    return Compiled(test, evidence, anchors, spans)
