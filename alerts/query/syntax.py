"""Reading query text into a tree, with errors that point at the column.

Grammar, loosest binding first (so ``a OR b c`` is ``a OR (b AND c)`` and ``NOT a b`` is
``(NOT a) AND b``)::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*          # juxtaposition is AND
    unary    := "NOT" unary | near
    near     := primary ("NEAR/" N primary)*
    primary  := FIELD ":" primary | "(" or_expr ")" | '"' phrase ["*"] '"' ["~" N] | word ["*"]

Operators are upper case; ``and``/``or``/``not`` in lower case are ordinary words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from alerts import textnorm
from alerts.query.nodes import (
    DEFAULT_FIELDS,
    FIELDS,
    And,
    Near,
    Node,
    Not,
    Or,
    Proximity,
    Query,
    Term,
    is_positional,
)

_SPECIAL: Final = '()"'
_NEAR: Final = re.compile(r"NEAR/(\d+)")
_SCOPE: Final = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_OPERATORS: Final = {"AND", "OR", "NOT"}


class QuerySyntaxError(ValueError):
    """A query that cannot be read; ``column`` is 1-based and points at the culprit."""

    def __init__(self, message: str, column: int, query: str = "") -> None:
        self.message = message
        self.column = column
        self.query = query
        super().__init__(f"{message} (column {column})")

    def render(self, label: str = "query") -> str:
        """The query on one line and a caret under the column, then the message."""
        prefix = f"{label}: "
        line = " ".join(self.query.splitlines())  # keep the caret under the right column
        caret = " " * (len(prefix) + self.column - 1) + "^ " + self.message
        return f"{prefix}{line}\n{caret}"


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # WORD PHRASE FIELD ( ) AND OR NOT NEAR END
    text: str
    column: int  # 0-based
    number: int | None = None  # NEAR distance, phrase slop


def parse_query(text: str) -> Query:
    """Parse ``text``; raises :class:`QuerySyntaxError` with the column of the first mistake."""
    try:
        return Query(text, _Parser(_lex(text)).parse())
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(exc.message, exc.column, text) from None


def _error(message: str, column: int) -> QuerySyntaxError:
    return QuerySyntaxError(message, column + 1)


def _lex(text: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            lexemes.append(_Lexeme(char, char, i))
            i += 1
        elif char == '"':
            i = _lex_phrase(text, i, lexemes)
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            lexemes.extend(_classify_word(text[i:end], i))
            i = end
    lexemes.append(_Lexeme("END", "", len(text)))
    return lexemes


def _lex_phrase(text: str, start: int, out: list[_Lexeme]) -> int:
    close = text.find('"', start + 1)
    if close < 0:
        raise _error("unclosed quote", start)
    end = close + 1
    slop = None
    if end < len(text) and text[end] == "~":
        digits = re.match(r"\d+", text[end + 1 :])
        if digits is None:
            raise _error('"~" needs a number of words, as in "drone attack"~5', end)
        slop = int(digits.group())
        end += 1 + len(digits.group())
    out.append(_Lexeme("PHRASE", text[start:end], start, slop))
    return end


def _classify_word(word: str, column: int) -> list[_Lexeme]:
    if word in _OPERATORS:
        return [_Lexeme(word, word, column)]
    if word.startswith("NEAR"):
        near = _NEAR.fullmatch(word)
        if near is None:
            raise _error("NEAR needs a distance in words, as in NEAR/5", column)
        return [_Lexeme("NEAR", word, column, int(near.group(1)))]
    scope = _SCOPE.fullmatch(word)
    if scope is not None and scope.group(1).lower() in FIELDS:
        field = _Lexeme("FIELD", scope.group(1).lower(), column)
        rest = scope.group(2)
        after = column + len(scope.group(1)) + 1
        return [field, *_classify_word(rest, after)] if rest else [field]
    if scope is not None and scope.group(1).islower() and not scope.group(2).startswith("/"):
        known = ", ".join(f"{name}:" for name in FIELDS)
        raise _error(f"unknown field '{scope.group(1)}:' (known: {known})", column)
    if word[0] in "-+" and len(word) > 1:
        raise _error(f"'{word[0]}' is not an operator here; write NOT to exclude a term", column)
    return [_Lexeme("WORD", word, column)]


class _Parser:
    """Recursive descent over the lexemes; one method per grammar rule."""

    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self._lexemes = lexemes
        self._i = 0
        self._scope: str | None = None

    def parse(self) -> Node:
        if self._peek().kind == "END":
            raise _error("empty query", 0)
        node = self._or()
        tail = self._peek()
        if tail.kind == ")":
            raise _error("unexpected ')' with no '(' to close", tail.column)
        if tail.kind != "END":
            raise _error(f"unexpected {tail.text!r}", tail.column)
        return node

    def _peek(self) -> _Lexeme:
        return self._lexemes[self._i]

    def _take(self) -> _Lexeme:
        lexeme = self._lexemes[self._i]
        self._i += 1
        return lexeme

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek().kind == "OR":
            self._take()
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        children = [self._unary()]
        while True:
            kind = self._peek().kind
            if kind == "AND":
                self._take()
            elif kind not in {"WORD", "PHRASE", "FIELD", "(", "NOT"}:
                break
            children.append(self._unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _unary(self) -> Node:
        if self._peek().kind == "NOT":
            self._take()
            return Not(self._unary())
        return self._near()

    def _near(self) -> Node:
        node = self._primary()
        while self._peek().kind == "NEAR":
            operator = self._take()
            right = self._primary()
            if not (is_positional(node) and is_positional(right)):
                raise _error(
                    "NEAR joins words, phrases, wildcards or OR-groups of them", operator.column
                )
            assert operator.number is not None
            node = Near(node, right, operator.number)
        return node

    def _primary(self) -> Node:
        lexeme = self._take()
        if lexeme.kind == "FIELD":
            return self._scoped(lexeme)
        if lexeme.kind == "(":
            node = self._or()
            if self._peek().kind != ")":
                raise _error("missing closing parenthesis", self._peek().column)
            self._take()
            return node
        if lexeme.kind == "PHRASE":
            return self._phrase(lexeme)
        if lexeme.kind == "WORD":
            return self._word(lexeme)
        if lexeme.kind == "END":
            raise _error("expected a word, phrase or '(' here", lexeme.column)
        raise _error(f"expected a word, phrase or '(' before {lexeme.text!r}", lexeme.column)

    def _scoped(self, lexeme: _Lexeme) -> Node:
        if self._scope is not None and self._scope != lexeme.text:
            raise _error(f"'{lexeme.text}:' inside a '{self._scope}:' scope", lexeme.column)
        outer, self._scope = self._scope, lexeme.text
        try:
            return self._primary()
        finally:
            self._scope = outer

    def _fields(self) -> frozenset[str]:
        return DEFAULT_FIELDS if self._scope is None else frozenset({self._scope})

    def _phrase(self, lexeme: _Lexeme) -> Node:
        inner = lexeme.text[1 : lexeme.text.rindex('"')]
        tokens = tuple(textnorm.words(inner))
        if not tokens:
            raise _error("empty phrase", lexeme.column)
        prefix = inner.rstrip().endswith("*")
        if lexeme.number is not None and len(tokens) > 1:
            if prefix:
                raise _error("a proximity phrase cannot end with '*'", lexeme.column)
            return Proximity(tokens, lexeme.number, self._fields(), inner)
        return Term(tokens, prefix, self._fields(), inner)

    def _word(self, lexeme: _Lexeme) -> Node:
        word = lexeme.text
        star = word.find("*")
        if star >= 0 and star != len(word) - 1:
            raise _error("'*' is only allowed at the end of a word", lexeme.column + star)
        if "~" in word:
            raise _error("'~' goes after a quoted phrase, as in \"drone attack\"~5", lexeme.column)
        tokens = tuple(textnorm.words(word.rstrip("*")))
        if not tokens:
            message = (
                "'*' needs letters before it" if star == 0 else f"nothing to match in {word!r}"
            )
            raise _error(message, lexeme.column)
        return Term(tokens, star >= 0, self._fields(), word)
