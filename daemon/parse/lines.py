"""What each line of a text dump is, judged from features of the line itself.

Sites dump pages in endless variations, so nothing here knows a site: a line is described by
its length, punctuation, capitalisation, list separators, leading markers ("by", "Read
also:", "Tags:"), a trailing photo credit, a printed date. ``classify`` turns those features
into a ``Kind``; position (before or after the title) is applied by the caller, which sees
the whole page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from daemon.parse.furniture import Effect, furniture


class Kind(StrEnum):
    BLANK = "blank"
    CAPTURE = "capture"
    NAV = "nav"
    BREADCRUMB = "breadcrumb"
    TAGS = "tags"
    BYLINE = "byline"
    DATELINE = "dateline"
    CAPTION = "caption"
    BOILER = "boiler"
    CUT = "cut"
    REPLY = "reply"  # a comment's "Reply" button: a comment thread is under way
    FOOTER = "footer"
    AUTHOR_FOOTER = "author_footer"
    TEXT = "text"


_CAPTURE = re.compile(
    r"^\s*(?:date|saved(?: on)?|captured(?: at| on)?|retrieved(?: on)?|fetched|scraped)\s*:?\s+"
    r"(?=\d{4}-\d{2}-\d{2})",
    re.I,
)
_BY = re.compile(
    r"(?:^|\s|\|)(?i:(?:by|von|par|por|від):?|автор(?:ка)?:?|author:|written by|words by|"
    r"reporting by|posted by)\s+(?=[A-ZА-ЯІЇЄҐ])"
)
_AUTHOR_LABEL = re.compile(
    r"^(?:author|authors|автор|авторка|автори|авторы|autor|autorin|auteur|written by)s?\s*:\s*",
    re.I,
)
_TAGS_LABEL = re.compile(
    r"^(?:tags?|topics?|теги|тэги|теми|темы|schlagworte|themen|mots-clés|etiquetas)\s*:\s*", re.I
)
_BOILER = re.compile(
    r"^(?:read (?:also|more|next)|see also|also read|related:|subscribe|sign up|follow us|"
    r"share (?:this|on)|share:?$|advertisement|sponsored|support (?:our|independent)|"
    r"become a (?:member|subscriber)|join us|click here|listen to|watch:|"
    r"читайте (?:також|также|більше)|дивіться також|смотрите также|підписуйтес|подписывайтес|"
    r"поділитися|поделиться|реклама|lesen sie (?:auch|mehr)|anzeige|teilen|abonnieren|"
    r"lire aussi|à lire aussi|abonnez|lee también|suscríbete|skip to|for immediate release|"
    r"press release$|embargoed|reuse this content|para comentar|comment on this)",
    re.I,
)
_CUT = re.compile(
    r"^(?:related (?:stories|articles|news|coverage)|more (?:from|on|stories)(?: [\w'’]+){0,3}|"
    r"most read|"
    r"top stories|recommended|you may also like|comments?(?: \(\d+\))?|"
    r"популярне|головне|інші новини|другие новости|самое читаемое|mehr zum thema|"
    r"das könnte sie auch interessieren|à lire également|más noticias|comentarios|"
    r"explore more on these topics|#{3,}|-{3,}|\*{3,})\s*:?$",
    re.I,
)
_FOOTER = re.compile(
    r"(?:©|\(c\)\s*\d{4}|all rights reserved|всі права захищені|все права защищены|"
    r"^media contact|^press contact|^for more information,? contact)",
    re.I,
)
_SHARE_WORDS = frozenset(
    [
        "share",
        "facebook",
        "twitter",
        "x",
        "telegram",
        "whatsapp",
        "viber",
        "linkedin",
        "email",
        "e-mail",
        "copy",
        "link",
        "print",
        "reddit",
        "messenger",
        "pinterest",
        "mail",
        "tweet",
        "поділитися",
        "поделиться",
        "teilen",
    ]
)
_CREDIT_TAIL = re.compile(r"^(?P<caption>.*?)\s*[\(\[](?P<credit>[^()\[\]]{3,120})[\)\]]\s*$")
# A label holds one of these words. They are looked for first, as plain lowercase text:
# trying the whole pattern at every place in a paragraph that has none costs 40 µs, and
# every paragraph of every feed entry is asked whether it is a photo credit.
_CREDIT_WORDS = (
    "photo",
    "photograph",
    "image",
    "picture",
    "foto",
    "фото",
    "світлина",
    "bild",
    "crédit photo",
)
_CREDIT_LABEL = re.compile(
    rf"^(?P<caption>.*?)\s*(?:[|—–-]\s*)?\b(?:{'|'.join(map(re.escape, _CREDIT_WORDS))})s?"
    r"\s*(?:by|:)\s*(?P<credit>[^.]{3,100}?)\.?\s*$",
    re.I,
)
_AGENCY = re.compile(
    r"(?:/|\bvia\b|getty|afp|reuters|\bap\b|\bepa\b|dpa|photo|foto|фото|images|pool|"
    r"press service|пресс-служба|пресслужба|прес-служба|shutterstock|ukrinform|укрінформ)",
    re.I,
)
_READ_TIME = re.compile(
    r"(?P<n>\d{1,3})\s*(?:-|\s)?(?:min(?:ute)?s?\.?\s+read|хв(?:илин[и]?)?\.?\s+читання|"
    r"мин(?:ут[ы]?)?\.?\s+(?:чтения|читать)|min\.?\s+lesezeit|min de lecture)"
    r"|(?:reading time|lesezeit|час читання|время чтения)\s*:?\s*(?P<n2>\d{1,3})",
    re.I,
)
_LIST_SEPS = (" | ", " • ", " · ", " › ", " > ", " » ", " / ", ", ")
_BREADCRUMB_SEPS = frozenset({" › ", " > ", " » ", " / "})
_END_PUNCT = frozenset('.!?…"”»:;。！？」』')
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Chinese and Japanese write no spaces: such a run is counted as one word per two characters,
# about what a translation into spaced words takes, so that their paragraphs read as prose.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_CHARS_PER_WORD = 2


@dataclass(frozen=True, slots=True)
class Features:
    """The measurable traits of one line; cheap enough for every line of every dump."""

    text: str
    words: int
    ends_sentence: bool
    caps_ratio: float
    list_sep: str
    list_items: tuple[str, ...]
    has_digit: bool

    @property
    def short_items(self) -> bool:
        return bool(self.list_items) and all(len(i.split()) <= 4 for i in self.list_items)


def features(text: str) -> Features:
    cjk = sum(len(run) for run in _CJK.findall(text))
    words = _WORD.findall(_CJK.sub(" ", text) if cjk else text)
    capitalised = sum(1 for w in words if w[0].isupper())
    sep, items = _list_items(text)
    count = len(words) + math.ceil(cjk / _CJK_CHARS_PER_WORD)
    return Features(
        text=text,
        words=count,
        ends_sentence=text[-1] in _END_PUNCT if text else False,
        caps_ratio=capitalised / count if count else 0.0,
        list_sep=sep,
        list_items=items,
        has_digit=_DIGIT.search(text) is not None,
    )


def classify(f: Features) -> Kind:
    """The kind a line has on its own; markers first, then shape."""
    return explain(f)[0]


def explain(f: Features) -> tuple[Kind, str]:
    """The kind a line has on its own and the reason, in words a user can check."""
    if not f.text:
        return Kind.BLANK, "blank"
    marked = _by_marker(f)
    if marked is not None:
        return marked, _MARKER_REASONS[marked]
    if _is_share_row(f):
        return Kind.BOILER, "share buttons"
    if credit_split(f.text) is not None:
        return Kind.CAPTION, "photo credit"
    if _is_list_line(f):
        kind = _list_kind(f)
        return kind, f"list of short items ({kind.value})"
    if _is_byline(f):
        return Kind.BYLINE, "byline marker or reading time"
    found = furniture(f.text, f.words)
    if found is not None:
        return _FURNITURE_KINDS[found.effect], f"page furniture: {found.family}"
    return Kind.TEXT, "text"


_MARKER_REASONS = {
    Kind.CAPTURE: "capture header",
    Kind.TAGS: "tags label",
    Kind.AUTHOR_FOOTER: "author label",
    Kind.CUT: "end marker (related stories, comments)",
    Kind.BOILER: "page furniture: read-more, subscribe or share marker",
    Kind.FOOTER: "page footer (copyright, contacts)",
}
_FURNITURE_KINDS = {
    Effect.DROP: Kind.BOILER,
    Effect.END: Kind.CUT,
    Effect.TIME: Kind.DATELINE,
    Effect.REPLY: Kind.REPLY,
}


def _by_marker(f: Features) -> Kind | None:
    text = f.text
    if _CAPTURE.match(text):
        return Kind.CAPTURE
    if _TAGS_LABEL.match(text):
        return Kind.TAGS
    if _AUTHOR_LABEL.match(text) and f.words <= 10:
        return Kind.AUTHOR_FOOTER
    if f.words <= 8 and _CUT.match(text):
        return Kind.CUT
    if _BOILER.match(text):
        return Kind.BOILER
    if f.words <= 14 and _FOOTER.search(text):
        return Kind.FOOTER
    return None


def _is_share_row(f: Features) -> bool:
    tokens = re.findall(r"[\w-]+", f.text.lower())
    return bool(tokens) and len(tokens) <= 12 and all(t in _SHARE_WORDS for t in tokens)


def _is_list_line(f: Features) -> bool:
    least = 2 if f.list_sep in _BREADCRUMB_SEPS else 3
    if len(f.list_items) < least or f.ends_sentence or not f.short_items:
        return False
    capitalised = sum(1 for item in f.list_items if item[:1].isupper())
    return capitalised >= 0.6 * len(f.list_items)


def _list_kind(f: Features) -> Kind:
    if f.list_sep in _BREADCRUMB_SEPS:
        return Kind.BREADCRUMB
    if f.list_sep == ", ":
        return Kind.TAGS
    return Kind.NAV


def _is_byline(f: Features) -> bool:
    if f.words > 20:
        return False
    match = _BY.search(f.text)
    if match is None:
        return read_time(f.text) is not None
    before = f.text[: match.start()]
    # "Verjährung von Urlaubsansprüchen", "Themen von A-Z": after a word, these markers are
    # prepositions before a noun, and a byline there names a person, first and last name.
    marker = match.group().split()[-1].rstrip(":").lower()
    fewest = 2 if before.strip() and marker in _PREPOSITIONS else 1
    if _names_follow(f.text[match.end() :], fewest) and _opens_byline(before):
        return not f.ends_sentence or f.has_digit
    return read_time(f.text) is not None


_BYLINE_OPENING = 6
_NAME_STOPS = re.compile(r"\s(?:\||·|•|—|–|-)\s|[|;,(\d]")


def _opens_byline(before: str) -> bool:
    """What stands before "by" in a byline is short: what the work is ("Text and photos",
    "Ein Kommentar") or when it was posted ("Posted on 3 May 2025"), not a headline that
    uses "von" or "por" as a preposition."""
    tokens = before.replace("|", " ").split()
    if len(tokens) > _BYLINE_OPENING:
        return False
    if _DIGIT.search(before):
        return True
    return all(t[0].isupper() or t in _CONNECTORS or not t[0].isalpha() for t in tokens)


_PREPOSITIONS = frozenset({"von", "par", "por", "від"})


def _names_follow(rest: str, fewest: int = 1) -> bool:
    """After "by" stand names, up to a date, a separator or the end: "by Jane Roe | 5 May",
    not "por Magallanes este miércoles" (Spanish "through"), "von Krieg und Flucht"."""
    stop = _NAME_STOPS.search(rest)
    names = rest[: stop.start()] if stop else rest
    tokens = names.replace(",", " ").split()
    return len(tokens) >= fewest and all(
        t[0].isupper() or t in _CONNECTORS or t.lower() in _NAME_LINKS for t in tokens
    )


def _list_items(text: str) -> tuple[str, tuple[str, ...]]:
    best_sep, best = "", tuple[str, ...]()
    for sep in _LIST_SEPS:
        if sep in text:
            items = tuple(i.strip() for i in text.split(sep) if i.strip())
            if len(items) > len(best):
                best_sep, best = sep, items
    return best_sep, best


_NAME_LINKS = frozenset({"of", "for", "and", "the", "de", "la", "via"})
_CONNECTORS = frozenset({"and", "und", "y", "et", "і", "та", "и", "&"})


def names_only(f: Features) -> bool:
    """A bare byline ("Helen Brooks", "Tomasz Wilk and Anna Horvath"): capitalised names of
    two or three words, joined by connectors, nothing else."""
    if f.has_digit or f.ends_sentence or not 2 <= f.words <= 12:
        return False
    chunk = 0
    for token in f.text.replace(",", " , ").split():
        if token in _CONNECTORS or token == ",":
            if not 2 <= chunk <= 3:
                return False
            chunk = 0
        elif token[0].isupper():
            chunk += 1
        else:
            return False
    return 2 <= chunk <= 3


def _credit_shaped(caption: str, credit: str) -> bool:
    """Bracketed text ending a line is a credit if it names an agency, or if it is a short
    capitalised name after a finished sentence ("… strike. (State Emergency Service)")."""
    if _AGENCY.search(credit):
        return True
    words = credit.split()
    return (
        caption[-1] in ".!?"
        and len(words) <= 8
        and credit[-1] not in ".!?"
        and all(w[0].isupper() or w.lower() in _NAME_LINKS for w in words)
    )


def credit_split(text: str) -> tuple[str, str] | None:
    """Caption and credit of a photo line, or None when the line carries no credit.

    Each pattern is tried only on a line that has what it needs (a closing bracket at the
    end, a credit word): most lines have neither.
    """
    tail = _CREDIT_TAIL.match(text) if text.rstrip()[-1:] in (")", "]") else None
    if tail and tail["caption"] and _credit_shaped(tail["caption"], tail["credit"]):
        credit = re.sub(r"^(?:photo|foto|фото|image)\s*(?:by|:)\s*", "", tail["credit"], flags=re.I)
        return tail["caption"].strip(), credit.strip()
    lowered = text.lower()
    marked = any(word in lowered for word in _CREDIT_WORDS)
    label = _CREDIT_LABEL.match(text) if marked else None
    if label and len(text.split()) <= 60:
        return label["caption"].strip(" |—–-"), label["credit"].strip()
    return None


def read_time(text: str) -> int | None:
    match = _READ_TIME.search(text)
    if match is None:
        return None
    return int(match["n"] or match["n2"])


def capture_prefix(text: str) -> int:
    """Where the date of a capture header starts (the scraper's keyword ends there)."""
    match = _CAPTURE.match(text)
    return match.end() if match else 0


def byline_start(text: str) -> int | None:
    """Where the names of a byline begin (just after "by", "Von", "Автор:" …)."""
    match = _BY.search(text)
    return match.end() if match else None


def author_label_end(text: str) -> int:
    match = _AUTHOR_LABEL.match(text)
    return match.end() if match else 0


def tags_label_end(text: str) -> int:
    match = _TAGS_LABEL.match(text)
    return match.end() if match else 0
