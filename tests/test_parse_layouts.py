"""Text dumps in layouts the scraper corpus does not have: page furniture in en/ru/uk around
the article, a masthead above a menu, page actions above the body."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.cli import main as cli_main
from daemon.parse import parse_bytes
from daemon.parse.lines import Kind, classify, features
from daemon.parse.textdump import explain_text
from storage.types import Article

LAYOUTS = Path(__file__).parent / "data" / "layouts"


@pytest.mark.parametrize("path", sorted(LAYOUTS.glob("*.txt")), ids=lambda p: p.stem)
def test_layout_reads_the_article_and_nothing_around_it(path: Path) -> None:
    want = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    [article] = parse_bytes(path.read_bytes(), name=path.name, timezone=ZoneInfo(want["timezone"]))
    assert article.title == want["title"]
    assert article.authors == want["authors"]
    if "published" in want:
        assert article.published == datetime.fromisoformat(want["published"])
    assert len(article.body) == want["paragraphs"], article.body
    assert article.body[0].startswith(want["body_first"])
    assert article.body[-1].endswith(want["body_last"])
    assert article.lead == article.body[0]
    text = "\n".join([article.title, *article.body])
    assert [w for w in want["without"] if w in text] == []


# Each family of page furniture, in each language: the line alone is never article text.
FURNITURE = {
    "comment thread": {
        "en": ["3 comments", "Leave a Reply", "Comments (12)", "Join the conversation"],
        "ru": ["Комментарии (0)", "5 комментариев", "Оставить комментарий"],
        "uk": ["Коментарі (3)", "12 коментарів", "Залишити коментар"],
    },
    "comment form": {
        "en": [
            "Your email address will not be published. Required fields are marked *",
            "Save my name, email, and website in this browser for the next time I comment.",
            "Like Loading...",
            "Reply",
        ],
        "ru": ["Ваш e-mail не будет опубликован. Обязательные поля помечены *", "Ответить"],
        "uk": ["Ваша e-mail адреса не оприлюднюватиметься.", "Відповісти"],
    },
    "wire credit": {
        "en": ["Our Standards: The Thomson Reuters Trust Principles.", "Editing by Tom Reid"],
        "ru": ["Редактор: Иван Петров", "Источник: Интерфакс", "По материалам ТАСС"],
        "uk": ["Редакторка: Ольга Шевчук", "Джерело: Укрінформ", "За матеріалами BBC"],
    },
    "update line": {
        "en": ["Updated 5 October 2025 20:10 GMT", "Last updated: 14:05"],
        "ru": ["Обновлено 5 октября 2025, 20:10"],
        "uk": ["Оновлено 5 жовтня 2025 20:10"],
    },
    "partner and related block": {
        "en": ["Most viewed", "In Sports", "Related", "Trending now", "More from World"],
        "ru": ["Новости партнеров", "Также по теме:", "Самое популярное"],
        "uk": ["Новини партнерів", "Також за темою:", "Найпопулярніше"],
    },
    "counter and page action": {
        "en": ["Listen", "1 min", "Share", "Comment", "ADVERTISEMENT", "12,400 views"],
        "ru": ["Просмотров: 1 254", "Версия для печати", "Слушать"],
        "uk": ["Переглядів: 523", "Версія для друку", "Прослухати"],
    },
    "comment prompt": {
        "en": ["You must be logged in to post a comment.", "Found a typo? Press Ctrl+Enter"],
        "ru": ["Если вы заметили ошибку, выделите её и нажмите Ctrl+Enter"],
        "uk": ["Щоб залишити коментар, увійдіть або зареєструйтеся"],
    },
    "relative time": {
        "en": ["2 hours ago", "yesterday at 18:40", "5 mins ago"],
        "ru": ["2 часа назад", "вчера в 18:40"],
        "uk": ["2 години тому", "вчора о 18:40"],
    },
    "category line": {
        "en": ["Categories: Politics", "Filed under: Local news"],
        "ru": ["Рубрика: Политика", "Категории: Общество"],
        "uk": ["Категорії: Політика", "Рубрика: Суспільство"],
    },
}
CASES = [
    pytest.param(line, id=f"{family}-{lang}-{n}")
    for family, by_lang in FURNITURE.items()
    for lang, lines in by_lang.items()
    for n, line in enumerate(lines)
]


@pytest.mark.parametrize("line", CASES)
def test_furniture_line_is_not_text(line: str) -> None:
    assert classify(features(line)) is not Kind.TEXT


@pytest.mark.parametrize(
    "line",
    [
        "Reporting by the local newspaper showed that the council had ignored three warnings.",
        "Comments from residents were mostly positive, the mayor said on Friday.",
        "Комментарии экспертов к закону были осторожными, отметили в министерстве.",
        "Оновлений графік відключень світла діятиме з понеділка в усіх районах міста.",
        "Share prices in Warsaw fell by two percent after the announcement.",
    ],
)
def test_sentences_that_open_like_furniture_stay_text(line: str) -> None:
    assert classify(features(line)) is Kind.TEXT


def test_comment_button_under_the_headline_does_not_end_the_body() -> None:
    page = "\n".join(
        [
            "Council approves the new budget for schools",
            "Comment",
            "Share",
            "The council approved a budget on Monday that gives schools a tenth more money.",
            "Teachers' unions welcomed the decision but said that pay talks must go on.",
            "Comments",
            "This is a comment by a reader who disagrees with the decision completely.",
        ]
    )
    [article] = parse_bytes(page.encode())
    assert [p[:20] for p in article.body] == ["The council approved", "Teachers' unions wel"]


STANDFIRSTS = {
    "en": [
        "Storm closes the coast road along the bay",
        "Listen",
        "Residents of the coastal town were told to leave their homes before the storm",
        "The road along the bay was closed on Monday after waves washed over it twice.",
        "Police said it would stay shut until engineers had checked the sea wall again.",
    ],
    "ru": [
        "Шторм закрыл прибрежную дорогу вдоль залива",
        "Слушать",
        "Жителям прибрежного города велели покинуть дома до того, как придёт шторм",
        "Дорогу вдоль залива закрыли в понедельник, после того как её дважды залило волнами.",
        "В полиции сказали, что она будет закрыта, пока инженеры не проверят дамбу.",
    ],
    "uk": [
        "Шторм закрив прибережну дорогу вздовж затоки",
        "Прослухати",
        "Мешканцям прибережного міста наказали залишити свої домівки до того, як прийде шторм",
        "Дорогу вздовж затоки закрили в понеділок, після того як її двічі залило хвилями.",
        "У поліції сказали, що вона буде закрита, доки інженери не перевірять дамбу.",
    ],
}


@pytest.mark.parametrize("lines", STANDFIRSTS.values(), ids=STANDFIRSTS.keys())
def test_unfinished_standfirst_under_the_headline_stays_in_the_body(lines: list[str]) -> None:
    """A teaser that lost its full stop is the article's summary, not a button like
    "Listen" under the headline, and a rule on its words must still fire."""
    [article] = parse_bytes("\n".join(lines).encode())
    assert article.title == lines[0]
    assert article.body == lines[2:]


def _explained(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[int, tuple[str, str]]:
    assert cli_main(["parse", str(path), "--timezone", "Europe/London", "--explain"]) == 0
    rows = {}
    for row in capsys.readouterr().out.splitlines():
        number, label, rest = row.split(maxsplit=2)
        rows[int(number)] = (label, rest)
    return rows


def test_explain_labels_every_line_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    path = LAYOUTS / "en_masthead_listen.txt"
    rows = _explained(path, capsys)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sorted(rows) == [n for n, line in enumerate(lines, 1) if line.strip()]
    assert rows[1][0] == "furniture"  # the masthead
    assert rows[13][0] == "section"
    assert rows[14][0] == "headline"
    assert rows[16][0] == "furniture" and "page action" in rows[16][1]
    assert rows[19][0] == "furniture"  # "Comment" under the headline does not end the body
    assert rows[20][0] == "byline"
    assert rows[21][0] == "date"
    assert rows[15][0] == "lead"  # the standfirst, unfinished, under the headline
    assert rows[23][0] == "body"
    assert rows[29][0] == "body"
    assert rows[30][0] == "cut" and "related block" in rows[30][1]
    assert {rows[n][0] for n in range(31, len(lines) + 1)} == {"after-cut"}


def test_explain_keeps_file_line_numbers_of_a_wrapped_dump(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrapped = sorted((Path(__file__).parent / "data" / "dumps").glob("*_wrapped.txt"))[0]
    rows = _explained(wrapped, capsys)
    lines = wrapped.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(rows) < sum(1 for line in lines if line.strip())  # wrapped lines are joined
    assert all(lines[n - 1].strip() for n in rows)
    lead = next(n for n, (label, _) in rows.items() if label == "lead")
    assert lines[lead - 1].strip()[:30] in "\n".join(lines)


def test_explain_names_the_shape_of_other_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Hello</p></body></html>", encoding="utf-8")
    assert cli_main(["parse", str(page), "--explain"]) == 0
    assert "read as HTML page" in capsys.readouterr().out


def test_explain_shows_the_lines_of_a_refused_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "menu.txt"
    dump.write_text("Home\nNews\nSport\nContact us\n", encoding="utf-8")
    assert cli_main(["parse", str(dump), "--explain"]) == 1
    captured = capsys.readouterr()
    assert [row.split()[1] for row in captured.out.splitlines()] == ["unread"] * 4
    assert "menu.txt" in captured.err


@pytest.mark.parametrize(
    "opening", ["[logo]", "[                    ]", "[Menu] [Search]", "[49787647]", "[2020-07-g]"]
)
def test_dump_opening_with_a_bracketed_image_is_text_not_json(opening: str) -> None:
    page = "\n".join(
        [
            opening,
            "Ferry service resumes across the estuary",
            "The ferry between the two harbours ran again on Monday after three weeks of repairs.",
            "The operator said that timetables would stay reduced until the end of the month.",
        ]
    )
    [article] = parse_bytes(page.encode(), name="dump.txt")
    assert article.title == "Ferry service resumes across the estuary"
    assert len(article.body) == 2


def test_comment_thread_without_a_heading_ends_at_its_first_reply_button() -> None:
    page = "\n".join(
        [
            "Council approves the new budget for schools",
            "By Helen Brooks",
            "The council approved a budget on Monday that gives schools a tenth more money.",
            "Teachers' unions welcomed the decision but said that pay talks must go on.",
            "Tom Fisher",
            "4 October 2025 at 9:12 am",
            "About time, the schools in the east of the city have waited for years for this.",
            "Reply",
            "Anna Wright",
            "4 October 2025 at 11:40 am",
            "And who will pay for it when the grant from the national fund runs out next year?",
            "Reply",
        ]
    )
    [article] = parse_bytes(page.encode(), timezone=ZoneInfo("Europe/London"))
    assert [p[:20] for p in article.body] == ["The council approved", "Teachers' unions wel"]
    assert article.authors == ["Helen Brooks"]


@pytest.mark.parametrize(
    "line",
    [
        "Segundo viaje oficial fuera de Santiago: Presidente Boric inicia gira por Magallanes",
        "Hilfseinsatz zum Schutz von Sprache",
        "Der Verband und die Kommerzialisierung von Rechten Dritter",
        "Kündigung von Mietverträgen",
        "Stadtteile von A-Z",
        "Recettes par Saison",
    ],
)
def test_by_used_as_a_preposition_is_not_a_byline(line: str) -> None:
    assert classify(features(line)) is Kind.TEXT


@pytest.mark.parametrize(
    "line", ["Posted on 3 October 2025 by Helen Brooks", "Ein Kommentar von Anna Schmidt"]
)
def test_bylines_with_an_opening(line: str) -> None:
    assert classify(features(line)) is Kind.BYLINE


def test_an_article_titled_by_its_opening_words_is_read_once() -> None:
    page = "\n".join(
        [
            "Home",
            "News",
            "A missile struck the outskirts of Kryvyi Rih at dawn on Tuesday, the regional "
            "governor said, and two people were wounded.",
        ]
    )
    [article] = parse_bytes(page.encode())
    assert article.title.startswith("A missile struck the outskirts of Kryvyi Rih")
    assert article.title.endswith("…")
    assert article.text.count("Kryvyi Rih") == 1


def test_a_lone_paragraph_that_reads_like_a_title_stays_the_body() -> None:
    quote = (
        "“Thank you for the quick and competent help with both contracts, it is good to know "
        "someone with so much expertise is on our side”"
    )
    [article] = parse_bytes("\n".join(["Home", "Clients", "Contact", quote]).encode())
    assert article.body == [quote]
    assert article.title.endswith("…")


@pytest.mark.parametrize(
    "line",
    [
        "Deine E-Mail-Adresse wird nicht veröffentlicht.",
        "Das könnte dich auch interessieren",
        "Vorheriger Beitrag",
        "Über den Autor",
        "Laisser un commentaire",
        "Noticias relacionadas",
        "Czytaj też",
        "Leggi anche",
        "Jetzt kostenlos zum Newsletter anmelden",
        "Diese Website verwendet Cookies, um Ihnen das beste Erlebnis zu bieten.",
        "Diesen Artikel teilen",
        "Werbung",
        "Leave a Comment!",
    ],
)
def test_common_cms_furniture_in_other_languages_is_not_text(line: str) -> None:
    assert classify(features(line)) is not Kind.TEXT


def test_text_browser_dump_wrapped_at_200_columns_is_rejoined() -> None:
    sentence = "The harbour authority said on Monday that the new ferry terminal would open in May "
    long_paragraph = (sentence * 6).strip() + "."
    wrapped: list[str] = []
    for _ in range(4):
        rest = long_paragraph
        while len(rest) > 200:
            cut = rest.rfind(" ", 0, 200)
            wrapped.append(rest[:cut])
            rest = rest[cut + 1 :]
        wrapped += [rest, ""]
    menu = [f"• Section {n}" for n in range(40)]
    page = "\n".join(
        [*menu, "• Harbour news in brief", "Ferry terminal to open in May", "", *wrapped]
    )
    [article] = parse_bytes(page.encode())
    assert article.title == "Ferry terminal to open in May"
    assert article.body == [long_paragraph] * 4


def test_a_long_menu_above_the_title_gives_no_tags_or_dates() -> None:
    sections = [f"Section {n}" for n in range(15)]
    menu = [*sections, "Politics, Business, Sport, Culture", "Published 1 January 2020", *sections]
    page = "\n".join(
        [
            *menu,
            "Ferry service resumes across the estuary",
            "By Helen Brooks",
            "The ferry between the two harbours ran again on Monday after three weeks of repairs.",
            "The operator said that timetables would stay reduced until the end of the month.",
        ]
    )
    [article] = parse_bytes(page.encode())
    assert article.tags == []
    assert article.published is None
    assert article.authors == ["Helen Brooks"]


_FERRY_BODY = [
    "The ferry between the two harbours ran again on Monday after three weeks of repairs.",
    "The operator said that timetables would stay reduced until the end of the month.",
]
_MENU = ["* News", "* Sport", "+ Local", "+ Weather", "* Culture", "o Theatre", "o Music"]


def _ferry(*above: str) -> Article:
    """The ferry report read from a dump with ``above`` standing over its two paragraphs."""
    [article] = parse_bytes("\n".join([*above, *_FERRY_BODY]).encode())
    return article


@pytest.mark.parametrize(
    "trail",
    [
        "Home > News > Local > Ferry service resumes across the estuary",
        "Home>News> Ferry service resumes across the estuary",
        "harbour-times.example » Local » Ferry service resumes across the estuary",
        "You are here: > Ferry service resumes across the estuary",
        "Вы здесь: Главная › Новости › Ferry service resumes across the estuary",
    ],
)
def test_a_breadcrumb_trail_ending_in_the_title_gives_only_the_title(trail: str) -> None:
    article = _ferry(*_MENU, trail, "By Helen Brooks", "")
    assert article.title == "Ferry service resumes across the estuary"
    assert article.authors == ["Helen Brooks"]


def test_a_breadcrumb_kept_as_a_numbered_list_loses_its_numbers() -> None:
    crumbs = ["1. Home", "2. Local news", "3. Ferry service resumes across the estuary"]
    assert (
        _ferry(*_MENU, *crumbs, "4 October 2025", "").title
        == "Ferry service resumes across the estuary"
    )


def test_a_numbered_headline_without_a_list_above_keeps_its_number() -> None:
    article = _ferry(*_MENU, "7. Ferry service resumes after repairs", "")
    assert article.title == "7. Ferry service resumes after repairs"


def test_items_of_a_nested_menu_are_not_headlines() -> None:
    article = _ferry(
        "* Local",
        "+ Ferry timetables and harbour works",
        "o Theatre and music in the old town",
        "Ferry service resumes across the estuary",
        "By Helen Brooks",
    )
    assert article.title == "Ferry service resumes across the estuary"


@pytest.mark.parametrize(
    "above",
    [
        "Local news Ferry service resumes across the estuary",  # a kicker run into the title
        "3. Ferry service resumes across the estuary",  # the last crumb of a numbered trail
    ],
)
def test_the_title_repeated_at_the_end_of_a_line_above_is_the_headline(above: str) -> None:
    article = _ferry(
        *_MENU,
        above,
        "4 October 2025",
        "Free to read until noon",
        "Ferry service resumes across the estuary",
        "",
    )
    assert article.title == "Ferry service resumes across the estuary"


def test_a_long_opening_line_of_the_article_is_not_taken_for_its_title() -> None:
    lead = (
        "Ferries will run again between the two harbours from Monday after three weeks of "
        "repairs to the landing stages on both sides"
    )
    article = _ferry(*_MENU, "Ferry service resumes across the estuary", "4 October 2025", "", lead)
    assert article.title == "Ferry service resumes across the estuary"
    assert article.body[0] == lead


def test_a_one_word_headline_that_names_the_article_is_taken() -> None:
    article = _ferry("Home", "Local news", "Contact", "", "Ferry", "4 October 2025", "")
    assert article.title == "Ferry"


def test_a_one_word_menu_entry_above_the_article_is_not_its_headline() -> None:
    article = _ferry("Home", "Sport", "Weather", "Harbour workers win back their ferry", "")
    assert article.title == "Harbour workers win back their ferry"


def test_a_chinese_article_is_read_although_its_words_have_no_spaces() -> None:
    paragraphs = [
        "周二清晨，渡轮在修理三周之后重新开通，往返于两个港口之间，首班船上坐满了通勤的乘客。",
        "运营公司表示，本月底之前班次仍将减少，但周末会增加一班，以方便前往岛上的游客。",
        "港口管理部门说，新的码头设施已经完工，明年春天还将对候船大厅进行全面翻修。",
    ]
    page = "\n".join(["首页", "新闻", "体育", "", "渡轮恢复两港之间的航班", "", *paragraphs])
    [article] = parse_bytes(page.encode())
    assert article.title == "渡轮恢复两港之间的航班"
    assert article.body == paragraphs


_PRE_ARTICLE = "\n".join(
    [
        "Harbour Notes",
        "Home | Archive | Tides | Timetables | Works at the piers | Contact "
        "the harbour office | Notes by mail | Accessibility",
        "Ferry timetable changes for the winter season",
        "The harbour office has published the winter timetable for the northern",
        "ferry, which will run every forty minutes from the first of November",
        "instead of every twenty, because fewer passengers cross in the dark",
        "months and two of the three boats go into dry dock for repairs.",
        "Crossings at night are dropped altogether until the spring.",
        "",
        "Commuters who travel before seven in the morning will still find a boat",
        "at the quarter hour, the office said, and the last crossing of the day",
        "leaves the southern pier at half past ten in the evening.",
        "Posted by the harbour office",
        "",
        "Mara Lind: Will the early boat keep its café open in the winter "
        "months, or does that close with the timetable change?",
        "",
        "Peter Hale: Thank you for posting this so early, it makes planning "
        "the school run across the water a great deal easier.",
        "",
    ]
)


def test_a_stretch_wrapped_at_a_fixed_width_is_read_as_its_paragraphs() -> None:
    """An article kept in a ``<pre>`` or a quoted mail is wrapped while the menu is not."""
    [article] = parse_bytes(_PRE_ARTICLE.encode(), name="notes.txt")
    assert article.title == "Ferry timetable changes for the winter season"
    assert article.body[0].startswith("The harbour office has published")
    assert article.body[0].endswith("dropped altogether until the spring.")
    assert article.body[1].startswith("Commuters who travel")
    assert article.body[1].endswith("half past ten in the evening.")


def test_a_menu_with_a_few_long_entries_is_not_joined_into_a_paragraph() -> None:
    menu = [
        "Opinion",
        "columnists",
        "Harriet Vale: What the tide tables taught me",
        "columnists",
        "Owen Marsh: The quiet arithmetic of harbours",
        "columnists",
        "Letters",
        "Weather",
    ]
    page = "\n".join(
        [
            *menu,
            "",
            "Ferry service resumes across the estuary",
            "",
            "The ferry between the two harbours ran again on Monday after three weeks of repairs.",
            "",
            "The operator said that timetables would stay reduced until the end of the month.",
            "",
            "Passengers with season tickets will have them extended by the three lost weeks.",
            "",
            "Repairs to the second boat are expected to finish before the winter timetable.",
        ]
    )
    verdicts, error = explain_text(page)
    assert error is None
    assert [v.text for v in verdicts[: len(menu)]] == menu  # one row per line, none joined


def test_a_sentence_broken_after_a_comma_keeps_both_its_lines() -> None:
    """A short report pasted from a mail: two lines of one sentence are one paragraph."""
    page = "\n".join(
        [
            "Bridge reopens after the spring floods",
            "",
            "The old stone bridge over the river reopened to traffic on Friday morning,",
            "the county engineers said. Lorries must still keep to one lane for a month.",
        ]
    )
    [article] = parse_bytes(page.encode(), name="bridge.txt")
    assert article.title == "Bridge reopens after the spring floods"
    assert article.body == [
        "The old stone bridge over the river reopened to traffic on Friday morning, "
        "the county engineers said. Lorries must still keep to one lane for a month."
    ]
