"""What kind of document a decoded input is, judged by its content first.

The file name only breaks ties (a ``.html`` file whose text is mostly prose with a stray
tag is still HTML), because drop folders are full of misnamed files.
"""

from __future__ import annotations

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


def _json_shaped(head: str) -> bool:
    """JSON opens with an object, or an array of values; a text dump may open with "[Menu]"
    or an empty "[    ]" left by an image, which hold no record."""
    return _JSON_START.match(head) is not None


def sniff(text: str, name: str = "") -> Shape:
    head = text[:4096].lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "[") and _json_shaped(head):
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
