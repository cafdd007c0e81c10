"""What kind of document a decoded input is, judged by its content first.

The file name only breaks ties (a ``.html`` file whose text is mostly prose with a stray
tag is still HTML), because drop folders are full of misnamed files.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum


class Shape(StrEnum):
    TEXT = "text dump"
    HTML = "HTML page"
    JSON = "JSON"
    FEED = "feed"


_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:rdf)[\s>]", re.I)
_HTML_ROOT = re.compile(r"<(?:!doctype html|html|head|body)[\s>]", re.I)
_TAG = re.compile(r"</?(?:p|div|span|a|article|section|h[1-6]|br|img|meta|title)\b[^>]*>", re.I)


_JSON_START = re.compile(r'^(?:\{\s*(?:"|\}|$)|\[\s*(?:[{\["\d-]|$)|\[\s*\]\s*$)')
_HEAD = 4096  # what the shape is judged on
_BLANK = re.compile(r"\s*")
# A first line that does not parse on its own but opens records: pretty-printed or broken JSON.
_RECORDS_OPEN = re.compile(r'^(?:\{\s*(?:"|$)|\[\s*(?:[{\[]|$))')


def _json_shaped(text: str, head: str) -> bool:
    """JSON opens with an object, or an array of values; a text dump may open with "[Menu]",
    an empty "[    ]" left by an image, or a bracketed number or date ("[49787647]",
    "[2020-07-g]"), which hold no record.

    A first line that is whole JSON is a record only if it is (or holds) an object; one that
    is a bare array of numbers is JSON only when nothing follows it, so a page whose counter a
    renderer printed first still reads as the dump it is. Only the first line (at most the
    4 KB ``head``) is parsed here: the records reader parses the document once, later."""
    if _JSON_START.match(head) is None:
        return False
    first, newline, _ = head.partition("\n")
    if not newline and len(text) > _HEAD:  # a first line that runs on past the head
        return _RECORDS_OPEN.match(head) is not None
    try:
        value = json.loads(first)
    except ValueError:
        return _RECORDS_OPEN.match(first.strip()) is not None
    if isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
    ):
        return True
    after = text.find(first) + len(first)
    return _BLANK.fullmatch(text, after) is not None


def sniff(text: str, name: str = "") -> Shape:
    head = text[:_HEAD].lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "[") and _json_shaped(text, head):
        return Shape.JSON
    if head.startswith("<"):
        if _HTML_ROOT.search(head):
            return Shape.HTML
        if head.startswith("<?xml") or _FEED_ROOT.search(head):
            return Shape.FEED if _FEED_ROOT.search(head) else Shape.HTML
        return Shape.HTML
    if _HTML_ROOT.search(head):
        return Shape.HTML
    tags = len(_TAG.findall(head))
    if tags >= 5 or (tags and name.lower().endswith((".html", ".htm", ".xhtml"))):
        return Shape.HTML
    return Shape.TEXT
