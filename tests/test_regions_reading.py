"""How names in a sentence are read: declension, the text's language, quotes, compounds."""

from __future__ import annotations

import pytest

from alerts.gazetteer.text import (
    FORM_A,
    FORM_CONSONANT,
    FORM_IA,
    ending,
    fits,
    form,
    spelling,
)
from alerts.regions import Gazetteer


def codes(gazetteer: Gazetteer, sentence: str) -> set[str]:
    return {code for m in gazetteer.find(sentence) for code in m.place.chain}


@pytest.mark.parametrize(
    ("sentence", "inside", "outside"),
    [
        # A case ending rules out a namesake of another declension.
        ("Выставка ремёсел открылась в Болгаре на Волге.", "RU-TA", "BG"),
        ("Делегация из Болгарии прибыла в Казань.", "BG", None),
        ("Таможенники в Печорах нашли тайник с деньгами.", "RU-PSK", None),
        # A text that writes "ы" means the name that writes it: Myshkin, not Mishkino.
        ("Туристы в Мышкине осмотрели старую часовню.", "RU-YAR", "RU-KGN"),
        # Short names keep their case forms.
        ("Рейс из Уфы задержали на два часа.", "RU-BA", None),
        ("Матч в Уфе перенесли из-за снегопада.", "RU-BA", None),
        # The text's language leans to the towns of the countries that write it.
        ("Біля Сіверська знову чути вибухи.", "UA-14", "RU-LEN"),
        ("В станице Тамань открыли новый музей.", "RU-KDA", "JP"),
        # Subdivisions in Russian and Ukrainian, and an oblast by its adjective.
        ("Ураган обрушился на побережье штата Техас.", "US-TX", None),
        ("Житомирські лікарі провели складну операцію.", "UA-18", None),
        # ... even where a village elsewhere shares the adjective's stem (Zaporizke, UA-12).
        ("Запорізька АЕС знову втратила зовнішнє живлення.", "UA-23", "UA-12"),
        # A town of the text's own countries over a foreign region of the same name.
        ("В Кеми отремонтировали причал для теплоходов.", "RU-KR", "CF"),
        # A city's people, written in lower case.
        ("На перебои с водой пожаловались белгородцы.", "RU-BEL", None),
        ("Вночі кияни знову ховалися в метро.", "UA-30", None),
        # The lower-case adjective of a city with a code of its own is the city's, not the
        # oblast's around it; the oblast needs its word.
        ("Ремонт київського метро знову затягується.", "UA-30", "UA-32"),
        ("Цены в московских кафе выросли за год.", "RU-MOW", "RU-MOS"),
        ("Урожай у Київській області зібрали раніше.", "UA-32", "UA-30"),
        ("У херсонцев снова нет воды.", "UA-65", None),
        # Quoted names and the adjective before them are a team's or a firm's.
        ("Одесский «Черноморец» сыграл вничью в Ровно.", "UA-56", "UA-51"),
        ("Компания «Харьков-Авто» открыла салон в Полтаве.", "UA-53", "UA-63"),
        # A possessive place is a place, whatever noun follows.
        ("Perth's river cruises were cancelled because of the storm.", "AU-WA", None),
        # A subdivision scores by its people, not above a large city of the name.
        ("Reno's mayor opened the new convention centre.", "US-NV", "NI"),
        # Of two hyphenated names the second says where; the first is part of a name.
        ("Flights from Paris-Beauvais were cancelled in the fog.", "FR-HDF", "FR-IDF"),
        # A station, gate or street named after another city.
        ("Trains from Gare de Lyon were delayed by a strike.", None, "FR-ARA"),
        ("The Chicago Bulls signed a new point guard.", None, "US-IL"),
        ("Real Madrid agreed a fee for the winger.", None, "ES-MD"),
        ("The Washington Post published the leaked memo.", None, "US-DC"),
        ("Texas senators voted against the measure.", "US-TX", None),
        ("Air Canada cancelled its morning flights.", None, "CA"),
        ("A Chicago-style pizza shop opened downtown.", None, "US-IL"),
        ("Texas Instruments reported higher chip sales.", None, "US-TX"),
        ("Bayern Munich signed a striker from Leipzig.", "DE-SN", "DE-BY"),
        ("Динамо Київ поступилося у Львові.", "UA-46", "UA-30"),
        # A romanised place adjective before "station" is the station's name, not where it is.
        ("Smoke closed Kharkivska metro station in Kyiv.", "UA-30", "UA-63"),
        # A station or airport named after one place and said to be in another.
        ("Trains at Kursk railway station in Moscow were delayed.", "RU-MOW", "RU-KRS"),
        ("A runway at Washington Dulles airport in Virginia closed.", "US-VA", "US-DC"),
        ("Crowds met the train at Kursk station on Sunday.", "RU-KRS", None),
        ("Lenin spoke at the Finland Station on his return.", None, "FI"),
        # A city's own station, named "<city> <name>", is in that city.
        ("Queues formed at Kraków Płaszów station after the storm.", "PL-12", None),
        # Treaties, formats and syndromes named after the city they were signed or seen in.
        ("Minsk agreements were never carried out, officials in Kyiv said.", "UA-30", "BY"),
        ("Минские соглашения обсудили в Берлине.", "DE-BE", "BY"),
        ("Experts call it Stockholm syndrome.", None, "SE"),
        # Dishes named after places.
        ("The cafe in Lyon added Madras curry and Cheddar cheese toasties.", "FR-ARA", "IN-TN"),
        ("Адыгейский сыр подорожал в магазинах Ростова.", "RU-ROS", "RU-AD"),
        # A place-named surname after a given name is a person.
        ("A portrait of Hermann Hesse hangs in the library.", None, "DE-HE"),
        # Historic names still written in the news.
        ("The old maps of Tiflis show the river crossing.", "GE", None),
        ("Travellers to Persia crossed the desert by caravan.", "IR", None),
        ("The steel works of Dneprodzerzhinsk were modernised in 1975.", "UA-12", None),
        ("Old Siam traded rice and teak with its neighbours.", "TH", None),
        ("A tram depot in Vinnitsa reopened after repairs.", "UA-05", "RU-LEN"),
        # A clear reading lends its context to an ambiguous one.
        ("Georgia's lawmakers met in Atlanta on Monday.", "US-GA", "GE"),
    ],
)
def test_sentence_reading(
    gazetteer: Gazetteer, sentence: str, inside: str | None, outside: str | None
) -> None:
    found = codes(gazetteer, sentence)
    if inside is not None:
        assert inside in found, (sentence, found)
    if outside is not None:
        assert outside not in found, (sentence, found)


