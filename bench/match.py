"""How matching cost grows with the number of rules.

Run from the repository root: ``.venv/bin/python bench/match.py``.

Prints, for one ~5 KB article, the median time of matching it against 10, 1,000 and 10,000
rules: first the query automaton alone, then rules as the daemon runs them (70% queries, 30%
regions, through ``alerts.match.Matcher``) with the gazetteer's build/load time and memory;
each against a floor measured in the same run: reading the
article once (tokenising and folding it, the least any matcher must do). Targets: 10,000 rules
cost at most 3x what 10 cost, and every median stays under 5 ms.

Rule vocabularies are real place names (pycountry's subdivisions and countries) drawn with a
Zipf-like skew, so a few places are in many rules, as they are in real deployments.

Two articles are matched. The *typical* one names places from the long tail, as most news
does: a handful of rules fire, and the targets are judged on it. The *hot* one names the seven
most-watched places, so one rule in six fires; it is a stress figure. Every rule that fires
owes its alert its own evidence and excerpt, so that cost grows with the rules that fire, not
with the rules held; it is printed per fired rule.
"""

from __future__ import annotations

import itertools
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pycountry

from alerts import textnorm
from alerts.match import Matcher
from alerts.query import Document, Query, RuleMatcher, compile_rules, parse_query
from alerts.regions import Gazetteer
from alerts.rules import Rule
from storage.types import Article

SIZES = (10, 1_000, 10_000)
TARGET = "typical places"  # the article the targets are judged on (see above)
REPEAT = 301
SEED = 6

HOT_PLACES = ["Ukraine", "Belgorod", "Kursk", "Kharkiv", "Donetsk", "Zaporizhzhia", "Russia"]
TOPICS = [
    "troops",
    "army",
    "drone",
    "drones",
    "missile",
    "shelling",
    "ceasefire",
    "evacuation",
    "blackout",
    "refinery",
    "pipeline",
    "railway",
    "bridge",
    "airport",
    "port",
    "grain",
    "convoy",
    "mobilisation",
    "protest",
    "election",
    "flood",
    "wildfire",
    "earthquake",
    "outbreak",
    "cholera",
    "strike",
    "curfew",
    "hostages",
    "refugees",
    "sabotage",
]
PHRASES = [
    "armed forces",
    "air defence",
    "power station",
    "border crossing",
    "humanitarian corridor",
    "prisoner exchange",
    "martial law",
    "cluster munitions",
    "nuclear plant",
    "oil depot",
]
PREFIXES = ["sanction", "explo", "evacuat", "negotiat", "bombard", "infiltrat", "shell"]

PARAGRAPHS = [
    "Officials in {p1} said early on Tuesday that air defence units had intercepted a wave of "
    "drones approaching the regional capital, while debris damaged a warehouse and two homes "
    "on the eastern outskirts. Nobody was hurt, according to the emergency service.",
    "The governor of {p2} told residents to stay away from the railway station after reports "
    "of an unexploded missile fragment near the tracks. Trains were held for three hours "
    "while engineers inspected the line and the nearby bridge.",
    "In {p3}, local councils opened additional shelters and asked volunteers to help with the "
    "evacuation of families from villages close to the border crossing, where shelling has "
    "intensified since the weekend.",
    "Analysts said the pressure on {p1} reflected a wider pattern along the front, with "
    "supply routes, fuel depots and power stations targeted repeatedly in recent weeks. "
    "Several of them cautioned that official figures are hard to verify independently.",
    "Negotiators meeting in a neutral capital discussed a possible prisoner exchange and the "
    "safety of the nuclear plant, but no date was set for a further round of talks. "
    "Diplomats described the atmosphere as tense but businesslike.",
    "Farmers in {p2} complained that a blackout lasting most of the night had spoiled milk "
    "and stalled grain dryers. The regional energy company promised compensation once "
    "repairs on the damaged substation are finished.",
    "Meanwhile, new sanctions on components used in long-range weapons were announced by "
    "several governments, which said the measures target companies that supplied parts "
    "to manufacturers through intermediaries in third countries.",
    "Schools in {p3} switched to remote lessons for the rest of the week. Parents said the "
    "children had grown used to the sirens, though many still spend nights in basements.",
]


def article(mentioned: list[str]) -> Document:
    """A ~5 KB report, written for this benchmark, about the ``mentioned`` places."""
    rng = random.Random(SEED)
    paragraphs: list[str] = []
    while sum(map(len, paragraphs)) < 4_900:
        p1, p2, p3 = rng.sample(mentioned, 3)
        paragraphs.append(rng.choice(PARAGRAPHS).format(p1=p1, p2=p2, p3=p3))
    return Document(
        title=f"Drones intercepted over {mentioned[0]} as evacuation widens near the border",
        body="\n\n".join(paragraphs),
        tags=(*mentioned[:3], "Air defence"),
        author="Staff reporter",
        source="Benchmark Wire",
    )


