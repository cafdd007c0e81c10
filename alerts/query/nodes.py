"""The parsed form of a query, and the document and evidence types matching works with.

A query is a small tree. Leaves hold *folded* tokens (see :mod:`alerts.textnorm`), so the tree
says exactly what will be compared; each leaf also keeps the text the user wrote, which is what
evidence shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from storage.types import Article

FIELDS: Final = ("title", "body", "tags", "author", "source")
DEFAULT_FIELDS: Final = frozenset({"title", "body", "tags"})
"""Where an unscoped term is looked for: what the article is about, not who wrote or carried it."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a quoted phrase, or a prefix wildcard (``prefix``: the last token may go on).

    A word written with inner punctuation or in CJK (``U.S.``, ``北京``) is several tokens and so
    behaves as a phrase.
    """

    tokens: tuple[str, ...]
    prefix: bool = False
    fields: frozenset[str] = DEFAULT_FIELDS
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        body = " ".join(self.tokens) + ("*" if self.prefix else "")
        return _scoped(f'"{body}"' if len(self.tokens) > 1 else body, self.fields)


@dataclass(frozen=True, slots=True)
class Proximity:
    """``"w1 … wk"~N``: all k words, in any order, with at most N other words between them."""

    tokens: tuple[str, ...]
    slop: int
    fields: frozenset[str] = DEFAULT_FIELDS
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return _scoped(f'"{" ".join(self.tokens)}"~{self.slop}', self.fields)


@dataclass(frozen=True, slots=True)
class Near:
    """``a NEAR/N b``: both sides in the same field, in any order, at most N words apart."""

    left: Node
    right: Node
    distance: int

    def __str__(self) -> str:
        return f"({self.left} NEAR/{self.distance} {self.right})"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {self.child}"


Node = Term | Proximity | Near | And | Or | Not
Positional = Term | Proximity | Near | Or
"""Nodes that occupy places in the text, so NEAR can measure distances between them."""


def is_positional(node: Node) -> bool:
    if isinstance(node, Or):
        return all(is_positional(child) for child in node.children)
    return isinstance(node, Term | Proximity | Near)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the source text as written and its tree.

    ``str(query)`` prints the tree fully parenthesised, which is how ``newswatch check`` and
    the tests show what precedence made of the text.
    """

    text: str
    root: Node

    def __str__(self) -> str:
        return str(self.root)


@dataclass(frozen=True)
class Document:
    """What a rule reads of an article; ``body`` includes the lead."""

    title: str
    body: str
    tags: Sequence[str] = ()
    author: str = ""
    source: str = ""

    @classmethod
    def from_article(cls, article: Article) -> Document:
        return cls(
            title=article.title,
            body="\n\n".join(article.paragraphs),
            tags=tuple(article.tags),
            author="\n".join(article.authors),
            source=article.source or "",
        )

    def field_text(self, name: str) -> str:
        """The string a :class:`Hit` in field ``name`` points into (tags: one per line)."""
        if name == "tags":
            return "\n".join(self.tags)
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}")
        text: str = getattr(self, name)
        return text


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: which query term fired, where, and the text as written there.

    ``start``/``end`` index ``Document.field_text(field)``.
    """

    term: str
    field: str
    start: int
    end: int
    text: str


def _scoped(text: str, fields: frozenset[str]) -> str:
    if fields == DEFAULT_FIELDS:
        return text
    return "|".join(sorted(fields)) + ":" + text
