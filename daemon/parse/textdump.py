"""Text dumps (pages saved as plain text) into Articles.

Each line gets a kind from its own features (``lines.classify``), the page its run of prose
(``layout``) and its headline (``headline``); this module walks the page from there: what
precedes the title is header (banner, navigation, tags, section, date) and what follows is
byline, captions and body until the run ends, a "Related stories" cut or a reply button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from daemon.errors import ParseError
from daemon.parse import lines as ln
from daemon.parse.dates import find_when
from daemon.parse.dumppage import Page, Verdict, bare_byline, clock_for, dateline, read_page
from daemon.parse.fields import (
    detect_language,
    estimate_reading_time,
    opening_words,
    split_names,
    unique,
)
from daemon.parse.headline import TITLE_WINDOW, find_title, section_shaped, title_text
from daemon.parse.layout import LONG_DENSITY, short_sentence
from daemon.parse.lines import Features, Kind
from daemon.parse.stopwords import density
from storage.types import Article, Image

_BYLINE_WINDOW = 5  # non-blank lines under the title where a bare name line is a byline
_DERIVED_TITLE_WORDS = 20
_MORE_FOLLOWS = 2.0
_COMMENT_LINES = 12  # how far above a reply button its comment's signature may stand
_NAME_WORDS = 4
_HEADER_ABOVE = 10  # and just above the title
_SECTION_WINDOW = 3  # non-blank lines above the title where a bare section name stands
_CAPTION_WORDS = 30  # a line above a lone credit longer than this is prose, not a caption
_STANDFIRST_WORDS = 10  # an unfinished line under the headline this long may be its summary


@dataclass(slots=True)
class _Fields:
    """What the walk over the page collects before it becomes an Article."""

    authors: list[str] = field(default_factory=list)
    footer_authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    section: str | None = None
    section_at: int | None = None
    tags: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    body_at: list[int] = field(default_factory=list)  # the line each paragraph came from
    images: list[Image] = field(default_factory=list)
    reading_time: int | None = None


def parse_text(
    text: str,
    *,
    zone: tzinfo = UTC,
    captured: datetime | date | None = None,
    source: str | None = None,
) -> Article:
    return read_text(text, zone=zone, captured=captured, source=source)[0]


def explain_text(
    text: str, *, zone: tzinfo = UTC, captured: datetime | date | None = None
) -> tuple[list[Verdict], ParseError | None]:
    """Every line with what the reader took it for; the refusal, if the text was refused."""
    page = read_page(text, zone, captured, refuse=False)
    try:
        _walk(page, captured, zone)
    except ParseError as exc:
        page.labels.clear()  # a refused page kept nothing: no line was read as anything
        return page.verdicts("unread"), exc
    return page.verdicts(), None


def read_text(
    text: str,
    *,
    zone: tzinfo = UTC,
    captured: datetime | date | None = None,
    source: str | None = None,
) -> tuple[Article, list[Verdict]]:
    page = read_page(text, zone, captured)
    title, captured, fields = _walk(page, captured, zone)
    article = Article(
        title=title,
        authors=fields.authors or fields.footer_authors,
        published=fields.published,
        captured=captured,
        section=fields.section,
        tags=unique(fields.tags),
        lead=fields.body[0],
        body=fields.body,
        images=fields.images,
        reading_time=fields.reading_time or estimate_reading_time(fields.body),
        language=detect_language(" ".join(fields.body)),
        source=source,
    )
    return article, page.verdicts()


def _walk(
    page: Page, captured: datetime | date | None, zone: tzinfo
) -> tuple[str, datetime | date | None, _Fields]:
    captured = _prefer_page(_captured(page), captured, zone)
    page.clock = clock_for(zone, captured)
    page.moments.clear()
    title_at = find_title(page)
    if title_at is None and page.block is None:
        raise ParseError("text has no line that reads as a title")
    if title_at is not None:
        fields = _read(page, title_at, title_at + 1)
        if fields.body or page.block is None:
            return title_text(page, title_at), captured, _with_body(fields)
        page.labels.clear()  # the "title" was the article's one paragraph: read it as body
    # No line reads as a title, but the page holds an article: keep it, named by its
    # opening words, rather than refuse it and miss what it reports.
    assert page.block is not None
    first = page.block.first
    fields = _with_body(_read(page, first, first))
    return opening_words(page.lines[first], _DERIVED_TITLE_WORDS), captured, fields


def _read(page: Page, head_end: int, body_start: int) -> _Fields:
    fields = _Fields()
    above = [i for i in range(head_end) if page.kinds[i] is not Kind.BLANK]
    near = set(above[-_SECTION_WINDOW:])
    # Header fields stand at the top of the page or just above the title; a long menu in
    # between is not read for tags, bylines or dates.
    zone = set(above[:TITLE_WINDOW]) | set(above[-_HEADER_ABOVE:])
    for i in above:
        if i in zone:
            _take_header(page, i, fields, near=i in near and fields.section is None)
        else:
            page.label(i, "furniture", "above the headline (menu, masthead, banner)")
    if fields.section is None and fields.section_at is not None:
        fields.section = page.lines[fields.section_at]
        page.label(fields.section_at, "section", "a short name just above the headline")
    _keep_prose_above(page, head_end, fields)
    _take_rest(page, body_start, fields)
    return fields


def _keep_prose_above(page: Page, head_end: int, fields: _Fields) -> None:
    """Paragraphs of the article's run that stand above the headline (an intro, a teaser)
    stay in the body: dropping them could drop what a rule is looking for."""
    if page.block is None:
        return
    for i in range(page.block.first, head_end):
        if page.prose[i]:
            page.label(i, "body", "paragraph of the article's run above the headline")
            fields.body.append(page.lines[i])
            fields.body_at.append(i)


def _with_body(fields: _Fields) -> _Fields:
    if not fields.body:
        raise ParseError("text has a title but no article body")
    return fields


def _prefer_page(
    printed: datetime | date | None, given: datetime | date | None, zone: tzinfo
) -> datetime | date | None:
    """The capture time printed in the page wins over one from outside (a file's mtime is when
    it was copied, not when the page was saved), unless the outside one is the same day, only
    more precise."""
    if printed is None:
        return given
    if isinstance(printed, datetime) or not isinstance(given, datetime):
        return printed
    return given if given.astimezone(zone).date() == printed else printed


def _captured(page: Page) -> datetime | date | None:
    """The capture header's date; a bare date stays a date (the day, not midnight)."""
    for i in page.nonblank()[:3]:
        if page.kinds[i] is Kind.CAPTURE:
            line = page.lines[i]
            start = ln.capture_prefix(line)
            found = find_when(line[start : start + 40], page.clock)
            if found is None:
                return None
            stamp = line[start : start + found.end]
            return found.when if ":" in stamp else date.fromisoformat(stamp[:10])
    return None