def articles() -> dict[str, Document]:
    """The same report about the most-watched places, and about places from the long tail."""
    tail = places()[100:2_000]
    return {
        "hot places": article(HOT_PLACES),
        "typical places": article(random.Random(SEED).sample(tail, 5)),
    }


def places() -> list[str]:
    """Popular places first, then every subdivision and country name."""
    names = [s.name for s in pycountry.subdivisions] + [c.name for c in pycountry.countries]
    return HOT_PLACES + sorted(set(names) - set(HOT_PLACES))


def random_query(rng: random.Random, place: Callable[[], str]) -> str:
    """One of the shapes people actually write: topic x place, exclusions, scopes, proximity."""
    topic, other = rng.sample(TOPICS, 2)
    phrase, prefix = rng.choice(PHRASES), rng.choice(PREFIXES)
    shapes = [
        f'({topic} OR {other} OR "{phrase}") AND "{place()}"',
        f'"{place()}" AND {prefix}* AND NOT exercise*',
        f'title:"{place()}" OR tags:"{place()}"',
        f'{topic} NEAR/5 "{place()}"',
        f'"{topic} {other}"~4 AND ("{place()}" OR "{place()}")',
        f'("{place()}" OR "{place()}") AND ({prefix}* OR "{phrase}") NOT {other}',
        f'"{phrase}" AND "{place()}"',
    ]
    return rng.choice(shapes)


def queries(count: int) -> dict[str, Query]:
    rng = random.Random(SEED + count)
    names = places()
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(names))))

    def place() -> str:
        return rng.choices(names, cum_weights=cumulative)[0]

    return {f"rule {i}": parse_query(random_query(rng, place)) for i in range(count)}


# ---- Rules as the daemon runs them: queries and regions through alerts.match.Matcher ------
REGION_SHARE = 0.3
HOT_REGIONS = ["Ukraine", "RU-BEL", "RU-KRS", "Kharkiv Oblast", "Donetsk Oblast", "Russia"]


def region_names(gazetteer: Gazetteer) -> list[str]:
    """Hot regions first, then every country and subdivision code the gazetteer knows."""
    codes = sorted({p.code for p in gazetteer.places if p.code} - set(HOT_REGIONS))
    return HOT_REGIONS + codes


def daemon_rules(count: int, gazetteer: Gazetteer) -> list[Rule]:
    """``count`` rules: 70% queries, 30% regions (half of those also with a topic query)."""
    rng = random.Random(SEED + count)
    names, regions = places(), region_names(gazetteer)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(names))))
    region_weights = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(regions))))
    rules = []
    for i in range(count):
        fields: dict[str, object] = {"name": f"rule {i}", "channels": ["log"]}
        if rng.random() < REGION_SHARE:
            fields["regions"] = [rng.choices(regions, cum_weights=region_weights)[0]]
            if rng.random() < 0.5:
                fields["query"] = " OR ".join(rng.sample(TOPICS, 3))
        else:
            fields["query"] = random_query(rng, lambda: rng.choices(names, cum_weights=weights)[0])
        rules.append(Rule.model_validate(fields))
    return rules


def as_article(doc: Document) -> Article:
    return Article(
        title=doc.title, body=doc.body.split("\n\n"), tags=list(doc.tags), source=doc.source
    )


def gazetteer_figures(cache: Path) -> tuple[Gazetteer, float]:
    """Build the gazetteer into an empty ``cache`` (timed, as a first start does), then load it
    from there as every later start does."""
    started = time.perf_counter()
    Gazetteer.load(cache)
    built = time.perf_counter() - started
    return Gazetteer.load(cache), built


