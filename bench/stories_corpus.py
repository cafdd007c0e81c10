"""A labelled story set from real article text: versions of one report, and look-alikes.

The hand-written pairs in ``tests/data/dedup`` are short invented reports; story grouping must
also hold on real pages of every length and language, edited the way newsrooms edit (wire
datelines, new headlines over site furniture, cuts, corrections). Each *group* is one real
article: its original, 2–4 versions (one true story) and up to two hard negatives built from
other real articles (each its own story). The split is by group, so no version of a dev report
is ever scored as held-out.

    .venv/bin/python bench/stories_corpus.py          # builds .corpora/stories/

Writes ``<group>__<version>.txt`` text dumps and ``labels.jsonl`` with one row per file:
``file, group, story, kind, split, published``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from bench.corpora import CORPORA, load_labels, page_path, split_of
from daemon.parse.dates import Clock, find_when
from daemon.parse.fields import detect_language

STORIES = CORPORA / "stories"
STORY_LABELS = STORIES / "labels.jsonl"
# Extraction takes half a minute for the whole snapshot; it is kept outside STORIES so a
# rebuild, which empties STORIES, does not pay for it again.
EXTRACTED = CORPORA / "stories_extracted.json"
GROUPS = 120
VERSION_KINDS = (
    "wire",
    "reheadlined",
    "shortened",
    "reordered",
    "rephrased",
    "corrected",
    "added",
    "undated",
    "brief",
    "rewritten",
)
NEGATIVE_KINDS = ("other", "followup", "quoting")
MIN_PARAGRAPHS = 5
MIN_WORDS = 250
MAX_TITLE_WORDS = 15
SHORT_WORDS = 80
EPOCH = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)
BARE_DATE_WORDS = 8
DAYS = 30
AUTHORS = ("Anna Weber", "James Okafor", "Lucía Romero", "Piotr Nowak", "Mei Tanaka", "Sam Reid")
CITIES = ("BERLIN", "LONDON", "PARIS", "ZURICH", "VIENNA", "MADRID", "BRUSSELS", "NEW YORK")
AGENCIES = ("Reuters", "AFP", "AP", "dpa")
MENU = (
    "Home", "World", "Politics", "Business", "Markets", "Tech", "Science", "Health", "Sport",
    "Culture", "Opinion", "Video", "Podcasts", "Newsletters", "Subscribe", "Sign in", "Search",
    "Weather", "Travel", "Climate",
)  # fmt: skip
# Another desk's wording: common words of the corpus's main languages and a replacement that
# keeps the sense. Only a paraphrase this crude can be made without a language model, but it
# breaks word runs the way real rewording does, which is what the sketches see.
SYNONYMS = {
    "said": "stated", "says": "states", "told": "informed", "also": "additionally",
    "but": "yet", "big": "large", "large": "big", "people": "individuals", "new": "fresh",
    "company": "firm", "government": "administration", "first": "initial", "many": "numerous",
    "help": "assist", "show": "reveal", "shows": "reveals", "use": "employ", "used": "employed",
    "make": "create", "made": "created", "start": "begin", "started": "began", "get": "obtain",
    "because": "since", "about": "roughly", "important": "significant", "expected": "anticipated",
    "will": "is set to", "can": "is able to", "more": "further", "very": "highly",
    "year": "twelve months", "years": "years' time", "after": "following", "before": "prior to",
    "before,": "earlier,", "however": "nevertheless", "which": "that", "while": "whereas",
    "including": "among them", "against": "versus", "between": "among", "during": "throughout",
    "sagte": "erklärte", "sagt": "erklärt", "auch": "ebenfalls", "aber": "jedoch",
    "sehr": "äußerst", "viele": "zahlreiche", "jetzt": "nun", "neue": "frische",
    "neuen": "frischen", "dass": "daß", "große": "bedeutende", "wichtig": "bedeutsam",
    "bereits": "schon",
    "il": "celui-ci", "aussi": "également", "mais": "cependant",
    "très": "fort", "beaucoup": "énormément", "y": "e", "pero": "sin embargo", "muy": "bastante",
}  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Source:
    """A real article as its page gives it: the raw material of every file in the set."""

    name: str
    title: str
    paragraphs: tuple[str, ...]
    language: str

    @property
    def words(self) -> int:
        return words_in(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Version:
    """One file to write: what a reader would drop, and the truth about it."""

    kind: str
    story: str
    published: datetime
    text: str


def seeded(name: str) -> random.Random:
    """A generator fixed by a name, so one group's choices do not depend on any other's."""
    return random.Random(int(hashlib.sha256(name.encode()).hexdigest()[:16], 16))


def extracted_texts() -> dict[str, str]:
    """trafilatura's main text of every page, from the cache where it was made before."""
    if EXTRACTED.is_file():
        cached: dict[str, str] = json.loads(EXTRACTED.read_text(encoding="utf-8"))
        return cached
    texts: dict[str, str] = {}
    for label in load_labels():
        html = page_path(label["file"]).read_bytes().decode("utf-8", "replace")
        texts[label["file"]] = trafilatura.extract(html) or ""
    EXTRACTED.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return texts


