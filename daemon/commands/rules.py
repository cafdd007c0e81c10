"""``newswatch rules test FILE…``: try the rules on files before trusting them.

Nothing is stored and no alert is sent; each file is parsed as the drop scanner would and
every rule says whether it fired and why (or why not).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.match import Matcher, RuleHit
from alerts.rules import Rule
from daemon.errors import ParseError
from daemon.parse import parse_bytes
from storage.types import Article


def test_files(matcher: Matcher, files: Sequence[str], timezone: str | None, as_json: bool) -> int:
    """Print each file's verdicts; exit 1 if a file could not be read."""
    zone = ZoneInfo(timezone) if timezone else None
    status = 0
    for name in files:
        try:
            articles = parse_bytes(Path(name).read_bytes(), name=Path(name).name, timezone=zone)
        except (OSError, ParseError) as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        for article in articles:
            verdicts = matcher.explain(article)
            if as_json:
                print(json.dumps(report(name, article, verdicts), ensure_ascii=False))
            else:
                print_verdicts(name, article, verdicts)
    return status


def report(
    name: str, article: Article, verdicts: list[tuple[Rule, RuleHit | str]]
) -> dict[str, Any]:
    rules = []
    for rule, verdict in verdicts:
        if isinstance(verdict, RuleHit):
            rules.append(
                {
                    "rule": rule.name,
                    "matched": True,
                    "score": verdict.score,
                    "evidence": [e.to_json() for e in verdict.evidence],
                    "excerpt": verdict.excerpt,
                }
            )
        else:
            rules.append({"rule": rule.name, "matched": False, "reason": verdict})
    return {"file": name, "title": article.title, "rules": rules}


def print_verdicts(name: str, article: Article, verdicts: list[tuple[Rule, RuleHit | str]]) -> None:
    print(f"{name}: {article.title}")
    for rule, verdict in verdicts:
        if not isinstance(verdict, RuleHit):
            print(f"  no     {rule.name}: {verdict}")
            continue
        print(f"  MATCH  {rule.name} (score {verdict.score:g})")
        for item in verdict.evidence:
            where = f"{item.field} {item.start}-{item.end}" if item.start >= 0 else item.field
            if item.kind == "term":
                print(f"         term {item.text!r} ({where})")
            else:
                chain = " > ".join(item.chain)
                print(f"         place {item.text!r} = {item.place} [{chain}] ({where})")
        print(f"         {verdict.excerpt}")
