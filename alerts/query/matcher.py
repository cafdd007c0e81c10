"""All rules' queries behind one automaton: an article is scanned once, whatever the rule count.

:func:`compile_rules` gives every distinct word, phrase and prefix of every rule one pattern
in a shared pyahocorasick automaton. :meth:`RuleMatcher.match` runs it once per field of the
document, then tests only the rules that one of the found patterns can make true (see
:mod:`alerts.query.compile`), and gathers evidence only for the rules that matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import ahocorasick

from alerts import textnorm
from alerts.query.compile import Compiled, Patterns, compile_node, generate_tests
from alerts.query.nodes import Document, Hit, Near, Node, Not, Or, Proximity, Query, Term
from alerts.query.scan import FIELD_BITS, Scan, analyse_document


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    compiled: Compiled


class RuleMatcher:
    """Matches documents against a fixed set of rules; immutable, safe to share."""

    def __init__(self, rules: list[_Rule], patterns: Patterns, field_bits: int) -> None:
        self._rules = rules
        self._evidence = {rule.name: rule.compiled.evidence for rule in rules}
        self._lengths = patterns.lengths
        self._field_bits = field_bits
        self._automaton = ahocorasick.Automaton()
        for key, pid in patterns.ids.items():
            self._automaton.add_word(key, pid)
        if patterns.ids:
            self._automaton.make_automaton()
        self._tests = generate_tests([rule.compiled for rule in rules], patterns)
        self._always = [i for i, rule in enumerate(rules) if rule.compiled.anchors is None]
        self._single, self._pairs = _postings(rules)

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def pattern_count(self) -> int:
        return len(self._lengths)

    def match(self, doc: Document) -> dict[str, list[Hit]]:
        """Rule name -> evidence, for the rules ``doc`` matches, in rule order.

        A rule that matches through negation alone (``NOT exercise*``) has empty evidence.
        """
        scan = self.scan(doc)
        return {name: self.evidence(scan, name) for name in self.matching(scan)}

    def scan(self, doc: Document) -> Scan:
        """The one pass over ``doc`` every rule then reads."""
        fields = analyse_document(doc, self._field_bits)
        if not self._lengths:
            return Scan(fields, _NoPatterns(), self._lengths)
        return Scan(fields, self._automaton, self._lengths)

    def matching(self, scan: Scan) -> list[str]:
        """Names of the rules the scanned document matches, in rule order, without evidence.

        Evidence costs more than the decision; callers that filter matches further (regions,
        sources, languages) ask :meth:`evidence` only for the rules that finally fire.
        """
        rules = self._rules
        return [rules[i].name for i in self.matching_indexes(scan)]

    def matching_indexes(self, scan: Scan, skip: AbstractSet[int] = frozenset()) -> list[int]:
        """:meth:`matching` as positions in the order the rules were given, leaving out
        (untested) the positions in ``skip``: rules a caller already knows cannot fire."""
        tests = self._tests
        return [i for i in self._candidates(scan, skip) if tests[i](scan)]

    def evidence(self, scan: Scan, rule: str) -> list[Hit]:
        """What made ``rule`` match the scanned document (meaningful only if it matched)."""
        return list(self.shared_evidence(scan, rule))

    def shared_evidence(self, scan: Scan, rule: str) -> tuple[Hit, ...]:
        """:meth:`evidence` as one tuple shared by every rule whose evidence is built from
        the same pieces: callers deriving more from it can memoise on its identity."""
        return scan.shared_hits(self._evidence[rule](scan))

    def _candidates(self, scan: Scan, skip: AbstractSet[int] = frozenset()) -> list[int]:
        """Rules whose anchor groups were all hit (set operations, no Python per rule)."""
        single = set(self._always)
        first: set[int] = set()
        second: set[int] = set()
        single_postings, (first_postings, second_postings) = self._single, self._pairs
        for pid in scan.mask:
            for postings, found in (
                (single_postings, single),
                (first_postings, first),
                (second_postings, second),
            ):
                rules = postings.get(pid)
                if rules is not None:
                    found.update(rules)
        return sorted((single | (first & second)) - skip)


Postings = dict[int, list[int]]
"""Pattern id -> indexes of the rules one of whose anchor groups holds it."""


def _postings(rules: list[_Rule]) -> tuple[Postings, tuple[Postings, Postings]]:
    """Rules with one anchor group, and the first and second groups of those with two."""
    single: Postings = {}
    pairs: tuple[Postings, Postings] = ({}, {})
    for i, rule in enumerate(rules):
        groups = rule.compiled.anchors
        if groups is None:
            continue
        postings = (single,) if len(groups) == 1 else pairs
        for group, posting in zip(groups, postings, strict=True):
            for pid in group:
                posting.setdefault(pid, []).append(i)
    return single, pairs


class _NoPatterns:
    """Stands in for an automaton with no words (pyahocorasick refuses to search one)."""

    def iter(self, text: str) -> list[tuple[int, int]]:
        return []


def compile_rules(queries: Mapping[str, Query]) -> RuleMatcher:
    """One matcher for all ``queries`` (rule name -> parsed query)."""
    patterns = Patterns()
    rules = [_Rule(name, compile_node(q.root, patterns)) for name, q in queries.items()]
    field_bits = 0
    for query in queries.values():
        for name in _fields_read(query.root):
            field_bits |= FIELD_BITS[name]
    return RuleMatcher(rules, patterns, field_bits)


def _fields_read(node: Node) -> frozenset[str]:
    if isinstance(node, Term | Proximity):
        return node.fields
    if isinstance(node, Near):
        children: tuple[Node, ...] = (node.left, node.right)
    elif isinstance(node, Not):
        children = (node.child,)
    else:
        children = node.children
    return frozenset().union(*(_fields_read(child) for child in children))


def keywords_query(keywords: Sequence[str]) -> Query:
    """The older ``keywords = [...]`` rule field: any of these words or phrases, taken literally.

    Keywords are not query syntax: ``*``, quotes and operators in them are just text.
    """
    terms: list[Node] = []
    for keyword in keywords:
        tokens = tuple(textnorm.words(keyword))
        if tokens:
            terms.append(Term(tokens, text=keyword.strip()))
    if not terms:
        raise ValueError("keywords hold no word to look for")
    text = " OR ".join('"' + keyword.replace('"', "") + '"' for keyword in keywords)
    return Query(text, terms[0] if len(terms) == 1 else Or(tuple(terms)))
