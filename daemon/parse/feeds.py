"""Feed documents (RSS, Atom, RDF via feedparser; JSON Feed by hand) into Articles.

feedparser only ever receives bytes: given a string it may treat it as a URL or a path and
fetch it, which a parser must never do. A malformed feed still yields the entries feedparser
could read; its complaint is kept in ``bozo_error`` for the source's status page.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import feedparser
import feedparser_rs

from daemon.errors import ParseError
from daemon.parse.dates import Clock, impossible, parse_when
from daemon.parse.decode import binary_kind, is_utf8, read_not_utf8
from daemon.parse.fields import clean_line, detect_language, estimate_reading_time, unique
from daemon.parse.htmltext import html_paragraphs
from storage.types import Article, Image

JSON_FEED_VERSION = "https://jsonfeed.org/version/"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class ParsedFeed:
    """A feed's entries plus what the poller needs: its title, its TTL hint, its complaint."""

    articles: list[Article] = field(default_factory=list)
    title: str = ""
    ttl_minutes: int | None = None
    bozo_error: str | None = None
    # Entries the caller knew already (see ``known`` in parse_xml_feed): their GUIDs and
    # dates, kept so the next poll still knows them and the publishing gap still counts them.
    known: list[tuple[str, datetime | None]] = field(default_factory=list)


def is_json_feed(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("version", "")).startswith(JSON_FEED_VERSION)


def parse_xml_feed(
    data: bytes,
    clock: Clock,
    source: str | None,
    *,
    fast: bool = False,
    known: Callable[[str], bool] | None = None,
    trim: bool = True,
) -> ParsedFeed:
    """feedparser reads every document; with ``fast`` feedparser-rs reads those it reads
    cleanly and feedparser the rest. The fast path stays off until it reads every feed of
    ``bench/feed_equivalence.py`` as feedparser does: routed by ``_FEEDPARSER_ONLY``, the
    test feeds of feedparser and feedvalidator it was checked on read the same, but a few of
    those kept aside for checking still do not (an entity in a CDATA title, a second title,
    media descriptions, MathML), nor one of the two saved real-world feeds of feedjira that
    it takes.

    ``known`` says which GUIDs the caller has stored already: those entries are not read
    beyond their date, since most polls of a changed feed find one new entry among dozens,
    and reading an entry's HTML costs more than parsing it. With ``trim`` (the default), RSS
    items known by a plain GUID are cut out of the document before any parser sees it
    (``_drop_known_items``); off, they are parsed and skipped, which reads the same.

    feedparser's HTML sanitiser is left off: every fragment is read into plain text by
    ``html_paragraphs``, which drops scripts, styles, frames and the like itself. The
    sanitiser cost a quarter of feedparser's time, and parsing is most of polling's CPU."""
    original = data
    data, notes = _as_utf8(data)
    data, entity_notes = _defuse_entities(data)
    notes += entity_notes
    data = _mend_references(data)
    dropped: list[tuple[str, datetime | None]] = []
    if known is not None and trim:
        data, dropped = _drop_known_items(data, clock, known)
    parsed = _fast(data) if fast else None
    if parsed is None:
        parsed = feedparser.parse(bytes(data), resolve_relative_uris=False, sanitize_html=False)
    feed = parsed.get("feed", {})
    language = _language_code(feed.get("language"))
    articles, seen = [], dropped
    ids: set[str] = {guid for guid, _ in dropped}
    repeated: list[str] = []
    for e in parsed.get("entries", []):
        guid = _entry_guid(e)
        if guid and guid.strip():
            if guid in ids:
                repeated.append(guid)
                continue
            ids.add(guid)
            if known is not None and known(guid):
                seen.append((guid, _guarded(partial(_entry_date, e, clock), e, source)))
                continue
        articles.append(_guarded(partial(_entry, e, clock, source, language), e, source))
    if repeated:
        notes.append(_repeats(repeated))
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    complaint = f"{type(bozo).__name__}: {bozo}" if bozo is not None else None
    if not original.strip():  # feedparser finds nothing wrong with nothing
        notes.append("an empty document, not a feed")
    elif complaint is not None:
        what = None if articles or seen else _what_it_is(original)
        notes.append(f"{what}, not a feed ({complaint})" if what else complaint)
    return ParsedFeed(
        articles=[a for a in articles if a is not None],
        title=clean_line(str(feed.get("title") or "")),
        ttl_minutes=_int(feed.get("ttl")),
        bozo_error="; ".join(notes) if notes else None,
        known=seen,
    )


