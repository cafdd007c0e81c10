"""Reading queries: the tree precedence builds, and errors that point at the mistake."""

from __future__ import annotations

import pytest

from alerts.query import (
    DEFAULT_FIELDS,
    And,
    Document,
    Near,
    Not,
    Or,
    Proximity,
    QuerySyntaxError,
    Term,
    compile_rules,
    keywords_query,
    parse_query,
)


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("troops", "troops"),
        ("Troops AND tanks", "(troops AND tanks)"),
        ("troops tanks", "(troops AND tanks)"),
        ("troops OR tanks", "(troops OR tanks)"),
        ("a OR b c", "(a OR (b AND c))"),
        ("a b OR c", "((a AND b) OR c)"),
        ("a OR b AND c OR d", "(a OR (b AND c) OR d)"),
        ("(a OR b) c", "((a OR b) AND c)"),
        ("NOT a b", "(NOT a AND b)"),
        ("NOT a OR b", "(NOT a OR b)"),
        ("a AND NOT b", "(a AND NOT b)"),
        ("NOT NOT a", "NOT NOT a"),
        ("NOT (a OR b)", "NOT (a OR b)"),
        ("a NEAR/3 b c", "((a NEAR/3 b) AND c)"),
        ("NOT a NEAR/3 b", "NOT (a NEAR/3 b)"),
        ("a NEAR/2 b NEAR/4 c", "((a NEAR/2 b) NEAR/4 c)"),
        ("(drone OR missile) NEAR/3 strike*", "((drone OR missile) NEAR/3 strike*)"),
        ('"Drone  attack"', '"drone attack"'),
        ('"drone attack"~5', '"drone attack"~5'),
        ('"drone"~5', "drone"),
        ("sanction*", "sanction*"),
        ('"air def*"', '"air def*"'),
        ("and or not", "(and AND or AND not)"),  # lower case is just words
        ("U.S.", '"u s"'),
        ("北京", '"北 京"'),
        ("title:Kursk", "title:kursk"),
        ('TITLE:"Kursk region"', 'title:"kursk region"'),
        ("tags:sanction*", "tags:sanction*"),
        ("title:(a OR b) c", "((title:a OR title:b) AND c)"),
        ("author: Smith", "author:smith"),
        ("source:(a title:b)", None),  # error, checked below
        ('body:"a b"~2 NEAR/1 c', '(body:"a b"~2 NEAR/1 c)'),
        ("http://example.org", '"http example org"'),
    ],
)
def test_precedence_and_scopes(query: str, tree: str | None) -> None:
    if tree is None:
        with pytest.raises(QuerySyntaxError):
            parse_query(query)
    else:
        assert str(parse_query(query)) == tree


def test_tree_nodes() -> None:
    root = parse_query('title:("Kursk region" OR kursk*) NOT exercise "drone strike"~3').root
    assert root == And(
        (
            Or(
                (
                    Term(("kursk", "region"), False, frozenset({"title"})),
                    Term(("kursk",), True, frozenset({"title"})),
                )
            ),
            Not(Term(("exercise",))),
            Proximity(("drone", "strike"), 3),
        )
    )
    near = parse_query("a NEAR/0 b").root
    assert near == Near(Term(("a",)), Term(("b",)), 0)
    assert Term(("a",)).fields == DEFAULT_FIELDS == frozenset({"title", "body", "tags"})


def test_terms_keep_the_text_as_written() -> None:
    root = parse_query('Sanction* OR "Drone Attack"').root
    assert isinstance(root, Or)
    assert [child.text for child in root.children if isinstance(child, Term)] == [
        "Sanction*",
        "Drone Attack",
    ]


KNOWN = "title:, body:, tags:, author:, source:"


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ('("drone attack" OR troops', 26, "missing closing parenthesis"),
        ("(a OR (b c)", 12, "missing closing parenthesis"),
        ("a ) b", 3, "unexpected ')' with no '(' to close"),
        ("()", 2, "expected a word, phrase or '(' before ')'"),
        ("a AND", 6, "expected a word, phrase or '(' here"),
        ("OR b", 1, "expected a word, phrase or '(' before 'OR'"),
        ("a AND OR b", 7, "expected a word, phrase or '(' before 'OR'"),
        ("a NOT", 6, "expected a word, phrase or '(' here"),
        ('troops "drone attack', 8, "unclosed quote"),
        ('a ""', 3, "empty phrase"),
        ('"a b"~', 6, '"~" needs a number of words, as in "drone attack"~5'),
        ("drone~3", 1, "'~' goes after a quoted phrase, as in \"drone attack\"~5"),
        ('"air def*"~3', 1, "a proximity phrase cannot end with '*'"),
        ("sanc*ion", 5, "'*' is only allowed at the end of a word"),
        ("a *tion", 3, "'*' is only allowed at the end of a word"),
        ("a *", 3, "'*' needs letters before it"),
        ("a -- b", 3, "'-' is not an operator here; write NOT to exclude a term"),
        ("x ...", 3, "nothing to match in '...'"),
        ("-troops", 1, "'-' is not an operator here; write NOT to exclude a term"),
        ("titel:kursk", 1, f"unknown field 'titel:' (known: {KNOWN})"),
        ("title:", 7, "expected a word, phrase or '(' here"),
        ("title:(a body:b)", 10, "'body:' inside a 'title:' scope"),
        ("a NEAR b", 3, "NEAR needs a distance in words, as in NEAR/5"),
        ("a NEAR/x b", 3, "NEAR needs a distance in words, as in NEAR/5"),
        ("(a b) NEAR/3 c", 7, "NEAR joins words, phrases, wildcards or OR-groups of them"),
        ("a NEAR/3 NOT b", 10, "expected a word, phrase or '(' before 'NOT'"),
    ],
)
def test_syntax_errors_point_at_the_column(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert (caught.value.message, caught.value.column) == (message, column)
    assert caught.value.query == query
    assert str(caught.value) == f"{message} (column {column})"
    assert isinstance(caught.value, ValueError)


def test_render_puts_the_caret_under_the_column() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query('("drone attack" OR troops')
    assert caught.value.render() == (
        'query: ("drone attack" OR troops\n'
        "                                ^ missing closing parenthesis"
    )
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("troops AND\nNOT sanc*ion")
    rendered = caught.value.render(label="rules[2].query")
    line, caret = rendered.split("\n")
    assert line == "rules[2].query: troops AND NOT sanc*ion"
    assert caret.index("^") == line.index("*")


def test_keywords_query_is_any_of_the_literal_keywords() -> None:
    query = keywords_query(["Belgorod Oblast", "sanction*", "  "])
    assert str(query) == '("belgorod oblast" OR sanction)'
    assert str(keywords_query(["Kursk"])) == "kursk"
    with pytest.raises(ValueError, match="no word"):
        keywords_query(["--", ""])


def test_absurd_nesting_is_a_syntax_error_not_a_crash() -> None:
    assert str(parse_query("(" * 30 + "kursk" + ")" * 30)) == "kursk"
    for depth in (41, 5000):
        with pytest.raises(QuerySyntaxError, match="nested more than 40 levels") as caught:
            parse_query("NOT " * depth + "kursk")
        assert caught.value.column == 1
    deep = "a"
    for _ in range(19):  # two levels each: 39 in all
        deep = f"(x OR {deep}) y"
    assert "rule" in compile_rules({"rule": parse_query(deep)}).match(Document("a x y", ""))