def test_declension_classes_and_endings() -> None:
    assert form("Болгария") == FORM_IA and form("Уфа") == FORM_A
    assert form("Мышкин") == FORM_CONSONANT and form("Reno") not in (FORM_A, FORM_IA)
    assert ending("Болгаре") == "е" and ending("Уфе") == "е" and ending("Харків") == "-"
    assert not fits(FORM_IA, ending("Болгаре")) and fits(FORM_IA, ending("Болгарии"))
    assert fits(FORM_CONSONANT, ending("Харкові")) and not fits(FORM_A, ending("Печорах"))


def test_spelling_tells_the_stems_that_write_yery_apart() -> None:
    assert spelling("Мышкине") == spelling("Мышкин") != spelling("Мишкино")
    assert spelling("Мишкине") == spelling("Мишкино")  # the ending does not count
    assert spelling("Тынды") == spelling("Тында") != spelling("Тинда")
    assert spelling("Myshkin") == 0 and spelling("") == 0


def test_explain_names_the_reason_a_name_was_set_aside(gazetteer: Gazetteer) -> None:
    explained = gazetteer.explain("Flights from Paris-Beauvais were cancelled.")
    paris = next(e for e in explained if e.text == "Paris")
    assert paris.place is None and "hyphenated" in paris.why
    beauvais = next(e for e in explained if e.text == "Beauvais")
    assert beauvais.place is not None and "FR-HDF" in beauvais.place.chain