_ITEM = re.compile(rb"<item\b[^>]*>(.*?)</item\s*>", re.S)
_GUID = re.compile(rb"<guid\b[^>]*>([^<&]*)</guid\s*>")
_PUB_DATE = re.compile(rb"<pubDate\s*>([^<&]*)</pubDate\s*>")
_OTHER_DATE = re.compile(rb"<(?:\w+:)?(?:date|updated|published|created|issued|modified)\b", re.I)


def _drop_known_items(
    data: bytes, clock: Clock, known: Callable[[str], bool]
) -> tuple[bytes, list[tuple[str, datetime | None]]]:
    """The document without the RSS items the caller stored already, and their GUIDs with
    their dates. A changed feed mostly lists dozens of such items around one new one, and
    the parser's time goes by the size of the document; an item that cannot be told for sure
    by its plain GUID and single ``pubDate`` is left for the parser to read."""
    if b"<item" not in data:
        return data, []
    blocks = list(_ITEM.finditer(data))
    guids = []
    for m in blocks:
        found = _GUID.findall(m.group(1))
        guids.append(found[0].strip().decode("utf-8", "replace") if len(found) == 1 else "")
    named = [g for g in guids if g]
    if len(set(named)) != len(named):
        return data, []  # repeated GUIDs: the full reading keeps the first and names the rest
    seen: list[tuple[str, datetime | None]] = []
    cuts: list[tuple[int, int]] = []
    for m, guid in zip(blocks, guids, strict=True):
        body = m.group(1)
        if not guid or b"<item" in body or body.count(b"<![CDATA[") != body.count(b"]]>"):
            continue
        dates = _PUB_DATE.findall(body)
        if len(dates) != 1 or _OTHER_DATE.search(body) or not known(guid):
            continue
        raw = dates[0].decode("utf-8", "replace").strip()
        when = parse_when(raw, clock)
        if when is None and not impossible(raw):
            continue  # feedparser may still read it: let it
        seen.append((guid, when))
        cuts.append(m.span())
    if not cuts:
        return data, []
    parts, at = [], 0
    for start, end in cuts:
        parts.append(data[at:start])
        at = end
    parts.append(data[at:])
    return b"".join(parts), seen


def _repeats(guids: list[str]) -> str:
    """Entries sharing a GUID are one entry to storage; the first listed (feeds list the
    newest first) is the one kept, and the others are named so the publisher can be told."""
    shown = ", ".join(repr(g) for g in dict.fromkeys(guids))
    if len(shown) > 200:
        shown = shown[:200] + "…"
    many = len(guids) != 1
    return (
        f"{len(guids)} {'entries repeat' if many else 'entry repeats'} the GUID of an earlier "
        f"entry, only the first kept: {shown}"
    )


