"""Turning query trees into closures over a :class:`~alerts.query.scan.Scan`.

Each node becomes three things: a fast yes/no test (field masks only, for every candidate
rule), an evidence function (word spans, run only for rules that matched) and its *anchors*:
up to two groups of patterns such that the node can only be true if each group has a pattern
in the document. ``(troops OR army) AND Belgorod`` is anchored on ``{troops, army}`` and
``{belgorod}``; a rule is only tested when all its groups were hit, which is what keeps 10,000
rules near the cost of 10. Nodes that can be true on an empty document (``NOT x``,
``a OR NOT b``) have no anchors and are tested on every document.

Identical subqueries (the same place or topic in hundreds of rules, or whole rules written
alike) compile to one shared node, so a document computes their evidence once.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from alerts.query.nodes import And, Near, Node, Or, Proximity, Term
from alerts.query.proximity import Span, near_spans, window_spans
from alerts.query.scan import FIELD_BITS, Parts, Scan

MAX_GROUPS = 2
Anchors = tuple[frozenset[int], ...] | None
"""Groups of pattern ids, each of which must be hit; None: no requirement (always tested)."""
Test = Callable[[Scan], bool]
Evidence = Callable[[Scan], Parts]
SpanFinder = Callable[[Scan], list[Span]]


class Patterns:
    """The shared pattern table: each distinct word, phrase or prefix gets one id."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []
        self.lengths: list[int] = []
        self.namespace: dict[str, Test] = {}
        """Position tests that generated rule tests call by name (see :func:`generate_tests`)."""
        self.compiled: dict[str, Compiled] = {}
        """Nodes compiled so far, by their ``repr`` (which, unlike ``==``, includes the text
        as written that evidence shows)."""
        self._serials = itertools.count()

    def serial(self) -> int:
        """A number no other node of these rules has: a key for per-scan memos."""
        return next(self._serials)

    def id_for(self, tokens: Sequence[str], prefix: bool) -> int:
        key = " " + " ".join(tokens) + ("" if prefix else " ")
        pid = self.ids.get(key)
        if pid is None:
            pid = self.ids[key] = len(self.keys)
            self.keys.append(key)
            self.lengths.append(len(tokens))
        return pid

    def register(self, test: Test) -> str:
        name = f"p{len(self.namespace)}"
        self.namespace[name] = test
        return f"{name}(s)"

    def cost(self, group: frozenset[int]) -> float:
        """How often a group is likely to be hit: short patterns are common words."""
        return sum(1.0 / len(self.keys[pid]) for pid in group)

    def cheapest(self, groups: Iterable[frozenset[int]]) -> Anchors:
        """The (at most) two groups least likely to be hit: the most selective requirement."""
        return tuple(sorted(set(groups), key=self.cost)[:MAX_GROUPS]) or None


@dataclass(frozen=True, slots=True)
class Compiled:
    test: Test
    evidence: Evidence
    anchors: Anchors
    expr: str  # the test as a Python expression over ``g`` (scan.mask.get) and ``s`` (the scan)
    spans: SpanFinder | None = None  # only for nodes with a place in the text
    positional: bool = False  # the test reads word positions, not just field masks


def compile_node(node: Node, patterns: Patterns) -> Compiled:
    """One shared compiled node per distinct subquery, its evidence memoised per scan."""
    key = repr(node)
    found = patterns.compiled.get(key)
    if found is None:
        found = patterns.compiled[key] = _compile(node, patterns)
    return found


def _compile(node: Node, patterns: Patterns) -> Compiled:
    if isinstance(node, Term):
        return _term(node, patterns)
    if isinstance(node, Proximity):
        return _proximity(node, patterns)
    if isinstance(node, Near):
        return _near(node, patterns)
    if isinstance(node, And):
        return _and([compile_node(child, patterns) for child in node.children], patterns)
    if isinstance(node, Or):
        return _or([compile_node(child, patterns) for child in node.children], patterns)
    child = compile_node(node.child, patterns)
    expr = f"(not {child.expr})"
    return Compiled(
        lambda scan: not child.test(scan), _no_evidence, None, expr, None, child.positional
    )


def _no_evidence(scan: Scan) -> Parts:
    return ()


@functools.cache
def _field_mask(fields: frozenset[str]) -> int:
    return sum(FIELD_BITS[name] for name in fields)


def _term(node: Term, patterns: Patterns) -> Compiled:
    pid = patterns.id_for(node.tokens, node.prefix)
    mask = _field_mask(node.fields)
    label = node.text or str(node)

    def test(scan: Scan) -> bool:
        return scan.mask.get(pid, 0) & mask != 0

    key = (pid, mask, label)

    def spans(scan: Scan) -> list[Span]:
        found: list[Span] | None = scan.memo.get(key)
        if found is None:
            found = scan.memo[key] = [
                (bit, first, last, ((bit, first, last, label),))
                for bit, first, last in scan.occurrences(pid)
                if bit & mask
            ]
        return found

    expr = f"(g({pid},0)&{mask})"
    return Compiled(test, _parts_of(spans, patterns), (frozenset({pid}),), expr, spans)