def _sentence(f: Features) -> bool:
    """Inside the body, "By Thursday evening, 40 crews…" is prose, not a byline."""
    return f.ends_sentence and f.words > 6


def _take_header(page: Page, i: int, fields: _Fields, *, near: bool) -> None:
    """One line above the title; ``near`` says it stands among the last few above it, where
    a section name is printed (a masthead or menu entry higher up is not the section)."""
    kind, f = page.kinds[i], page.feats[i]
    if kind is Kind.TAGS:
        page.label(i, "tags", page.reasons[i])
        _take_tags(f, fields)
    elif kind is Kind.BREADCRUMB and fields.section is None:
        crumbs = [c for c in f.list_items if c.casefold() not in {"home", "головна", "главная"}]
        fields.section = crumbs[-1] if crumbs else None
        page.label(i, "section", "breadcrumb above the headline")
    elif dateline(page, i) or kind is Kind.BYLINE:
        page.label(i, _byline_label(page, i), "byline or date above the headline")
        _take_byline(page, i, fields)
    elif kind is Kind.TEXT and section_shaped(f) and near:
        fields.section_at = i  # the one closest to the title wins
        page.label(i, "furniture", "above the headline (menu, masthead, banner)")
    elif kind is Kind.CAPTURE:
        page.label(i, "captured", "capture header")
    elif kind is Kind.TEXT:
        page.label(i, "furniture", "above the headline (menu, masthead, banner)")