_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])([^"']*)(["'])""")


def _as_utf8(data: bytes) -> tuple[bytes, list[str]]:
    """The document as UTF-8 declared as such, when its bytes are not what it declares, with
    what was wrong; otherwise untouched (feedparser reads a correct declaration itself).

    feedparser believes a declaration that decodes, and a Cyrillic code page decodes any
    bytes; a document that fails its declaration is read as windows-1252, and one stray
    byte in a UTF-8 feed sends the whole feed there. Either garbles every letter of every
    entry, so the bytes are read here as they are, not as they claim."""
    if data.startswith(_BOMS) or b"\x00" in data[:256] or binary_kind(data[:16]):
        return data, []
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    match = _XML_ENCODING.match(body)
    declared = match.group(2).decode("ascii", "replace").strip() if match else None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        read, note = read_not_utf8(body, declared, exc)
        if read is None or note is None:
            return data, []
        out = read.encode("utf-8")
    else:
        if declared is None or is_utf8(declared) or body.isascii():
            return data, []
        note = f"document declared as {declared}, but the bytes are UTF-8: read as UTF-8"
        out = body  # already UTF-8: only the declaration changes
    # Named as feedparser names the same complaint, for whoever reads the feed's status.
    note = f"CharacterEncodingOverride: {note}"
    return (_XML_ENCODING.sub(rb"\1utf-8\3", out, count=1) if match else out), [note]


# An internal DTD subset, and the entity declarations in it (the document's entities).
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([^\s\[>]+)[^\[>]*(?:\[(.*)\]\s*)?>", re.S)
_ENTITY = re.compile(
    rb"""<!ENTITY\s+(%\s*)?([^\s"'>]+)\s+(?:(SYSTEM|PUBLIC)\b[^>]*|"([^"]*)"|'([^']*)')\s*>"""
)
_ENTITY_NAME = re.compile(rb"\w+")
_CHARACTER = re.compile(rb"&#(?:\d{1,7}|x[0-9a-fA-F]{1,6});")
_REFERENCE = re.compile(rb"&(\w+);")
_NUMERIC_REFERENCE = re.compile(rb"&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));")
_REPLACEMENT = b"&#xFFFD;"


def _no_character(match: re.Match[bytes]) -> bytes:
    decimal, hexadecimal = match.groups()
    digits = (decimal or hexadecimal).lstrip(b"0")
    if len(digits) > 7:  # past U+10FFFF however it is written, and int() refuses 4,300 digits
        return _REPLACEMENT
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT
    return match.group(0)


def _mend_references(data: bytes) -> bytes:
    """A reference to no character (past U+10FFFF, a surrogate, NUL) becomes U+FFFD: feedparser's
    loose parser raises on one and the whole feed would be lost for one character."""
    if b"&#" not in data:
        return data
    return _NUMERIC_REFERENCE.sub(_no_character, data)


# What a document's own entities may add to it in all: a little text repeated a few times
# ("&copy-line;"). A larger total is an expansion attack.
ENTITY_BUDGET = 100_000


def _defuse_entities(data: bytes) -> tuple[bytes, list[str]]:
    """The document with its own entities made harmless, and what was refused.

    An entity that names a file or address (XXE), a parameter entity, or one built of other
    entities ("billion laughs") becomes empty: it is never read, fetched or expanded. Plain
    text entities stay unless together they would add more than ENTITY_BUDGET bytes (one
    long entity repeated thousands of times); then they all become empty. feedparser drops
    such declarations itself in most cases, but its lenient parser then expands plain ones
    without any bound (a 100 KB document made 300 MB of one title)."""
    first = _FIRST_ELEMENT.search(data)
    end = first.start() if first else len(data)
    if data.find(b"<!ENTITY", 0, end) < 0:
        return data, []
    doctype = _DOCTYPE.search(data, 0, end)
    if doctype is None or doctype.group(2) is None:
        return data, []
    refused: dict[str, list[str]] = {}
    values: dict[bytes, bytes] = {}
    for match in _ENTITY.finditer(doctype.group(2)):
        name, value = match.group(2), match.group(4)
        if value is None:
            value = match.group(5)
        shown = repr(name.decode("utf-8", "replace"))
        if match.group(1) or not _ENTITY_NAME.fullmatch(name):
            refused.setdefault("a parameter entity or an odd name, ignored", []).append(shown)
            continue
        values[name] = b""
        if match.group(3):
            refused.setdefault("external (a file or address), not read", []).append(shown)
        elif value is not None and _CHARACTER.fullmatch(value):
            values[name] = value
        elif value is not None and (b"&" in value or b"<" in value or b'"' in value):
            refused.setdefault("built of other entities or markup, not expanded", []).append(shown)
        else:
            values[name] = value or b""
    notes = [f"{_entities(names)}: {why}" for why, names in refused.items()]
    uses = Counter(m.group(1) for m in _REFERENCE.finditer(data, doctype.end()))
    growth = sum(len(value) * uses[name] for name, value in values.items())
    if growth > ENTITY_BUDGET:
        notes.append(
            f"entities would add {growth:,} bytes to the document (more than "
            f"{ENTITY_BUDGET:,}): not expanded"
        )
        values = dict.fromkeys(values, b"")
    subset = b"".join(b'\n<!ENTITY %s "%s">' % item for item in values.items())
    declared = b"<!DOCTYPE " + doctype.group(1) + b" [" + subset + b"\n]>" if values else b""
    return data[: doctype.start()] + declared + data[doctype.end() :], notes


def _entities(names: list[str]) -> str:
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"entity {listed}" if len(names) == 1 else f"entities {listed}"


_HTML_PAGE = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.I)
_HTML_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})", re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w:.-]*)")


