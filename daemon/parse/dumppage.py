"""A text dump as the reader sees it: its lines with their features and kinds, which read as
prose and where the article's run stands, and what each line was finally taken for
(``newswatch parse --explain``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from daemon.errors import ParseError
from daemon.parse import lines as ln
from daemon.parse.dates import Clock, Found, find_when
from daemon.parse.fields import clean_line
from daemon.parse.layout import Block, assess, lead_words
from daemon.parse.lines import Features, Kind

_MAX_WRAP = 260  # longer lines mean the dump was not hard-wrapped
_TERMINAL_WIDTH = 100
_WRAP_SLACK = 12
_MIN_JOINS = 4
_LOCAL_WIDTH = (45, _TERMINAL_WIDTH)  # where one part of a page may be wrapped on its own
_LOCAL_LINES = 3
_BROKEN_WORDS = 8  # fewer words before a break may be a menu entry or a kicker


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one line of a dump was taken for, and the main reason: ``parse --explain``."""

    line: int  # 1-based, in the file as given
    text: str
    label: str
    reason: str


@dataclass(slots=True)
class Page:
    lines: list[str]
    feats: list[Features]
    kinds: list[Kind]
    clock: Clock
    block: Block | None = None
    prose: list[bool] = field(default_factory=list)
    prose_words: list[int] = field(default_factory=list)  # prose words before each line
    language: int | None = None
    lead: frozenset[str] = frozenset()
    reasons: list[str] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    labels: dict[int, tuple[str, str]] = field(default_factory=dict)
    moments: dict[int, Found | None] = field(default_factory=dict)

    def label(self, i: int, label: str, reason: str) -> None:
        self.labels[i] = (label, reason)

    def verdicts(self, unlabelled: str = "furniture") -> list[Verdict]:
        """Every non-blank line; one the walk gave no label (or never reached, when the page
        was refused) is shown as ``unlabelled`` with what its own features said."""
        out = []
        for i, text in enumerate(self.lines):
            if self.kinds[i] is Kind.BLANK:
                continue
            label, reason = self.labels.get(i, (unlabelled, self.reasons[i]))
            out.append(Verdict(self.origins[i] + 1, text, label, reason))
        return out

    def when(self, i: int) -> Found | None:
        """The moment printed in line ``i``, looked for once per line."""
        if i not in self.moments:
            self.moments[i] = find_when(self.lines[i], self.clock)
        return self.moments[i]

    def nonblank(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k is not Kind.BLANK]


def read_page(
    text: str, zone: tzinfo, captured: datetime | date | None, *, refuse: bool = True
) -> Page:
    raw = [clean_line(line) for line in text.splitlines()]
    raw_feats = [ln.features(line) for line in raw]
    raw_explained = [ln.explain(f) for f in raw_feats]
    lines, origins = _unwrap(raw, [kind is Kind.TEXT for kind, _ in raw_explained])
    if len(lines) == len(raw):
        feats, explained = raw_feats, raw_explained
    else:  # only joined lines are read again
        ends = [*origins[1:], len(raw)]
        feats = [
            raw_feats[o] if e - o == 1 else ln.features(line)
            for line, o, e in zip(lines, origins, ends, strict=True)
        ]
        explained = [
            raw_explained[o] if e - o == 1 else ln.explain(f)
            for f, o, e in zip(feats, origins, ends, strict=True)
        ]
    kinds = [kind for kind, _ in explained]
    if refuse and not any(k is Kind.TEXT for k in kinds):
        raise ParseError("text holds no prose: no line reads as a title or a paragraph")
    layout = assess(feats, kinds)
    return Page(
        lines,
        feats,
        kinds,
        clock_for(zone, captured),
        block=layout.block,
        prose=layout.prose,
        prose_words=layout.prose_words(feats),
        language=layout.language,
        lead=lead_words(feats, layout),
        reasons=[reason for _, reason in explained],
        origins=origins,
    )


def _unwrap(lines: list[str], texty: list[bool]) -> tuple[list[str], list[int]]:
    """Re-join paragraphs that a dump hard-wrapped at a fixed width (mail, terminals): the
    whole page when it was wrapped as a whole, else the stretches of it that were."""
    joins = _page_joins(lines, texty) or _local_joins(lines, texty)
    if not joins:
        return lines, list(range(len(lines)))
    out: list[str] = []
    origins: list[int] = []
    for i, line in enumerate(lines):
        if out and i in joins:
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
            origins.append(i)
    return out, origins


