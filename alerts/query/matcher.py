"""All rules' queries behind one automaton: an article is scanned once, whatever the rule count.

:func:`compile_rules` gives every distinct word, phrase and prefix of every rule one pattern
in a shared pyahocorasick automaton. :meth:`RuleMatcher.match` runs it once per field of the
document, then tests only the rules that one of the found patterns can make true (see
:mod:`alerts.query.compile`), and gathers evidence only for the rules that matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import ahocorasick

from alerts import textnorm
from alerts.query.compile import Compiled, Patterns, compile_node
from alerts.query.nodes import FIELDS, Document, Hit, Near, Node, Not, Or, Proximity, Query, Term
from alerts.query.proximity import Part
from alerts.query.scan import FIELD_BITS, Scan, analyse_document

_FIELD_NAMES: Final = {bit: name for name, bit in FIELD_BITS.items()}


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    compiled: Compiled


class RuleMatcher:
    """Matches documents against a fixed set of rules; immutable, safe to share."""

    def __init__(self, rules: list[_Rule], patterns: Patterns, field_bits: int) -> None:
        self._rules = rules
        self._lengths = patterns.lengths
        self._field_bits = field_bits
        self._automaton = ahocorasick.Automaton()
        for key, pid in patterns.ids.items():
            self._automaton.add_word(key, pid)
        if patterns.ids:
            self._automaton.make_automaton()
        self._always = [i for i, rule in enumerate(rules) if rule.compiled.anchors is None]
        by_anchor: dict[int, list[int]] = {}
        for i, rule in enumerate(rules):
            for pid in rule.compiled.anchors or ():
                by_anchor.setdefault(pid, []).append(i)
        self._by_anchor = by_anchor

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
        matched: dict[str, list[Hit]] = {}
        for i in self._candidates(scan):
            rule = self._rules[i]
            if rule.compiled.test(scan):
                matched[rule.name] = _hits(doc, scan, rule.compiled.evidence(scan))
        return matched

    def scan(self, doc: Document) -> Scan:
        """The one pass over ``doc`` every rule then reads."""
        fields = analyse_document(doc, self._field_bits)
        if not self._lengths:
            return Scan(fields, _NoPatterns(), self._lengths)
        return Scan(fields, self._automaton, self._lengths)

    def _candidates(self, scan: Scan) -> list[int]:
        candidates = set(self._always)
        by_anchor = self._by_anchor
        for pid in scan.mask:
            rules = by_anchor.get(pid)
            if rules is not None:
                candidates.update(rules)
        return sorted(candidates)


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


def _hits(doc: Document, scan: Scan, parts: list[Part]) -> list[Hit]:
    """Parts in word indexes -> hits in character offsets, deduplicated, in document order."""
    unique: dict[tuple[int, int, int], Hit] = {}
    texts: dict[int, str] = {}
    for bit, first, last, term in parts:
        key = (bit, first, last)
        if key in unique:
            continue
        spans = scan.fields[bit].spans
        start, end = spans[first][0], spans[last][1]
        name = _FIELD_NAMES[bit]
        text = texts.get(bit)
        if text is None:
            text = texts[bit] = doc.field_text(name)
        unique[key] = Hit(term, name, start, end, text[start:end])
    return [unique[key] for key in sorted(unique, key=lambda k: (_ORDER[k[0]], k[1], k[2]))]


_ORDER: Final = {FIELD_BITS[name]: i for i, name in enumerate(FIELDS)}