def _what_it_is(data: bytes) -> str | None:
    """What a document that holds no feed is, so its poll's error says what the server sent
    (a publisher's error page, an image, a sitemap) rather than where an XML parser gave up."""
    head = data[:4096]
    kind = binary_kind(head)
    if kind is not None:
        return f"a binary file ({kind})"
    if _HTML_PAGE.search(head):
        found = _HTML_TITLE.search(head)
        title = clean_line(found.group(1).decode("utf-8", "replace")) if found else ""
        return f"an HTML page titled {title!r}" if title else "an HTML page"
    if head.lstrip()[:1] in (b"{", b"["):
        return "a JSON document that is no JSON Feed"
    root = _ROOT.search(head)
    return f"an XML document whose root is <{root.group(1).decode()}>" if root else None


# Constructs feedparser-rs reads differently from feedparser (bench/feed_equivalence.py):
# base64 and xhtml content, xml:lang, Windows-1252 code points, double-encoded UTF-8 and
# escaped character references, entities in titles, RDF and Dublin Core dates, Atom links
# chosen by type or language, iTunes keywords, media categories, GUIDs that are permalinks
# but no absolute URL, RSS authors written as e-mail addresses, and elements out of place
# (markup inside a plain summary or a category, a second description, a relative link).
_FEEDPARSER_ONLY = re.compile(
    rb"base64|xml:lang|type=[\"']xhtml|mode=[\"']|\xc2[\x80-\x9f]|&#(?:1[2-5]\d|x[89][0-9a-f]);"
    rb"|\xc3\xa2\xc2|<title[^>]*>[^<]*&|rdf:RDF|dcterms|dc:date|hreflang|rel=[\"'](?!alternate)"
    rb"|itunes:keywords|media:category|1999/xhtml|xhtml\+xml|&amp;#|&#x|<fullitem"
    rb"|<author>\s*[^<\s]"
    rb"|<body|CDATA\[<!\[CDATA|<(?:summary|content|category)>[^<]*<[a-z]|atom:content"
    rb"|atom:summary|</description>\s*<description|<link>\s*(?!https?:|<)"
    rb"|type=[\"']application/(?!xhtml)|xml:base|<atom:(?!link)|<enclosure[^>]*[^/]>",
    re.I,
)
_LEFT_REFERENCE = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_UTF8_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']utf-?8["']""", re.I)
_ANY_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*encoding=", re.I)


def _fast(data: bytes) -> Any | None:
    """feedparser-rs's reading of a document it reads cleanly, or None for feedparser.

    It is some fifteen times faster and agrees with feedparser on well-formed UTF-8 feeds;
    an ill-formed document (it sets ``bozo``), one in another encoding, one it finds no
    entries in, or one it cannot read at all goes to feedparser, whose recovery and encoding
    detection are the reference."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    head = data[:200]
    if _ANY_DECLARATION.match(head) and not _UTF8_DECLARATION.match(head):
        return None
    if _FEEDPARSER_ONLY.search(data) or (b"<rss" in data and b"<summary" in data):
        return None
    try:
        data.decode("utf-8")
        parsed = feedparser_rs.parse(data)
    except Exception:  # any failure of the fast path is feedparser's to read
        return None
    if parsed.get("bozo") or not parsed.get("entries"):
        return None
    feed = parsed.get("feed") or {}
    if feed.get("author") or feed.get("authors"):
        return None  # it gives entries their feed's author, feedparser does not
    if any(e.get("guidislink") and e.get("link") != e.get("id") for e in parsed["entries"]):
        return None  # a link taken from a relative GUID: it resolves it, feedparser does not
    if any(_LEFT_REFERENCE.search(_texts(e)) for e in parsed["entries"]):
        return None  # a reference left unread in its text: feedparser reads it as HTML
    return parsed


