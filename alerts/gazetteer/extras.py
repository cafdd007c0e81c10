"""Aliases the catalogues lack: everyday country names, older spellings, regional nicknames.

pycountry gives official names ("Russian Federation") and translated subdivision names;
GeoNames gives city spellings. What news actually writes ("Russia", "the U.S.", "Kharkov
Oblast", "Донбас" is left out on purpose: it is no ISO subdivision) is added here, keyed by
ISO code. Acronyms (all capitals) only match when the text writes them in capitals too.
"""

from __future__ import annotations

COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "RU": ("Russia", "Россия", "Росія", "Rossiya", "Rosja"),
    "UA": ("Ukraine", "Україна", "Украина", "Ukraina"),
    "BY": ("Belarus", "Byelorussia", "Belorussia", "Беларусь", "Білорусь", "Белоруссия"),
    "MD": ("Moldova", "Молдова", "Молдавия"),
    "US": ("United States", "United States of America", "US", "U.S.", "USA", "U.S.A.", "США"),
    "GB": ("United Kingdom", "UK", "U.K.", "Britain", "Great Britain"),
    "KR": ("South Korea",),
    "KP": ("North Korea",),
    "IR": ("Iran",),
    "SY": ("Syria",),
    "TW": ("Taiwan",),
    "VN": ("Vietnam",),
    "LA": ("Laos",),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "TZ": ("Tanzania",),
    "CZ": ("Czech Republic", "Czechia"),
    "TR": ("Turkey", "Türkiye", "Турция", "Туреччина"),
    "AE": ("UAE", "United Arab Emirates"),
    "CD": ("DR Congo", "Democratic Republic of the Congo", "DRC"),
    "CI": ("Ivory Coast",),
    "PS": ("Palestine", "Gaza Strip", "West Bank"),
    "VA": ("Vatican",),
    "NL": ("Netherlands", "Holland"),
    "MK": ("North Macedonia", "Macedonia"),
    "GE": ("Georgia", "Грузия", "Грузія", "Sakartvelo"),
}

SUBDIVISION_ALIASES: dict[str, tuple[str, ...]] = {
    "UA-05": ("Vinnytsya Oblast", "Vinnitsa Oblast", "Винничина"),
    "UA-07": ("Volhynia", "Volyn", "Volynia", "Волинь", "Волынь"),
    "UA-09": ("Lugansk Oblast", "Луганщина", "Luhanshchyna"),
    "UA-12": ("Dnepropetrovsk Oblast", "Dnipro Oblast", "Дніпропетровщина", "Dnipropetrovshchyna"),
    "UA-14": ("Донеччина", "Donechchyna"),
    "UA-18": ("Житомирщина",),
    "UA-21": ("Transcarpathia", "Zakarpattya", "Закарпаття", "Закарпатье"),
    "UA-23": (
        "Zaporizhia Oblast",
        "Zaporozhye Oblast",
        "Запоріжжя область",
        "Запоріжжя",
        "Запорожская область",
    ),
    "UA-26": ("Прикарпаття", "Івано-Франківщина", "Ивано-Франковщина"),
    "UA-30": ("Kyiv City", "Kiev City", "Київ", "Киев"),
    "UA-32": ("Kiev Oblast", "Київщина", "Kyivshchyna"),
    "UA-35": ("Kirovograd Oblast", "Кіровоградщина"),
    "UA-43": ("Crimea", "Crimean Peninsula", "Krym", "Крим", "Крым", "Republic of Crimea"),
    "UA-46": ("Lvov Oblast", "Львівщина"),
    "UA-48": ("Nikolaev Oblast", "Mykolayiv Oblast", "Миколаївщина"),
    "UA-51": ("Odessa Oblast", "Одещина"),
    "UA-53": ("Полтавщина",),
    "UA-56": ("Rovno Oblast", "Рівненщина"),
    "UA-59": ("Сумщина", "Sumshchyna"),
    "UA-61": ("Тернопільщина",),
    "UA-63": ("Kharkov Oblast", "Харківщина", "Харьковщина", "Kharkivshchyna"),
    "UA-65": ("Херсонщина", "Khersonshchyna"),
    "UA-68": ("Khmelnytsky Oblast", "Хмельниччина"),
    "UA-71": ("Cherkassy Oblast", "Черкащина"),
    "UA-74": ("Chernigov Oblast", "Чернігівщина"),
    "UA-77": ("Chernovtsy Oblast", "Буковина", "Bukovina", "Чернівеччина"),
    "RU-BEL": ("Белгородчина", "Бєлгородщина", "Belgorodshchina"),
    "RU-KRS": ("Курщина", "Курская обл"),
    "RU-BRY": ("Брянщина",),
    "RU-VOR": ("Воронежчина", "Воронежщина"),
    "RU-CE": ("Chechen Republic", "Чечня", "Чечня Республика", "Ичкерия"),
    "RU-MOW": ("Москва",),
    "RU-SPE": ("St. Petersburg", "St Petersburg", "Санкт-Петербург", "Petersburg"),
    "RU-SA": ("Yakutia",),
    "RU-ROS": ("Ростовская область",),
    "BY-HM": ("Minsk City",),
    "GE-AB": ("Абхазия", "Абхазія"),
    "GE-SK": ("South Ossetia", "Южная Осетия", "Південна Осетія", "Tskhinvali Region"),
    "MD-SN": ("Pridnestrovie", "Приднестровье", "Придністров'я", "Transdniestria"),
}

# Historic and foreign names that news still writes, given as main names: GeoNames has most as
# alternate spellings, which give way to another place's main name ("Odessa", Texas).
CITY_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("UA", "Odesa"): ("Odessa", "Одесса"),
    ("UA", "Kyiv"): ("Kiev",),
    ("UA", "Kharkiv"): ("Kharkov",),
    ("UA", "Dnipro"): ("Dnepropetrovsk", "Dnipropetrovsk", "Днепропетровск"),
    ("UA", "Mykolayiv"): ("Nikolaev", "Nikolayev", "Mykolaiv"),
    ("UA", "Ivano-Frankivsk"): ("Stanislav", "Stanislau", "Станиславов", "Станіслав"),
    ("UA", "Lviv"): ("Lvov", "Lemberg", "Lwów"),
    ("RU", "Kaliningrad"): ("Königsberg", "Koenigsberg", "Кёнигсберг"),
    ("RU", "Saint Petersburg"): ("Leningrad", "Petrograd", "Ленинград"),
    ("RU", "Volgograd"): ("Stalingrad", "Сталинград"),
    ("RU", "Yekaterinburg"): ("Sverdlovsk",),
    ("RU", "Nizhniy Novgorod"): ("Gorky", "Горький"),
    ("IN", "Mumbai"): ("Bombay",),
    ("IN", "Chennai"): ("Madras",),
    ("IN", "Kolkata"): ("Calcutta",),
    ("IN", "Kochi"): ("Cochin",),
    ("CN", "Beijing"): ("Peking",),
    ("PL", "Gdańsk"): ("Danzig",),
    ("PL", "Wrocław"): ("Breslau",),
    ("PL", "Szczecin"): ("Stettin",),
    ("KZ", "Almaty"): ("Alma-Ata",),
}

# English words that name a subdivision's kind: "Belgorod Oblast" is also written
# "Belgorod Region" or "Belgorod Province".
KIND_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Oblast": ("Region", "Province"),
    "Region": ("Oblast", "Province"),
    "Krai": ("Region", "Territory", "Kray"),
    "Voivodeship": ("Province", "Region"),
    "County": ("Region",),
}
