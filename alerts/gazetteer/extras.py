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
    "CI": ("Ivory Coast",),
    "PS": ("Palestine", "Gaza Strip", "West Bank"),
    "VA": ("Vatican",),
    "NL": ("Netherlands", "Holland"),
    "MK": ("North Macedonia", "Macedonia"),
    "GE": ("Georgia", "Грузия", "Грузія", "Sakartvelo"),
    "LK": ("Sri Lanka", "Ceylon", "Цейлон"),
    "MM": ("Myanmar", "Burma", "Бирма"),
    "CD": ("DR Congo", "Democratic Republic of the Congo", "DRC", "Zaire"),
    # Former names that history and travel writing still use.
    "IR": ("Iran", "Persia", "Персия", "Персія"),
    "TH": ("Thailand", "Siam", "Сиам"),
    "ZW": ("Zimbabwe", "Rhodesia", "Southern Rhodesia", "Родезия"),
    "ZM": ("Zambia", "Northern Rhodesia"),
    "KG": ("Kyrgyzstan", "Kirghizia", "Kirgizia", "Киргизия"),
    "BJ": ("Benin", "Dahomey"),
    "BW": ("Botswana", "Bechuanaland"),
    "BF": ("Burkina Faso", "Upper Volta"),
    "ET": ("Ethiopia", "Abyssinia", "Абиссиния"),
    "KH": ("Cambodia", "Kampuchea"),
    "SZ": ("Eswatini", "Swaziland"),
    "TL": ("Timor-Leste", "East Timor"),
}

# A city that is a subdivision of its own, beside the oblast that bears its name: the lower-case
# adjective ("московских столовых", "київського метро") speaks of the city; the oblast takes
# its word ("Московская область") when it is meant.
CITY_OF_OBLAST_ADJECTIVE: dict[str, str] = {"RU-MOS": "RU-MOW", "UA-32": "UA-30"}

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
    ("UA", "Dnipro"): (
        "Dnepropetrovsk",
        "Dnipropetrovsk",
        "Днепропетровск",
        "Yekaterinoslav",
        "Ekaterinoslav",
        "Екатеринослав",
    ),
    ("UA", "Kamyanske"): ("Dneprodzerzhinsk", "Dniprodzerzhynsk", "Днепродзержинск"),
    ("UA", "Chornomors’k"): ("Ilyichevsk", "Illichivsk", "Ильичёвск", "Ильичевск"),
    ("UA", "Lyman"): ("Krasny Liman", "Krasnyi Lyman", "Красный Лиман", "Красний Лиман"),
    ("CN", "Wuhan"): ("Hankow", "Hankou"),
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
    ("KZ", "Astana"): ("Tselinograd", "Akmola", "Akmolinsk", "Целиноград", "Акмола"),
    ("GE", "Tbilisi"): ("Tiflis", "Тифлис"),
    ("UA", "Khmelnytskyi"): ("Khmelnitsky", "Khmelnitskiy", "Proskurov", "Хмельницкий"),
    ("UA", "Yenakiyeve"): ("Yenakievo", "Enakievo", "Yenakiieve", "Енакиево", "Єнакієве"),
    ("UA", "Kamyanets-Podilskyi"): (
        "Kamianets-Podilskyi",
        "Kamenets-Podolsky",
        "Kamenets-Podolskiy",
        "Каменец-Подольский",
    ),
    ("UA", "Kryvyy Rih"): ("Kryvyi Rih", "Krivoy Rog", "Krivoi Rog", "Кривой Рог"),
    ("UA", "Zaporizhzhya"): ("Zaporizhzhia", "Zaporozhye", "Zaporozhe", "Запорожье"),
    ("UA", "Kropyvnytskyi"): ("Kirovohrad", "Kirovograd", "Yelisavetgrad", "Кировоград"),
    ("UA", "Luhansk"): ("Lugansk", "Voroshilovgrad", "Луганск", "Ворошиловград"),
    ("UA", "Donetsk"): ("Stalino", "Yuzovka", "Hughesovka"),
    ("UA", "Mariupol"): ("Zhdanov", "Жданов"),
    ("TR", "İstanbul"): ("Constantinople", "Константинополь"),
    ("VN", "Ho Chi Minh City"): ("Saigon",),
    ("MM", "Yangon"): ("Rangoon",),
    ("SK", "Bratislava"): ("Pressburg", "Pozsony"),
    ("HR", "Zagreb"): ("Agram",),
    ("SI", "Ljubljana"): ("Laibach",),
    ("EE", "Tallinn"): ("Reval",),
    ("EE", "Tartu"): ("Dorpat",),
    ("LT", "Klaipėda"): ("Memel",),
    ("KG", "Bishkek"): ("Frunze", "Фрунзе"),
    ("RU", "Samara"): ("Kuibyshev", "Kuybyshev", "Куйбышев"),
    ("UA", "Vinnytsya"): ("Vinnytsia", "Vinnitsa"),
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