def _texts(entry: Any) -> str:
    parts = [str(entry.get("title") or ""), str(entry.get("summary") or "")]
    parts += [str(c.get("value") or "") for c in entry.get("content") or ()]
    return "\n".join(parts)


def _guarded(read: Callable[[], T | None], entry: Any, source: str | None) -> T | None:
    """One entry that our field readers cannot take is skipped with a warning naming it;
    the feed's other entries still go in."""
    try:
        return read()
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        name = entry.get("id") or entry.get("url") or entry.get("link") or entry.get("title")
        log.warning(
            "feed %s: entry %r skipped: %s: %s", source, name or "?", type(exc).__name__, exc
        )
        return None


def _entry(entry: Any, clock: Clock, source: str | None, language: str | None) -> Article | None:
    summary = _plain_paragraphs(entry.get("summary") or "")
    body = _entry_body(entry, summary)
    title = _plain(entry.get("title") or "")
    if not title and not body:
        return None
    lead = (summary or body or [""])[0]
    return Article(
        title=title,
        authors=_entry_authors(entry),
        published=_entry_date(entry, clock),
        tags=unique(
            clean_line(t.get("label") or t.get("term") or "") for t in entry.get("tags", [])
        ),
        lead=lead,
        body=body,
        images=_entry_images(entry),
        reading_time=estimate_reading_time(body),
        url=entry.get("link") or None,
        language=_entry_language(entry) or language or detect_language(" ".join(body)),
        source=source,
        guid=_entry_guid(entry),
    )


def _entry_guid(entry: Any) -> str | None:
    """What identifies an entry to storage: its id, else its link."""
    return entry.get("id") or entry.get("link") or None


def _entry_body(entry: Any, summary: list[str]) -> list[str]:
    """The longer of the content and the summary; ``summary`` is the latter already read
    (most feeds carry only a summary, and reading HTML is half of parsing an entry)."""
    contents = entry.get("content") or []
    longest = max((c.get("value") or "" for c in contents), key=len, default="")
    if len(longest) >= len(entry.get("summary") or ""):
        return _plain_paragraphs(longest)
    return summary


def _plain_paragraphs(fragment: str) -> list[str]:
    return html_paragraphs(fragment)


def _plain(fragment: str) -> str:
    return " ".join(html_paragraphs(fragment)) if "<" in fragment else clean_line(fragment)


def _entry_authors(entry: Any) -> list[str]:
    names = [clean_line(a.get("name") or "") for a in entry.get("authors", []) if a.get("name")]
    if not names and entry.get("author"):
        names = [clean_line(entry["author"])]
    return unique(names)


