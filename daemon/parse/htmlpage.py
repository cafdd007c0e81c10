"""Saved HTML pages into Articles: publisher metadata first, trafilatura for the main text."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any

import htmldate
import trafilatura

from daemon.errors import ParseError
from daemon.parse import lines as ln
from daemon.parse.dates import Clock, parse_when
from daemon.parse.fields import (
    clean_line,
    detect_language,
    estimate_reading_time,
    opening_words,
    split_names,
    unique,
)
from daemon.parse.htmlmeta import PageMeta, ld_images, ld_names, ld_strings, read_meta
from storage.types import Article, Image

log = logging.getLogger("newswatch.parse")

_LABEL_WORDS = 4
_HEADING_WORDS = 20
_SITE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " » ", " · ", " / ")
_DROPPED = frozenset({ln.Kind.BOILER, ln.Kind.CUT, ln.Kind.REPLY, ln.Kind.FOOTER, ln.Kind.BLANK})


def parse_html(html: str, clock: Clock, *, source: str | None = None) -> Article:
    page = read_meta(html)
    extracted = _extract(html)
    ld = page.ld_article or {}
    title = _title(page, ld, extracted)
    body, byline_authors = _body(extracted, title or "")
    if not body:
        body = _ld_body(ld)
    if not body:
        raise ParseError("HTML page holds no article: no main text was found")
    if title is None:
        title, body = _title_from_body(body)
    authors = _authors(page, ld, extracted) or byline_authors
    return Article(
        title=title,
        authors=authors,
        published=_published(html, page, ld, extracted, clock),
        section=_section(page, ld),
        tags=unique(ld_strings(ld.get("keywords")) + page.every("article:tag")),
        lead=body[0],
        body=body,
        images=_images(page, ld),
        reading_time=estimate_reading_time(body),
        url=_url(page, ld, extracted),
        language=_language(page, ld, extracted, body),
        source=source,
    )


def _extract(html: str) -> dict[str, Any]:
    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,  # a table in a news page holds its figures: results, casualties
        # Balanced, not precision-first: a dropped paragraph can be a missed alert, and our
        # own line filter below takes out the furniture that balanced mode lets through.
        favor_precision=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None:
        return {}
    return dict(document.as_dict()) if hasattr(document, "as_dict") else dict(document)


def _title(page: PageMeta, ld: dict[str, Any], extracted: dict[str, Any]) -> str | None:
    for value in (
        ld.get("headline"),
        page.first("og:title", "twitter:title"),
        extracted.get("title"),
        page.heading,
        page.title_tag,
    ):
        if isinstance(value, str) and value.strip():
            return _without_site(clean_line(html.unescape(value)), page)
    return None


def _without_site(title: str, page: PageMeta) -> str:
    """The headline without the site's name that titles and og:title carry ("… | DW",
    "Site - …"): the page's own <h1> where it is the title less such a part, else the title
    less the declared site name."""
    heading = clean_line(html.unescape(page.heading or ""))
    site = clean_line(html.unescape(page.first("og:site_name") or ""))
    for sep in _SITE_SEPARATORS:
        shorter = bool(heading) and len(heading) < len(title)
        if shorter and (title.startswith(heading + sep) or title.endswith(sep + heading)):
            return heading
        if site and title.endswith(sep + site):
            return title[: -len(sep + site)].strip()
        if site and title.startswith(site + sep):
            return title[len(site + sep) :].strip()
    return title


def _title_from_body(body: list[str]) -> tuple[str, list[str]]:
    """A page with no headline markup at all: its first heading-like line is the title (and
    leaves the body), else the opening words of its first paragraph stand for one."""
    first = ln.features(body[0])
    if len(body) > 1 and not first.ends_sentence and first.words <= _HEADING_WORDS:
        return body[0], body[1:]
    return opening_words(body[0], _HEADING_WORDS), body


def _body(extracted: dict[str, Any], title: str) -> tuple[list[str], list[str]]:
    """Paragraphs of the main text; a byline trafilatura kept inside it yields authors.

    trafilatura has already cut the page around the article, so a "Related" heading left in
    its text is dropped, not taken as the end: what follows it there is mostly the article.
    A reader's comment (a reply button) still ends it."""
    body: list[str] = []
    authors: list[str] = []
    for raw in str(extracted.get("text") or "").splitlines():
        paragraph = clean_line(raw)
        if not paragraph or paragraph == title:
            continue
        features = ln.features(paragraph)
        kind = ln.classify(features)
        if kind is ln.Kind.BYLINE and not body:
            start = ln.byline_start(paragraph)
            authors = split_names(paragraph[start:]) if start is not None else authors
        elif not body and features.words <= _LABEL_WORDS and not features.ends_sentence:
            continue  # a label left over from the header ("Posted on", "Updated")
        elif kind is ln.Kind.REPLY and body:
            break
        elif kind not in _DROPPED and kind is not ln.Kind.CAPTION:
            body.append(paragraph)
    return body, authors


def _ld_body(ld: dict[str, Any]) -> list[str]:
    text = ld.get("articleBody")
    if not isinstance(text, str):
        return []
    return [clean_line(p) for p in text.splitlines() if clean_line(p)]


def _authors(page: PageMeta, ld: dict[str, Any], extracted: dict[str, Any]) -> list[str]:
    names = ld_names(ld.get("author"))
    if not names:
        names = [n for n in page.every("article:author") if not n.startswith("http")]
    if not names and page.first("author"):
        names = split_names(page.first("author") or "")
    if not names and extracted.get("author"):
        names = split_names(str(extracted["author"]).replace(";", ","))
    return unique(clean_line(n) for n in names)


def _published(
    html: str, page: PageMeta, ld: dict[str, Any], extracted: dict[str, Any], clock: Clock
) -> datetime | None:
    candidates = (
        ld.get("datePublished"),
        page.first("article:published_time", "og:published_time", "datepublished", "date"),
        ld.get("dateCreated"),
        page.first("article:modified_time"),
        ld.get("dateModified"),
    )
    for value in candidates:
        if isinstance(value, str) and (parsed := parse_when(value, clock)) is not None:
            return parsed
    found = extracted.get("date") or htmldate.find_date(
        html, extensive_search=False, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S"
    )
    return parse_when(found, clock) if isinstance(found, str) else None


def _section(page: PageMeta, ld: dict[str, Any]) -> str | None:
    sections = ld_strings(ld.get("articleSection"))
    return sections[0] if sections else page.first("article:section")


def _images(page: PageMeta, ld: dict[str, Any]) -> list[Image]:
    images = [Image(caption=c, credit=r, url=u) for c, r, u in ld_images(ld.get("image"))]
    known = {i.caption for i in images}
    for text in page.figcaptions:
        split = ln.credit_split(text)
        caption, credit = split if split is not None else (text, "")
        if caption not in known:
            images.append(Image(caption=caption, credit=credit))
            known.add(caption)
    return images


def _url(page: PageMeta, ld: dict[str, Any], extracted: dict[str, Any]) -> str | None:
    entity = ld.get("mainEntityOfPage")
    entity_url = entity.get("@id") if isinstance(entity, dict) else entity
    for value in (
        page.first("og:url"),
        page.canonical,
        ld.get("url"),
        entity_url,
        extracted.get("url"),
    ):
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


def _language(
    page: PageMeta, ld: dict[str, Any], extracted: dict[str, Any], body: list[str]
) -> str | None:
    for value in (
        ld.get("inLanguage"),
        page.lang,
        page.first("og:locale"),
        extracted.get("language"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip().replace("_", "-").split("-")[0].lower()
    return detect_language(" ".join(body))