def cold_load(cache: Path) -> tuple[float, float]:
    """Seconds and MB of RSS to load the cached gazetteer in a fresh process, read while
    the gazetteer is still held (a discarded one is freed before RSS is read)."""
    code = (
        "import time, psutil; from pathlib import Path; from alerts.regions import Gazetteer;"
        "p = psutil.Process(); before = p.memory_info().rss; t = time.perf_counter();"
        f"g = Gazetteer.load(Path({str(cache)!r})); seconds = time.perf_counter() - t;"
        "print(seconds, (p.memory_info().rss - before) / 2**20, len(g.places))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    seconds, megabytes, _ = done.stdout.split()
    return float(seconds), float(megabytes)


def daemon_section(docs: Mapping[str, Document]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        gazetteer, built = gazetteer_figures(Path(folder))
        seconds, megabytes = cold_load(Path(folder))
    print(f"gazetteer: built in {built:.1f} s")
    print(
        f"gazetteer: {len(gazetteer.places):,} places; cached load {seconds:.2f} s "
        f"(target < 2 s), +{megabytes:.0f} MB RSS\n"
    )
    sample = as_article(docs["hot places"])
    floor = median_ms(lambda: gazetteer.find(sample.text))
    print(f"floor (one gazetteer pass over the article): {floor:.3f} ms")
    medians: dict[int, dict[str, float]] = {}
    fired_at_large = 0
    for size in SIZES:
        started = time.perf_counter()
        matcher = Matcher(daemon_rules(size, gazetteer), gazetteer)
        build = time.perf_counter() - started
        medians[size] = {}
        for label, doc in docs.items():
            item = as_article(doc)
            medians[size][label] = median_ms(lambda m=matcher, a=item: m.match(a))
            fired = len(matcher.match(item))
            if size == SIZES[-1] and label == "hot places":
                fired_at_large = fired
            print(
                f"{size:>6} rules (compiled in {build:.2f} s)  {label:<15} {fired:>5} fire  "
                f"median {medians[size][label]:6.3f} ms ({medians[size][label] / floor:4.1f}x)"
            )
    small, large = SIZES[0], SIZES[-1]
    for label in docs:
        ratio = medians[large][label] / medians[small][label]
        target = " (target <= 3x)" if label == TARGET else ""
        print(f"{label:<15} {large:,}/{small} rules: {ratio:.2f}x{target}")
    worst = max(per_size[TARGET] for per_size in medians.values())
    print(f"{TARGET}: worst median {worst:.3f} ms (target < 5 ms)")
    extra = (medians[large]["hot places"] - medians[small]["hot places"]) * 1000
    print(
        f"hot places: {extra / max(fired_at_large, 1):.1f} µs per fired rule above the "
        f"{small}-rule cost ({fired_at_large:,} fire at {large:,} rules)"
    )


# ----------------------------------------------------------------------------------------------


def median_ms(action: Callable[[], object]) -> float:
    for _ in range(10):
        action()  # warm caches, as in a running daemon
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


@dataclass(frozen=True)
class Cost:
    decide: float  # ms: scan and decide which rules match
    full: float  # ms: the same plus every matched rule's evidence
    matched: int


def cost_of(matcher: RuleMatcher, doc: Document) -> Cost:
    return Cost(
        decide=median_ms(lambda: matcher.matching(matcher.scan(doc))),
        full=median_ms(lambda: matcher.match(doc)),
        matched=len(matcher.match(doc)),
    )


def measure(size: int, docs: Mapping[str, Document]) -> tuple[RuleMatcher, float, dict[str, Cost]]:
    rules = queries(size)
    started = time.perf_counter()
    matcher = compile_rules(rules)
    build = time.perf_counter() - started
    costs = {label: cost_of(matcher, doc) for label, doc in docs.items()}
    return matcher, build, costs


def main() -> None:
    docs = articles()
    sample = docs["hot places"]
    print(f"article: {len(sample.title) + len(sample.body)} characters of title and body")
    floor = median_ms(lambda: [textnorm.analyse(sample.title), textnorm.analyse(sample.body)])
    print(f"floor (tokenise and fold title + body once): {floor:.3f} ms\n")
    results: dict[int, dict[str, Cost]] = {}
    for size in SIZES:
        matcher, build, results[size] = measure(size, docs)
        print(f"{size:>6} rules, {matcher.pattern_count} patterns, compiled in {build:.2f} s")
        for label, cost in results[size].items():
            print(
                f"        {label:<15} {cost.matched:>5} matched   decide {cost.decide:6.3f} ms"
                f" ({cost.decide / floor:4.1f}x floor)   with evidence {cost.full:6.3f} ms"
            )
    print()
    small, large = SIZES[0], SIZES[-1]
    for label in docs:
        decide = results[large][label].decide / results[small][label].decide
        full = results[large][label].full / results[small][label].full
        print(
            f"{label:<15} ratio {large:,}/{small} rules: decide {decide:.2f}x, "
            f"with evidence {full:.2f}x" + (" (target <= 3x)" if label == TARGET else "")
        )
    worst = max(per_size[TARGET].full for per_size in results.values())
    print(f"{TARGET}: worst median with evidence {worst:.3f} ms (target < 5 ms)")
    print("\n== rules as the daemon runs them: queries and regions (alerts.match.Matcher) ==")
    daemon_section(docs)


if __name__ == "__main__":
    main()