def _entry_date(entry: Any, clock: Clock) -> datetime | None:
    """The printed date read with the source's zone; feedparser's UTC tuple as a fallback
    (it assumes UTC for zone-less dates, which a configured timezone should override)."""
    for key in ("published", "updated", "created"):
        raw = _own(entry, key)
        if isinstance(raw, str) and (parsed := parse_when(raw, clock)) is not None:
            return parsed
        if isinstance(raw, str) and impossible(raw):
            return None  # the entry stays, without a date
        stamp = _own(entry, f"{key}_parsed")
        if stamp is not None:
            year, month, day, hour, minute, second = stamp[:6]
            try:
                return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
            except (ValueError, OverflowError):
                return None  # an impossible date: the entry stays, without one
    return None


def _own(entry: Any, key: str) -> Any:
    """The entry's own value for ``key``: feedparser answers a missing ``updated`` with the
    ``published`` value (the one just found unreadable) and a DeprecationWarning, which under
    ``-W error`` cost the whole feed."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _entry_images(entry: Any) -> list[Image]:
    credit_values = entry.get("media_credit") or []
    credit = clean_line(credit_values[0].get("content") or "") if credit_values else ""
    caption = _plain(entry.get("media_description") or "")
    images = []
    for media in entry.get("media_content", []):
        if media.get("medium", "image") == "image" and media.get("url"):
            images.append(Image(caption=caption, credit=credit, url=media["url"]))
    return images


def _entry_language(entry: Any) -> str | None:
    for detail in [*(entry.get("content") or [{}])[:1], entry.get("summary_detail") or {}]:
        code = _language_code(detail.get("language"))
        if code:
            return code
    return None


def _address(value: Any) -> bool:
    """A JSON Feed item's url may be any JSON value in a broken feed; only text is one."""
    return isinstance(value, str) and bool(value.strip())


def _language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-")[0].lower()


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def parse_json_feed(document: dict[str, Any], clock: Clock, source: str | None) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (1.1 renamed ``author`` to ``authors`` and added ``language``)."""
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no 'items' array")
    language = _language_code(document.get("language"))
    feed_authors = _json_authors(document)
    articles = [
        _guarded(partial(_json_item, item, clock, source, language, feed_authors), item, source)
        for item in items
        if isinstance(item, dict)
    ]
    return ParsedFeed(
        articles=[a for a in articles if a is not None],
        title=clean_line(str(document.get("title") or "")),
    )


def _json_item(
    item: dict[str, Any],
    clock: Clock,
    source: str | None,
    language: str | None,
    feed_authors: list[str],
) -> Article | None:
    html = item.get("content_html")
    text = item.get("content_text")
    body = html_paragraphs(html) if isinstance(html, str) else _text_body(text)
    title = clean_line(str(item.get("title") or ""))
    if not title and not body:
        return None
    summary = clean_line(str(item.get("summary") or ""))
    published = item.get("date_published") or item.get("date_modified")
    image = item.get("image") or item.get("banner_image")
    return Article(
        title=title,
        authors=_json_authors(item) or feed_authors,
        published=parse_when(published, clock) if isinstance(published, str) else None,
        tags=unique(clean_line(t) for t in item.get("tags") or [] if isinstance(t, str)),
        lead=summary or (body[0] if body else ""),
        body=body,
        images=[Image(url=image)] if isinstance(image, str) else [],
        reading_time=estimate_reading_time(body),
        url=next((u for u in (item.get("url"), item.get("external_url")) if _address(u)), None),
        language=_language_code(item.get("language")) or language,
        source=source,
        guid=str(item["id"]) if item.get("id") is not None else None,
    )


def _text_body(text: Any) -> list[str]:
    if not isinstance(text, str):
        return []
    return [clean_line(p) for p in text.split("\n\n") if clean_line(p)]


def _json_authors(node: dict[str, Any]) -> list[str]:
    authors = node.get("authors")
    if not isinstance(authors, list):
        author = node.get("author")
        authors = [author] if isinstance(author, dict) else []
    names = [a.get("name") for a in authors if isinstance(a, dict)]
    return unique(clean_line(n) for n in names if isinstance(n, str))


def load_json_feed(data: bytes) -> dict[str, Any] | None:
    """The JSON Feed document in ``data``, or None when it is not one."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if is_json_feed(value) else None