def _byline_label(page: Page, i: int) -> str:
    return "byline" if ln.byline_start(page.lines[i]) is not None else "date"


def _take_tags(f: Features, fields: _Fields) -> None:
    label = ln.tags_label_end(f.text)
    if label:
        items = [t.strip(" .#") for t in f.text[label:].split(",")]
        fields.tags.extend(t for t in items if t)
        return
    items = list(f.list_items)
    if fields.section is None and len(items) > 1:
        fields.section = items.pop(0)
    fields.tags.extend(items)


def _take_rest(page: Page, start: int, fields: _Fields) -> None:
    """Byline, captions and body under the title, to the end of the article's run.

    Short lines above the first paragraph are page furniture ("Listen", "1 min", a section
    name); a cut ("Comments", "Related") ends the body only once a paragraph was read, so a
    "Comment" button under the headline cannot empty the article, and not where most of the
    article still follows (a box inside it); a reply button ends it and takes its comment out.
    """
    near = set([i for i in range(start, len(page.lines)) if page.lines[i]][:_BYLINE_WINDOW])
    last = page.block.last if page.block is not None else len(page.lines) - 1
    read = boxed = False
    for i in range(start, len(page.lines)):
        kind = page.kinds[i]
        if i in near and not fields.authors and bare_byline(page, i):
            fields.authors = split_names(page.lines[i])
            page.label(i, "byline", "names alone beside a date line")
            continue
        if kind is Kind.REPLY and read:
            _drop_comment(page, i, fields)
            _label_after(page, i)
            return
        if kind is Kind.CUT and read and not _more_follows(page, i):
            _label_after(page, i)
            return
        if kind is Kind.CUT and read:
            boxed = True  # a "Related" box or a comments button inside the article
            page.label(i, "furniture", f"{page.reasons[i]}, but most of the article follows")
            continue
        if boxed and kind is Kind.TEXT and not page.prose[i]:
            page.label(i, "furniture", "inside a box the article runs around")
            continue
        boxed = boxed and not page.prose[i]
        if kind is Kind.TEXT and not fields.body and dateline(page, i):
            kind = Kind.DATELINE
        elif kind is Kind.BYLINE and fields.body and _sentence(page.feats[i]):
            kind = Kind.TEXT
        if kind is Kind.TEXT and i > last:
            page.label(i, "furniture", "after the article's last paragraph")
            continue
        if kind is Kind.TEXT and not (
            read or page.prose[i] or short_sentence(page.feats[i]) or _standfirst(page, i)
        ):
            page.label(i, "furniture", "short line above the first paragraph")
            continue
        read = read or page.prose[i]
        _take_line(page, i, kind, fields)


def _standfirst(page: Page, i: int) -> bool:
    """A long line of running words under the headline, unfinished (a teaser cut short, a
    standfirst without its full stop): the summary of the article, not a page button."""
    f = page.feats[i]
    if f.words < _STANDFIRST_WORDS:
        return False
    share = density(f.text, page.language)
    return share is not None and share >= LONG_DENSITY


def _more_follows(page: Page, cut: int) -> bool:
    """A cut inside the article's run with twice the prose read so far still to come is a
    box or a button, not the article's end."""
    if page.block is None or cut >= page.block.last:
        return False
    words = page.prose_words
    before = words[cut] - words[page.block.first]
    after = words[page.block.last + 1] - words[cut + 1]
    return after > _MORE_FOLLOWS * before