DATE_IN_TITLE = re.compile(
    r"\b\d{1,2}\.?\s*(?:\d{1,2}\.|[^\W\d_]+)\s*(?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
)


def reads_as_title(title: str) -> bool:
    """Some pages' headline truth is their date-and-section line, which no reader takes for one."""
    rest = re.sub(r"[|/·•–-]", " ", DATE_IN_TITLE.sub(" ", title))
    return len(rest.split()) >= 3


def bare_date(line: str) -> bool:
    """A page's own date line ("Mittwoch, 01.11.2023") that trafilatura kept in the text:
    left in, it would date every version by the page instead of by the set's times."""
    return len(line.split()) <= BARE_DATE_WORDS and find_when(line, Clock()) is not None


def load_sources() -> list[Source]:
    """Pages long enough to cut and reorder, with a title a reader would recognise."""
    texts = extracted_texts()
    sources = []
    for label in load_labels():
        lines = [line.strip() for line in texts.get(label["file"], "").splitlines()]
        paragraphs = [line for line in lines if line]
        if not paragraphs:
            continue
        title = label.get("headline")
        if not title:
            if len(paragraphs[0].split()) > MAX_TITLE_WORDS:
                continue
            title, paragraphs = paragraphs[0], paragraphs[1:]
        if not reads_as_title(title):
            continue
        paragraphs = [p for p in paragraphs if p != title and not bare_date(p)]
        source = Source(label["stem"], title.strip(), tuple(paragraphs), "")
        if len(paragraphs) < MIN_PARAGRAPHS or source.words < MIN_WORDS:
            continue
        language = detect_language(" ".join(paragraphs)) or "?"
        sources.append(Source(source.name, source.title, source.paragraphs, language))
    return sorted(sources, key=lambda s: s.name)


def date_line(author: str, when: datetime) -> str:
    return f"By {author} | {MONTHS[when.month - 1]} {when.day}, {when.year} {when:%H:%M} UTC"


def dump(title: str, header: str | None, paragraphs: list[str]) -> str:
    head = [title] + ([header] if header else [])
    return "\n".join(head) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def wire_lead(rng: random.Random, when: datetime) -> tuple[str, str]:
    """An agency and its dateline ("BERLIN, March 4 (Reuters) - ") for the first paragraph."""
    agency = rng.choice(AGENCIES)
    return agency, f"{rng.choice(CITIES)}, {MONTHS[when.month - 1]} {when.day} ({agency}) - "


def wire(src: Source, rng: random.Random, when: datetime, author: str) -> str:
    """Agency copy: the date lives only in the dateline and a weekday, never as a full date."""
    agency, lead = wire_lead(rng, when)
    body = [lead + src.paragraphs[0], *src.paragraphs[1:]]
    body.append(f"(Reporting by {author}; editing by {rng.choice(AUTHORS)}; {agency})")
    return dump(src.title, f"By {author}, {agency} · {when:%A}", body)


def agency_line(rng: random.Random) -> str:
    return f"By {rng.choice(AUTHORS)}, {rng.choice(AGENCIES)}"


def new_headline(src: Source, rng: random.Random) -> str:
    """A headline another desk would write: the lead's first clause, or the title reordered."""
    clause = re.split(r"[,.;:!?]", src.paragraphs[0], maxsplit=1)[0].split()
    words = src.title.split()
    if len(clause) >= 4 and (len(words) < 4 or rng.random() < 0.5):
        return " ".join(clause[:14])
    cut = rng.randint(1, max(1, len(words) - 1))
    return " ".join(words[cut:] + words[:cut])