def _proximity(node: Proximity, patterns: Patterns) -> Compiled:
    pids = {word: patterns.id_for((word,), False) for word in node.tokens}
    mask = _field_mask(node.fields)
    needed = Counter(node.tokens)
    width = len(node.tokens) + node.slop
    label = node.text or str(node)

    key = (node.tokens, node.slop, mask, label)

    def spans(scan: Scan) -> list[Span]:
        found: list[Span] | None = scan.memo.get(key)
        if found is None:
            found = scan.memo[key] = windows(scan)
        return found

    def windows(scan: Scan) -> list[Span]:
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

    anchors = patterns.cheapest(frozenset({pid}) for pid in pids.values())
    return Compiled(
        test, _parts_of(spans, patterns), anchors, patterns.register(test), spans, positional=True
    )


def _near(node: Near, patterns: Patterns) -> Compiled:
    left, right = compile_node(node.left, patterns), compile_node(node.right, patterns)
    left_spans, right_spans = left.spans, right.spans
    assert left_spans is not None and right_spans is not None  # the parser checked
    distance = node.distance

    key = ("near", patterns.serial())

    def spans(scan: Scan) -> list[Span]:
        found: list[Span] | None = scan.memo.get(key)
        if found is None:
            positions = {bit: analysed.positions for bit, analysed in scan.fields.items()}
            found = near_spans(left_spans(scan), right_spans(scan), distance, positions)
            scan.memo[key] = found
        return found

    def test(scan: Scan) -> bool:
        return left.test(scan) and right.test(scan) and bool(spans(scan))

    anchors = patterns.cheapest([*(left.anchors or ()), *(right.anchors or ())])
    return Compiled(
        test, _parts_of(spans, patterns), anchors, patterns.register(test), spans, positional=True
    )


# Evidence functions memoise in ``scan.parts`` under a serial of their own: a node shared by
# many rules (see compile_node) computes its evidence once per document.


def _parts_of(spans: SpanFinder, patterns: Patterns) -> Evidence:
    serial = patterns.serial()

    def evidence(scan: Scan) -> Parts:
        found = scan.parts.get(serial)
        if found is None:
            found = tuple(part for span in spans(scan) for part in span[3])
            scan.parts[serial] = found
        return found

    return evidence


def _and(children: list[Compiled], patterns: Patterns) -> Compiled:
    # Cheap mask tests first, position arithmetic after, negations last.
    ordered = sorted(children, key=lambda c: (c.anchors is None, c.positional))
    tests = [child.test for child in ordered]
    if len(tests) == 2:
        first, second = tests

        def test(scan: Scan) -> bool:
            return first(scan) and second(scan)
    else:

        def test(scan: Scan) -> bool:
            return all(t(scan) for t in tests)

    serial = patterns.serial()

    def evidence(scan: Scan) -> Parts:
        found = scan.parts.get(serial)
        if found is None:
            found = scan.join([child.evidence(scan) for child in children])
            scan.parts[serial] = found
        return found

    anchors = patterns.cheapest(group for child in children for group in child.anchors or ())
    expr = "(" + " and ".join(child.expr for child in ordered) + ")"
    return Compiled(test, evidence, anchors, expr, positional=any(c.positional for c in children))


def _or(children: list[Compiled], patterns: Patterns) -> Compiled:
    tests = [child.test for child in children]
    if len(tests) == 2:
        first, second = tests

        def test(scan: Scan) -> bool:
            return first(scan) or second(scan)
    else:

        def test(scan: Scan) -> bool:
            return any(t(scan) for t in tests)

    serial = patterns.serial()

    def evidence(scan: Scan) -> Parts:
        found = scan.parts.get(serial)
        if found is None:
            found = scan.join([c.evidence(scan) for c in children if c.test(scan)])
            scan.parts[serial] = found
        return found

    # Whichever child is true, its most selective group was hit: their union is required.
    anchors: Anchors = None
    if all(child.anchors is not None for child in children):
        anchors = (frozenset().union(*(child.anchors[0] for child in children if child.anchors)),)
    spans: SpanFinder | None = None
    finders = [child.spans for child in children]
    if all(finder is not None for finder in finders):

        def spans(scan: Scan) -> list[Span]:
            return [span for finder in finders if finder is not None for span in finder(scan)]

    expr = "(" + " or ".join(child.expr for child in children) + ")"
    positional = any(child.positional for child in children)
    return Compiled(test, evidence, anchors, expr, spans, positional)


def generate_tests(compiled: Sequence[Compiled], patterns: Patterns) -> list[Test]:
    """One plain Python function per rule (per distinct query), from the test expressions.

    Calling a chain of closures costs a function call per node; 10,000 rules make that the
    largest share of matching. The generated functions inline the mask checks instead. Their
    source holds only integers, operators and the names of :attr:`Patterns.namespace`, never
    text from a query.
    """
    slots: dict[int, int] = {}  # rules with the same query share one node (compile_node)
    for item in compiled:
        slots.setdefault(id(item), len(slots))
    distinct = {id(item): item for item in compiled}.values()
    source = "".join(
        f"def t{i}(s):\n    g = s.mask.get\n    return bool({c.expr})\n"
        for i, c in enumerate(distinct)
    )
    namespace: dict[str, object] = dict(patterns.namespace)
    exec(compile(source, "<rule tests>", "exec"), namespace)
    return [namespace[f"t{slots[id(item)]}"] for item in compiled]  # type: ignore[misc]
