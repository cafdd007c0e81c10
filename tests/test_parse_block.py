"""Where the article stands in a long page: the run of prose, its language's stop words, and
the headline that names what the lead is about."""

from __future__ import annotations

from daemon.parse import parse_bytes
from daemon.parse.layout import assess
from daemon.parse.lines import classify, features
from daemon.parse.stopwords import density, language_name, page_language

ARTICLE = [
    "The regional council approved a new tram line on Tuesday that will link the old town "
    "with the university campus and the main railway station.",
    "Construction is due to begin next spring and should take about three years, the "
    "council said, with most of the money coming from a national transport fund.",
    "Residents of the northern districts, who today wait up to twenty minutes for a bus, "
    "welcomed the decision at a public meeting on Tuesday evening.",
]
MENU = ["Home", "News", "Sport", "Business", "Culture", "Opinion", "Weather", "Podcasts"]
TEASERS = [
    "Five things to know about the new parking rules",
    "Why the city library is closing for the summer",
    "Local bakery wins a national prize for its rye bread",
]
LINK_ROW = (
    "Newsletter Shop Contact Imprint Privacy Terms Careers Advertising Archive Events "
    "Podcasts Jobs Partners Sitemap Accessibility Help Subscriptions Press Awards Team"
)


def _page(*parts: list[str]) -> list[str]:
    return [line for part in parts for line in part]


def test_the_article_is_the_densest_run_of_prose_not_the_menu_or_teasers() -> None:
    lines = _page(MENU * 4, ["Tram line to the campus approved"], ARTICLE, TEASERS, [LINK_ROW])
    feats = [features(line) for line in lines]
    layout = assess(feats, [classify(f) for f in feats])
    assert layout.block is not None
    first = len(MENU) * 4 + 1
    assert (layout.block.first, layout.block.last) == (first, first + len(ARTICLE) - 1)


def test_a_long_row_of_links_is_not_prose() -> None:
    language = page_language(ARTICLE)
    assert language_name(language) == "English"
    assert (density(ARTICLE[0], language) or 0) > 0.3
    assert (density(LINK_ROW, language) or 0) < 0.3
    feats = [features(line) for line in [*ARTICLE, LINK_ROW]]
    assert assess(feats, [classify(f) for f in feats]).prose == [True, True, True, False]


def test_the_headline_is_the_line_that_names_what_the_lead_is_about() -> None:
    page = _page(
        MENU * 3,
        ["Sign up for our morning briefing today", "Tram line to the campus approved"],
        ARTICLE,
        TEASERS,
    )
    [article] = parse_bytes("\n".join(page).encode())
    assert article.title == "Tram line to the campus approved"
    assert article.body == ARTICLE


def test_stop_words_know_cyrillic_pages() -> None:
    russian = [
        "Городской совет в среду утвердил новый маршрут трамвая, который свяжет центр с "
        "университетом и вокзалом."
    ]
    ukrainian = [
        "Міська рада у середу затвердила новий маршрут трамваю, який поєднає центр з "
        "університетом та вокзалом."
    ]
    assert language_name(page_language(russian)) == "Russian"
    assert language_name(page_language(ukrainian)) == "Ukrainian"
