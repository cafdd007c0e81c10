"""The keyword query language of watch rules (``query = '…'`` in ``[[rules]]``).

Front door::

    query = parse_query('("armed forces" OR troops) AND NOT exercise*')
    matcher = compile_rules({"Cross-border": query, …})
    matcher.match(Document(title=…, body=…))   # {"Cross-border": [Hit(…), …]}

Syntax: words, ``"exact phrases"``, ``AND``, ``OR``, ``NOT``, parentheses, juxtaposition as
AND, prefix wildcards ``sanction*``, field scopes ``title:`` ``body:`` ``tags:`` ``author:``
``source:`` (on a word, phrase, wildcard or parenthesised group), proximity ``"drone
attack"~5`` and ``a NEAR/5 b``. Precedence from tightest: NEAR, NOT, AND, OR. Matching is
whole-word and case- and accent-insensitive (see :mod:`alerts.textnorm`). Unscoped terms look
in the title, body and tags.
"""

from alerts.query.matcher import RuleMatcher, compile_rules, keywords_query
from alerts.query.nodes import (
    DEFAULT_FIELDS,
    FIELDS,
    And,
    Document,
    Hit,
    Near,
    Node,
    Not,
    Or,
    Proximity,
    Query,
    Term,
)
from alerts.query.scan import Scan
from alerts.query.syntax import MAX_DEPTH, QuerySyntaxError, parse_query

__all__ = [
    "DEFAULT_FIELDS",
    "FIELDS",
    "MAX_DEPTH",
    "And",
    "Document",
    "Hit",
    "Near",
    "Node",
    "Not",
    "Or",
    "Proximity",
    "Query",
    "QuerySyntaxError",
    "RuleMatcher",
    "Scan",
    "Term",
    "compile_rules",
    "keywords_query",
    "parse_query",
]