def _drop_comment(page: Page, reply: int, fields: _Fields) -> None:
    """A "Reply" button closes a reader's comment that was read as body: its text goes back
    to its signature (the date line above it, and the name above that)."""
    floor = max(fields.body_at[0] + 1, reply - _COMMENT_LINES) if fields.body_at else reply
    signed = next((j for j in range(reply - 1, floor - 1, -1) if dateline(page, j)), None)
    if signed is None:
        return
    start = signed - 1 if signed > 0 and page.feats[signed - 1].words <= _NAME_WORDS else signed
    while fields.body_at and fields.body_at[-1] >= start:
        page.label(fields.body_at.pop(), "comment", "a reader's comment above a reply button")
        fields.body.pop()


def _label_after(page: Page, cut: int) -> None:
    page.label(cut, "cut", f"{page.reasons[cut]}: the article ends here")
    for i in range(cut + 1, len(page.lines)):
        page.label(i, "after-cut", f"below the cut at line {page.origins[cut] + 1}")


def _take_line(page: Page, i: int, kind: Kind, fields: _Fields) -> None:
    text = page.lines[i]
    if kind is Kind.TEXT:
        first = not fields.body
        page.label(i, "lead" if first else "body", "paragraph" if first else _body_reason(page, i))
        fields.body.append(text)
        fields.body_at.append(i)
    elif kind in (Kind.BYLINE, Kind.DATELINE):
        page.label(i, _byline_label(page, i), page.reasons[i])
        _take_byline(page, i, fields)
    elif kind is Kind.CAPTION:
        page.label(i, "caption", page.reasons[i])
        _take_caption(page, i, fields)
    elif kind is Kind.AUTHOR_FOOTER:
        page.label(i, "byline", "author line under the article")
        fields.footer_authors.extend(split_names(text[ln.author_label_end(text) :]))
    elif kind is Kind.TAGS:
        page.label(i, "tags", page.reasons[i])
        _take_tags(page.feats[i], fields)


def _body_reason(page: Page, i: int) -> str:
    if page.prose[i]:
        return "paragraph"
    return "short line inside the article (subheading or one-line paragraph)"


def _take_caption(page: Page, i: int, fields: _Fields) -> None:
    """A credit line alone ("Photograph: …") credits the short line right above it."""
    split = ln.credit_split(page.lines[i])
    if split is None:
        return
    caption, credit = split
    above = page.lines[i - 1] if i > 0 else ""
    short = i > 0 and page.feats[i - 1].words <= _CAPTION_WORDS
    if not caption and above and short and fields.body and fields.body[-1] == above:
        caption = fields.body.pop()
        fields.body_at.pop()
        page.label(i - 1, "caption", "the line a photo credit below it belongs to")
    fields.images.append(Image(caption=caption, credit=credit))


def _take_byline(page: Page, i: int, fields: _Fields) -> None:
    text = page.lines[i]
    found = page.when(i) if page.feats[i].has_digit else None
    if found is not None and fields.published is None:
        fields.published = found.when
    if fields.reading_time is None:
        fields.reading_time = ln.read_time(text)
    start = ln.byline_start(text)
    if start is None or fields.authors:
        return
    end = _names_end(text, start, found.start if found else None)
    fields.authors = split_names(text[start:end])


def _names_end(text: str, start: int, date_start: int | None) -> int:
    """Names stop at the date, the reading time, or the first separator after "by"."""
    end = len(text)
    if date_start is not None and date_start > start:
        end = date_start
    for stop in (" | ", "|", " · ", " • ", " — ", " – ", " - ", ";", "(", "\u2022"):
        at = text.find(stop, start)
        if start <= at < end:
            end = at
    for j in range(start, end):
        if text[j].isdigit():
            return j
    return end
