"""The shared-automaton matcher agrees with a plain reading of the query tree.

The reference below is written for clarity, not speed: it splits each field into lines and
words, and walks the tree recursively, checking every word position. Random queries over a
small vocabulary (so that terms do collide) are compiled *together* into one matcher, which
also exercises the shared pattern table and the rule anchoring.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.query import (
    FIELDS,
    And,
    Document,
    Near,
    Node,
    Not,
    Or,
    Proximity,
    Term,
    compile_rules,
    parse_query,
)
from alerts.textnorm import fold

VOCABULARY = [
    "drone",
    "drones",
    "attack",
    "army",
    "sanction",
    "sanctions",
    "Kursk",
    "café",
    "Белгород",
    "ёлка",
    "北京",
]
STEMS = ["dro", "sanction", "a", "kur", "caf", "бел", "елк"]
CJK = re.compile(r"[\u4e00-\u9fff]")

# --- the reference ---------------------------------------------------------------------------

Lines = list[list[str]]
Span = tuple[str, int, int, int]  # field, line, first word, last word


def reference_words(text: str) -> Lines:
    lines = []
    for line in text.split("\n"):
        words: list[str] = []
        for word in re.split(r"[\s,]+", line):
            if word:
                words.extend(list(word) if CJK.match(word) else [fold(word)])
        lines.append(words)
    return lines


def reference_fields(doc: Document) -> dict[str, Lines]:
    return {name: reference_words(doc.field_text(name)) for name in FIELDS}


def term_spans(node: Term, fields: dict[str, Lines]) -> Iterator[Span]:
    n = len(node.tokens)
    for name in node.fields:
        for line_no, line in enumerate(fields[name]):
            for i in range(len(line) - n + 1):
                head, last = line[i : i + n - 1], line[i + n - 1]
                wanted, wanted_last = list(node.tokens[:-1]), node.tokens[-1]
                same_last = last.startswith(wanted_last) if node.prefix else last == wanted_last
                if head == wanted and same_last:
                    yield (name, line_no, i, i + n - 1)


def proximity_spans(node: Proximity, fields: dict[str, Lines]) -> Iterator[Span]:
    needed = Counter(node.tokens)

    def holds(line: list[str], a: int, b: int) -> bool:
        return not needed - Counter(line[a : b + 1])

    for name in node.fields:
        for line_no, line in enumerate(fields[name]):
            for a in range(len(line)):
                for b in range(a, min(len(line), a + len(node.tokens) + node.slop)):
                    minimal = not holds(line, a + 1, b) and not holds(line, a, b - 1)
                    if holds(line, a, b) and minimal:
                        yield (name, line_no, a, b)


def spans(node: Node, fields: dict[str, Lines]) -> list[Span]:
    if isinstance(node, Term):
        return list(term_spans(node, fields))
    if isinstance(node, Proximity):
        return list(proximity_spans(node, fields))
    if isinstance(node, Or):
        return [span for child in node.children for span in spans(child, fields)]
    assert isinstance(node, Near)
    found = []
    for lf, ll, la, lb in spans(node.left, fields):
        for rf, rl, ra, rb in spans(node.right, fields):
            gap = max(ra - lb - 1, la - rb - 1, 0)
            if (lf, ll) == (rf, rl) and gap <= node.distance:
                found.append((lf, ll, min(la, ra), max(lb, rb)))
    return found


def evaluate(node: Node, fields: dict[str, Lines]) -> bool:
    if isinstance(node, And):
        return all(evaluate(child, fields) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, fields) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, fields)
    return bool(spans(node, fields))


# --- random queries and documents ------------------------------------------------------------


def cased(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.title()])


words = st.sampled_from(VOCABULARY).flatmap(cased)
scopes = st.sampled_from(["", "", "", "title:", "body:", "tags:", "author:"])
phrase_words = st.lists(words, min_size=1, max_size=3).map(" ".join)
plain_terms = st.one_of(
    words,
    st.sampled_from(STEMS).map(lambda stem: stem + "*"),
    phrase_words.map(lambda p: f'"{p}"'),
    st.tuples(phrase_words, st.integers(0, 3)).map(lambda pair: f'"{pair[0]}"~{pair[1]}'),
)
terms = st.tuples(scopes, plain_terms).map("".join)
positional = st.recursive(
    terms,
    lambda inner: st.one_of(
        st.tuples(inner, st.integers(0, 3), inner).map(lambda t: f"({t[0]} NEAR/{t[1]} {t[2]})"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " OR ".join(xs) + ")"),
    ),
    max_leaves=4,
)


def combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda q: f"NOT {q}"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " AND ".join(xs) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " ".join(xs) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " OR ".join(xs) + ")"),
    )


queries = st.recursive(positional, combine, max_leaves=8)
separators = st.sampled_from([" ", " ", " ", ", ", "\n"])


@st.composite
def texts(draw: st.DrawFn, max_words: int = 14) -> str:
    chosen = draw(st.lists(words, max_size=max_words))
    return "".join(word + draw(separators) for word in chosen).strip()


documents = st.builds(
    Document,
    title=texts(max_words=6),
    body=texts(),
    tags=st.lists(texts(max_words=3), max_size=2).map(tuple),
    author=texts(max_words=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(queries, min_size=1, max_size=5), st.lists(documents, min_size=1, max_size=3))
def test_matcher_agrees_with_the_reference(sources: list[str], docs: list[Document]) -> None:
    parsed = {f"rule{i}": parse_query(text) for i, text in enumerate(sources)}
    matcher = compile_rules(parsed)
    for doc in docs:
        fields = reference_fields(doc)
        expected = [name for name, query in parsed.items() if evaluate(query.root, fields)]
        found = matcher.match(doc)
        assert list(found) == expected
        for hits in found.values():
            for hit in hits:
                assert doc.field_text(hit.field)[hit.start : hit.end] == hit.text


def test_reference_reads_as_intended() -> None:
    """The reference itself, on cases worked out by hand."""
    doc = Document(title="Drone attack", body="army, drones\nattack café")
    fields = reference_fields(doc)
    assert evaluate(parse_query('"drone attack" AND cafe').root, fields)
    assert not evaluate(parse_query('body:"drones attack"').root, fields)  # line break
    assert evaluate(parse_query("army NEAR/0 dro*").root, fields)
    assert not evaluate(parse_query('"army attack"~3').root, fields)
    assert evaluate(parse_query('"attack drone"~0').root, fields)