# What Russian and Ukrainian news calls a city's people ("белгородцы пожаловались", "кияни
# вийшли"): written in lower case, they still say where. Genitive plurals in -ев/-ів are
# listed too, since the stemmer leaves that ending on (it is part of Киев and Львів).
CITY_DEMONYMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("UA", "Kyiv"): ("Киевляне", "Кияни"),
    ("UA", "Kharkiv"): ("Харьковчане", "Харків’яни", "Харків'яни"),
    ("UA", "Odesa"): ("Одесситы", "Одеситы", "Одесити"),
    ("UA", "Lviv"): ("Львовяне", "Львів’яни", "Львів'яни"),
    ("UA", "Dnipro"): ("Днепряне", "Дніпряни"),
    ("UA", "Zaporizhzhya"): ("Запорожцы", "Запорожцев", "Запоріжці", "Запоріжців"),
    ("UA", "Mykolayiv"): ("Николаевцы", "Николаевцев", "Миколаївці", "Миколаївців"),
    ("UA", "Kherson"): ("Херсонцы", "Херсонцев", "Херсонці", "Херсонців"),
    ("UA", "Donetsk"): ("Дончане", "Донеччани"),
    ("UA", "Luhansk"): ("Луганчане", "Луганчани"),
    ("UA", "Mariupol"): ("Мариупольцы", "Мариупольцев", "Маріупольці", "Маріупольців"),
    ("UA", "Sumy"): ("Сумчане", "Сумчани"),
    ("UA", "Chernihiv"): ("Черниговцы", "Черниговцев", "Чернігівці", "Чернігівців"),
    ("UA", "Poltava"): ("Полтавчане", "Полтавці", "Полтавців"),
    ("UA", "Zhytomyr"): ("Житомиряне", "Житомиряни"),
    ("UA", "Vinnytsya"): ("Винничане", "Вінничани"),
    ("UA", "Sevastopol"): ("Севастопольцы", "Севастопольцев", "Севастопольці"),
    ("RU", "Moscow"): ("Москвичи", "Москвичей", "Москвичі"),
    ("RU", "Saint Petersburg"): ("Петербуржцы", "Петербуржцев", "Петербуржці"),
    ("RU", "Belgorod"): ("Белгородцы", "Белгородцев", "Бєлгородці", "Бєлгородців"),
    ("RU", "Kursk"): ("Куряне", "Куряни"),
    ("RU", "Bryansk"): ("Брянцы", "Брянцев", "Брянці"),
    ("RU", "Voronezh"): ("Воронежцы", "Воронежцев", "Воронежці"),
    ("RU", "Rostov-on-Don"): ("Ростовчане", "Ростовчани"),
    ("RU", "Krasnodar"): ("Краснодарцы", "Краснодарцев", "Краснодарці"),
    ("BY", "Minsk"): ("Минчане", "Мінчани"),
}

# ISO 3166-2 codes withdrawn by a plain renaming, which rules written before still use: Poland
# numbered its voivodeships in 2018 (PL-DS, Lower Silesia, is now PL-02). Codes withdrawn by a
# merger (France's regions of 2016) are left out: the new region is wider than the old one.
FORMER_CODES: dict[str, str] = {
    "PL-DS": "PL-02", "PL-KP": "PL-04", "PL-LU": "PL-06", "PL-LB": "PL-08",
    "PL-LD": "PL-10", "PL-MA": "PL-12", "PL-MZ": "PL-14", "PL-OP": "PL-16",
    "PL-PK": "PL-18", "PL-PD": "PL-20", "PL-PM": "PL-22", "PL-SL": "PL-24",
    "PL-SK": "PL-26", "PL-WN": "PL-28", "PL-WP": "PL-30", "PL-ZP": "PL-32",
}  # fmt: skip