def reheadlined(src: Source, rng: random.Random, header: str, trending: list[str]) -> str:
    menu = rng.sample(MENU, 15)
    page = dump(new_headline(src, rng), header, list(src.paragraphs))
    below = "\n\nTrending\n\n" + "\n".join(trending) + "\n"
    return "\n".join(menu) + "\n\n" + page + below


def shortened(paragraphs: tuple[str, ...], rng: random.Random) -> list[str]:
    """The first k paragraphs, never fewer than a short report's words: a cut that keeps only
    the breadcrumbs some extractions open with is no copy of the article."""
    k = rng.randint(2, max(2, len(paragraphs) // 2))
    while k < len(paragraphs) and words_in(paragraphs[:k]) < SHORT_WORDS:
        k += 1
    return list(paragraphs[:k])


def swap_halves(paragraph: str) -> str:
    head, comma, tail = paragraph.partition(", ")
    return f"{tail.rstrip('.')}, {head}." if comma and tail else paragraph


def rephrased(paragraphs: tuple[str, ...]) -> list[str]:
    """A crude paraphrase: clause order and a sixth of the wording change, the facts stay."""
    out = []
    for paragraph in paragraphs:
        words = swap_halves(paragraph).split()
        out.append(" ".join(w for i, w in enumerate(words, 1) if i % 7))
    return out


def reworded(sentence: str, rng: random.Random) -> str:
    """One sentence as another desk would write it: its clauses turned round, its common words
    swapped for others, and where none is known two neighbouring words exchanged."""
    if rng.random() < 0.5:
        sentence = swap_halves(sentence)
    words = sentence.split()
    changed = False
    for i, word in enumerate(words):
        new = SYNONYMS.get(word.lower())
        if new is not None:
            words[i] = new.capitalize() if word[:1].isupper() else new
            changed = True
    if not changed and len(words) > 4:
        i = rng.randrange(1, len(words) - 2)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def rewritten(paragraphs: tuple[str, ...], rng: random.Random) -> list[str]:
    """Another outlet's own version: every sentence reworded, one paragraph cut, two swapped."""
    body = [" ".join(reworded(s, rng) for s in re.split(r"(?<=[.!?])\s+", p)) for p in paragraphs]
    del body[rng.randint(1, len(body) - 2)]
    i, j = rng.sample(range(len(body)), 2)
    body[i], body[j] = body[j], body[i]
    return body


def words_in(paragraphs: tuple[str, ...]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def brief(src: Source, rng: random.Random, when: datetime) -> list[str]:
    """An aggregator's brief: the wire lead and as few paragraphs as make a short report."""
    agency, lead = wire_lead(rng, when)
    k = 1
    while k < len(src.paragraphs) and words_in(src.paragraphs[:k]) < SHORT_WORDS:
        k += 1
    body = [lead + src.paragraphs[0], *src.paragraphs[1:k]]
    return [*body, f"Read the full story at {agency}."]


def corrected(paragraphs: tuple[str, ...], rng: random.Random) -> list[str]:
    body = list(paragraphs)
    spots = [(i, m) for i, p in enumerate(body) for m in re.finditer(r"\b\d{2,}\b", p)]
    note = "Correction: an earlier version of this article misstated a figure."
    if spots:
        i, match = rng.choice(spots)
        old = match.group()
        new = str(int(old) + rng.randint(1, 9))
        body[i] = body[i][: match.start()] + new + body[i][match.end() :]
        note = f"Correction: an earlier version of this article misstated {new} as {old}."
    return [*body, note]


def versions_of(src: Source, name: str, donors: list[Source], titles: list[str]) -> list[Version]:
    """The original, its versions and hard negatives; donors are consumed so none repeats."""
    rng = seeded(src.name)
    start = EPOCH + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
    author = rng.choice(AUTHORS)
    story = f"{name}/s"
    first = dump(src.title, date_line(author, start), list(src.paragraphs))
    out = [Version("original", story, start, first)]
    paragraphs = src.paragraphs
    for kind in rng.sample(VERSION_KINDS, rng.randint(2, 4)):
        when = start + timedelta(minutes=rng.randint(10, 300))
        text = version_text(kind, src, rng, when, author, donors, titles)
        out.append(Version(kind, story, when, text))
    for i, kind in enumerate(rng.sample(NEGATIVE_KINDS, rng.choice((0, 1, 1, 2)))):
        donor = pick_donor(src, donors, rng)
        other = list(donor.paragraphs)
        when = start.replace(hour=rng.randrange(24), minute=rng.randrange(60))
        if kind == "followup":
            when = start + timedelta(minutes=rng.randint(20 * 60, 30 * 60))
            words = src.title.split()
            title = " ".join(words[: max(3, len(words) // 2)] + donor.title.split()[-4:])
            other.insert(1, rng.choice(paragraphs))
        elif kind == "quoting":
            title = donor.title
            other.insert(len(other) // 2, f"“{rng.choice(paragraphs)}”")
        else:
            title = donor.title
        header = date_line(rng.choice(AUTHORS), when)
        out.append(Version(kind, f"{name}/n{i}", when, dump(title, header, other)))
    return out


def version_text(
    kind: str,
    src: Source,
    rng: random.Random,
    when: datetime,
    author: str,
    donors: list[Source],
    titles: list[str],
) -> str:
    """One version of the report as another desk or site would publish it."""
    paragraphs, n = src.paragraphs, len(src.paragraphs)
    header = date_line(rng.choice(AUTHORS), when)
    if kind == "wire":
        return wire(src, rng, when, author)
    if kind == "reheadlined":
        return reheadlined(src, rng, header, rng.sample(titles, 5))
    if kind == "shortened":
        return dump(src.title, header, shortened(paragraphs, rng))
    if kind == "reordered":
        body = list(paragraphs)
        del body[rng.randint(1, n - 2)]
        i, j = rng.sample(range(len(body)), 2)
        body[i], body[j] = body[j], body[i]
        return dump(src.title, header, body)
    if kind == "brief":
        undated = f"{agency_line(rng)} · {when:%A}" if rng.random() < 0.5 else header
        return dump(new_headline(src, rng), undated, brief(src, rng, when))
    if kind == "rewritten":
        menu = "\n".join(rng.sample(MENU, 12)) + "\n\n"
        page = dump(new_headline(src, rng), header, rewritten(paragraphs, rng))
        return menu + page + "\n\nMost read\n\n" + "\n".join(rng.sample(titles, 5)) + "\n"
    if kind == "rephrased":
        return dump(src.title, header, rephrased(paragraphs))
    if kind == "corrected":
        return dump(src.title, header, corrected(paragraphs, rng))
    if kind == "added":
        extra = pick_donor(src, donors, rng).paragraphs
        body = list(paragraphs)
        body.insert(n // 2, rng.choice(extra))
        return dump(src.title, header, body)
    return dump(src.title, f"By {author}", list(paragraphs))


def pick_donor(src: Source, donors: list[Source], rng: random.Random) -> Source:
    """A real article the reader could mistake for this one: same language, similar length."""

    def fit(d: Source) -> tuple[bool, float]:
        return (d.language != src.language, abs(d.words - src.words) / src.words)

    ranked = sorted(donors, key=fit)[:5]
    donor = rng.choice(ranked)
    donors.remove(donor)
    return donor


def build() -> list[dict[str, str]]:
    sources = load_sources()
    order = seeded("stories").sample(sources, len(sources))
    originals, donors = order[:GROUPS], order[GROUPS:]
    titles = [s.title for s in sources]
    if STORIES.exists():
        shutil.rmtree(STORIES)
    STORIES.mkdir(parents=True)
    rows = []
    for g, src in enumerate(sorted(originals, key=lambda s: s.name)):
        group = f"g{g:03d}-{src.name[:8]}"
        others = [t for t in titles if t != src.title]
        for v in versions_of(src, group, donors, others):
            file = f"{group}__{v.kind}.txt"
            (STORIES / file).write_text(v.text, encoding="utf-8")
            rows.append(
                {
                    "file": file,
                    "group": group,
                    "story": v.story,
                    "kind": v.kind,
                    "split": split_of(group),
                    "published": v.published.isoformat(),
                }
            )
    with STORY_LABELS.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return rows


def main() -> None:
    rows = build()
    groups = {r["group"]: r["split"] for r in rows}
    kinds = Counter(r["kind"] for r in rows)
    files = Counter(r["split"] for r in rows)
    by_group = Counter(groups.values())
    print(f"{len(groups)} groups, {len(rows)} files in {STORIES}")
    print(f"  dev: {by_group['dev']} groups, {files['dev']} files")
    print(f"  heldout: {by_group['heldout']} groups, {files['heldout']} files")
    print("  by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