def _page_joins(lines: list[str], texty: list[bool]) -> set[int]:
    """Joins of a page wrapped as a whole. The wrap width shows as many lines that end close
    to the same length and go on in the next line; the third-longest line is taken as the
    width so one or two long captions do not hide it. Only prose joins prose: a byline or
    caption under a long line stays apart."""
    lengths = sorted((len(line) for line in lines if line), reverse=True)
    if len(lengths) < 8 or lengths[2] > _MAX_WRAP:
        return set()
    width = lengths[2] - max(_WRAP_SLACK, lengths[2] // 8)
    # Beyond terminal widths long paragraphs are common, so a line there must also stop
    # mid-sentence to count as wrapped (text browsers dump at 200 columns and more).
    wide = lengths[2] > _TERMINAL_WIDTH
    joins = {
        i
        for i in range(1, len(lines))
        if lines[i]
        and len(lines[i - 1]) >= width
        and not (wide and lines[i - 1][-1] in '.!?:;»”"')
        and texty[i]
    }
    return (
        joins
        if len(joins) >= (_MIN_JOINS if wide else max(_MIN_JOINS, len(lengths) // 5))
        else set()
    )


def _local_joins(lines: list[str], texty: list[bool]) -> set[int]:
    """Where one stretch of a page was wrapped and the rest was not (an article kept in a
    ``<pre>``, a quoted mail): lines ending near one width (:func:`_wrapped_run`), or a
    sentence broken after a comma (:func:`_broken_sentences`), within stretches of text lines
    with no blank between. A line longer than any terminal is no part of such a stretch."""
    joins: set[int] = set()
    start = 0
    high = _LOCAL_WIDTH[1]
    while start < len(lines):
        end = start
        while end < len(lines) and lines[end] and texty[end] and len(lines[end]) <= high:
            end += 1
        joins |= _wrapped_run(lines, start, end) | _broken_sentences(lines, start, end)
        start = end + 1
    return joins


def _broken_sentences(lines: list[str], start: int, end: int) -> set[int]:
    """A long line that stops at a comma, and a line under it that goes on in lower case:
    one sentence broken in two, even where only two lines show it (a short
    report pasted from a mail). A menu entry or a headline does neither."""
    return {
        i
        for i in range(start + 1, end)
        if lines[i][0].islower()
        and lines[i - 1][-1] == ","
        and len(lines[i - 1].split()) >= _BROKEN_WORDS
    }


def _wrapped_run(lines: list[str], start: int, end: int) -> set[int]:
    """Joins within ``lines[start:end]``, a stretch of text lines with no blank between: a
    line near the stretch's width, too long to have taken the next line's first word, goes
    on in the next; a shorter one ends its paragraph."""
    if end - start < _LOCAL_LINES:
        return set()
    width = max(len(line) for line in lines[start : end - 1])
    low, high = _LOCAL_WIDTH
    if not low <= width <= high:
        return set()
    # A wrap shows where the next line's first word would not have fitted on the line above.
    joins = {
        i
        for i in range(start + 1, end)
        if len(lines[i - 1]) >= width - _WRAP_SLACK
        and len(lines[i - 1]) + 1 + len(lines[i].split()[0]) > width
    }
    goes_on = sum(lines[i][0].islower() for i in joins)
    # Most lines of a wrapped stretch stand at its width; a menu has a few long entries.
    wrapped = len(joins) * 2 >= end - start - 1 and goes_on * 2 >= len(joins)
    return joins if len(joins) >= _LOCAL_LINES - 1 and wrapped else set()


def clock_for(zone: tzinfo, captured: datetime | date | None) -> Clock:
    if isinstance(captured, datetime):
        return Clock(zone, now=captured)
    return Clock(zone, day=captured)


def dateline(page: Page, i: int) -> bool:
    """A short line that is mostly a date ("12.03.2025 09:15", "Published: …")."""
    if page.kinds[i] is Kind.DATELINE:
        return True
    f = page.feats[i]
    if page.kinds[i] is not Kind.TEXT or not f.has_digit or f.words > 10:
        return False
    found = page.when(i)
    if found is None:
        return False
    rest = f.text[: found.start] + f.text[found.end :]
    if len(ln.features(rest).text.split()) > 4:
        return False
    page.kinds[i] = Kind.DATELINE
    page.reasons[i] = "a date with few other words"
    return True


def bare_byline(page: Page, i: int) -> bool:
    """Names alone on a line, with a date line just above or below them."""
    if page.kinds[i] is not Kind.TEXT or not ln.names_only(page.feats[i]):
        return False
    around = [j for j in (i - 1, i + 1) if 0 <= j < len(page.lines) and page.lines[j]]
    return any(dateline(page, j) for j in around)
