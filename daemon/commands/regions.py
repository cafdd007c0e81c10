"""``newswatch regions lookup NAME`` and ``newswatch regions find FILE… [--json] [--explain]``.

Both let a user try region rules before trusting them: ``lookup`` shows every place a name may
stand for, ``find`` shows which places the matcher sees in a text and why a rule would fire.
``find --json`` prints one line per file, in order::

    {"file": …, "places": [{"text", "start", "end", "place", "id", "kind", "code", "chain"}],
     "regions": [every code of those chains, deduplicated, in first-seen order]}

``find --explain`` lists every name the gazetteer saw, taken or not: for a place, the one
chosen, the others it could have been with their scores and why it won; for a name set aside,
the check that did it (a person's name, a ship or team named after the place, …). With
``--json`` each file's line gets ``"explain": [{"text", "start", "end", "place", "code",
"chain", "others": [{"place", "code", "score"}], "why"}]``.

Offsets index the text that was matched: the article text (title, lead, body) when the file
parses as an article, the file decoded as UTF-8 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alerts.regions import Explained, Gazetteer, Mention, Place


def lookup(name: str, cache_dir: Path | None) -> int:
    """Print every candidate for ``name``; exit status 1 when there is none."""
    gazetteer = Gazetteer.load(cache_dir)
    places = gazetteer.lookup(name)
    if not places:
        print(f"{name}: no place of that name", file=sys.stderr)
        return 1
    for place in places:
        print(_describe(place))
    return 0


def find(
    files: Sequence[str], as_json: bool, cache_dir: Path | None, *, explain: bool = False
) -> int:
    """Print the places found in each file; exit status 1 if a file could not be read."""
    gazetteer = Gazetteer.load(cache_dir)
    status = 0
    for name in files:
        try:
            text = read_text(Path(name))
        except OSError as exc:
            print(f"{name}: {exc.strerror or exc}", file=sys.stderr)
            status = 1
            continue
        mentions = gazetteer.find(text)
        seen = gazetteer.explain(text) if explain else None
        if as_json:
            line = report(name, mentions)
            if seen is not None:
                line["explain"] = [_explained_json(e) for e in seen]
            print(json.dumps(line, ensure_ascii=False))
        else:
            _print_human(name, mentions)
            if seen is not None:
                _print_explained(seen)
    return status


def _explained_json(e: Explained) -> dict[str, Any]:
    return {
        "text": e.text,
        "start": e.start,
        "end": e.end,
        "place": e.place.name if e.place else None,
        "code": e.place.code if e.place else None,
        "chain": list(e.place.chain) if e.place else [],
        "others": [
            {"place": p.name, "code": p.code, "chain": list(p.chain), "score": round(score, 2)}
            for p, score in e.others
        ],
        "why": e.why,
    }


def _print_explained(seen: Sequence[Explained]) -> None:
    print("  names seen:")
    for e in seen:
        if e.place is None:
            print(f"    {e.start}-{e.end}\t{e.text!r}\tnot a place here: {e.why}")
            continue
        chain = " > ".join(e.place.chain)
        print(f"    {e.start}-{e.end}\t{e.text!r}\t-> {e.place.name} [{chain}]: {e.why}")
        for other, score in e.others[:5]:
            print(f"        could be {other.name} [{' > '.join(other.chain)}] (score {score:.1f})")
        if len(e.others) > 5:
            print(f"        and {len(e.others) - 5} more")


def read_text(path: Path) -> str:
    """The article text of a file, or the file itself as UTF-8 when it is no article."""
    data = path.read_bytes()
    try:
        from daemon.parse import parse_bytes

        articles = parse_bytes(data, name=path.name)
    except Exception:  # any parser failure: the raw text is still worth searching
        return data.decode("utf-8", errors="replace")
    texts = [a.text for a in articles if a.text]
    return "\n\n".join(texts) if texts else data.decode("utf-8", errors="replace")


def report(name: str, mentions: Sequence[Mention]) -> dict[str, Any]:
    places = [
        {
            "text": m.text,
            "start": m.start,
            "end": m.end,
            "place": m.place.name,
            "id": m.place.id,
            "kind": m.place.kind,
            "code": m.place.code,
            "chain": list(m.place.chain),
        }
        for m in mentions
    ]
    regions = list(dict.fromkeys(code for m in mentions for code in m.place.chain))
    return {"file": name, "places": places, "regions": regions}


def _describe(place: Place) -> str:
    code = place.code or "-"
    return f"{place.name}\t{place.kind}\t{code}\t{' > '.join(place.chain)}\t{place.id}"


def _print_human(name: str, mentions: Sequence[Mention]) -> None:
    print(f"{name}: {len(mentions)} place(s)")
    for m in mentions:
        chain = ", ".join(m.place.chain)
        print(f"  {m.start}-{m.end}\t{m.text!r}\t-> {m.place.name} ({m.place.kind}) [{chain}]")
