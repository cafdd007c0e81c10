"""Word lists that keep ordinary words, people and named things from counting as places.

All entries are compared after :func:`alerts.gazetteer.text.stem`, so they are written in
plain lower case; Cyrillic entries are stemmed the same way when the module is imported.
"""

from __future__ import annotations

from alerts.gazetteer.text import stem


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in text.split())


def _as_written(text: str) -> frozenset[str]:
    return frozenset(text.split())


# GeoNames alternate names that are everyday English words (and so start many sentences and
# every word of a title-case headline). A name in this list never becomes an alias, unless it
# is the main name of a country or subdivision.
DENYLIST = _stems(
    """a an the and or but of to in on at by for from with as is it its be was were are been
    this that these those there here then than so not no yes all any each every some many
    much more most less least few other another such same own only just also very too now
    new old big small great little long short high low good bad best better last first next
    early late young free open close near far north south east west northern southern eastern
    western central upper lower middle centre center city town village port bay lake river
    sea ocean island islands mount mountain hill hills valley field fields park garden
    gardens bridge bank banks hit along over under after before about above below between
    into out up down off again still even ever never always often once twice today tomorrow
    yesterday day night morning evening week month year time times people man men woman women
    child children home house houses hall church school college university station airport
    road street square market store shop office court police army navy force forces war peace
    attack strike strikes fire rain snow sun star moon gold silver iron stone rock sand wood
    water glass paper money power energy oil gas coal salt sugar bread wine beer tea coffee
    milk honey rice corn red blue green white black brown yellow orange pink grey gray dark
    light bright fair fine nice kind hope faith grace joy love victory liberty union unity
    independence republic state states nation national federal royal general major colonial
    president minister mayor governor king queen prince princess lord lady saint mission
    camp fort castle tower gate wall walls cross corner end side center point rest mobile
    reading split bath eagle buy sale deal rich poor split why how what who when where which
    whose while may june july august march april january february september october
    november december monday tuesday wednesday thursday friday saturday sunday spring summer
    autumn winter christmas easter one two three four five six seven eight nine ten hundred
    thousand million billion news press media report said says told state region oblast
    province district area zone border front line lines fleet brigade regiment division
    battalion unit units plant factory mine mines base bases embassy ministry government
    parliament council committee agency service services company group team club party
    media online live video photo photos update updates breaking latest opinion analysis
    comment author editor read more share follow subscribe login sign menu search home page
    alert alerts watch warning shelling drone drones missile missiles troops soldiers
    ukrainian russian american british european africa asia europe america
    он она оно они мы вы ты я он його її их мир так как при для под над бор сад лес поле
    море гора река город село вин вона воно вони ми ви ти мир поле ліс гора річка місто
    село новости новини война війна армия армія армии победа перемога свобода воля
    музей музеи"""
)

# Words after a place that keep it a place even though they start with a capital letter.
CONTINUATIONS = _stems(
    """oblast oblasts region regional province provincial krai kray okrug republic district
    raion rayon county municipality municipal city governor mayor council administration
    airport station nuclear military police prosecutor court metro railway thermal power
    hydroelectric dam bridge port harbour harbor bay direction axis sector front offensive
    operation incursion border people s residents authorities officials region's
    voivodeship area state gare"""
)

# Words right after a place that make it the name of something else: a ship, a unit, a team.
NAMED_AFTER = _stems(
    """submarine cruiser frigate warship ship vessel destroyer corvette tanker icebreaker
    carrier boat yacht ferry flagship brigade battalion regiment division fleet flotilla
    squadron corps river lake street avenue boulevard road highway hotel fc club team
    subdivision sub duck mustard times sprouts pudding cheesecake cheesesteak wings ham
    sausage steak roll fried chowder fc cheese sauce pie cake tart salad noodles curry
    sandwich kebab pasty stew rarebit biryani
    agreement agreements accord accords protocol memorandum treaty declaration format syndrome
    соглашение соглашения соглашений меморандум конвенция протокол договор формат синдром
    угода угоди угод конвенція договір
    торт котлета котлеты котлети салат колбаса ковбаса пряник пряники галушки галушок
    вареники пельмени сало сырок сирок халва зефир хлеб хліб сыр сир соус пирог пиріг суп
    шоколад
    подлодка подводная лодка крейсер фрегат корабль судно эсминец танкер ледокол катер
    флагман бригада батальон полк дивизия флот улица проспект вокзал шоссе площадь
    підводний човен корабель есмінець батальйон дивізія вулиця шосе площа"""
)

# Words shortly before a place (up to three words back) that make it a named thing:
# "the cruiser Moskva", "submarine Kursk", "Shakhtar Donetsk".
NAMED_BEFORE = _stems(
    """submarine cruiser frigate warship ship vessel destroyer corvette tanker icebreaker
    carrier flagship sub dynamo dinamo shakhtar spartak zenit lokomotiv metalist zorya cska
    hms uss chicken
    динамо шахтар шахтёр шахтер спартак зенит зеніт локомотив металіст металлист зоря заря
    цска ворскла карпати карпаты рубин ахмат арсенал чорноморець черноморец
    подлодка подводная лодка крейсер фрегат корабль судно эсминец танкер ледокол катер
    флагман апл підводний човен корабель есмінець"""
)

# Capitalised words right after a place that make it a team's, a newspaper's or a firm's
# name: "Chicago Bulls", "Manchester United", "Washington Post", "Texas Instruments". Several
# are ordinary words ("Texas senators"), so only a capitalised one counts.
TEAM_AFTER = _stems(
    """post tribune globe herald gazette telegraph independent journal chronicle examiner
    observer courier inquirer airlines airways instruments philharmonic symphony orchestra
    ballet motors petroleum pharmaceuticals"""
) | _stems(
    """giants jets knicks yankees mets dodgers lakers celtics bulls bears patriots cowboys
    packers steelers raiders broncos chiefs seahawks warriors rockets spurs heat magic nets
    suns jazz kings clippers pistons cavaliers hawks hornets pelicans grizzlies thunder
    nuggets timberwolves blazers mavericks bucks pacers raptors wizards bills dolphins ravens
    bengals browns texans colts jaguars titans chargers commanders eagles lions vikings
    falcons panthers saints buccaneers cardinals rams orioles rays guardians tigers royals
    twins astros angels mariners braves marlins phillies nationals cubs reds brewers pirates
    diamondbacks rockies padres bruins sabres canadiens senators lightning hurricanes devils
    islanders flyers penguins capitals blackhawks avalanche stars predators blues flames
    oilers canucks sharks kraken united city town rovers wanderers athletic albion county
    hotspur olympic"""
)

# Capitalised words right before a place that make it a club's or an airline's name: "Real
# Madrid", "Inter Milan", "AC Milan", "Borussia Dortmund", "Air Canada".
TEAM_BEFORE = _stems(
    """real inter ac as ss fc sc sv vfb vfl rb borussia eintracht hertha werder fortuna
    olympique sporting racing deportivo atletico atlético athletic union hapoel maccabi
    partizan legia slavia sparta dinamo dynamo air bayern steaua sheriff sunrisers
    challengers"""
)

# A place after one of these and "de" ("Gare de Lyon", "Porte de Versailles", "Calle de
# Alcalá") names a station, gate or street elsewhere.
NAMED_BEFORE_OF = _stems("gare rue place avenue boulevard pont porte quai calle avenida via")
OF_WORDS = _stems("de du des di del da la")

# Given names that are also places; before a place ("Michael Jordan") they mark a person.
GIVEN_NAMES = _stems(
    """michael james john robert david william richard thomas mary jennifer linda elizabeth
    susan jessica sarah karen nancy lisa betty margaret sandra ashley emily donna michelle
    george paul mark donald steven kevin brian jason jeffrey ryan jacob gary nicholas eric
    kate anna olena oleksandr volodymyr vladimir dmitry dmytro andriy andrei sergei serhiy
    yulia iryna petro mykola viktor ivan alex jack harry sam tom ben bill joe jordan paris
    denzel whitney kirsten tom peter charles joseph daniel matthew anthony christopher
    andrew joshua samuel henry edward frank oliver lucas maria laura emma olivia sophie
    hermann heinrich friedrich wilhelm johann karl hans klaus jurgen günter gunter werner
    wolfgang helmut angela ursula franz ludwig otto fritz gerhard dieter manfred stefan
    pierre jean jacques michel philippe francois françois louis henri marcel emmanuel
    nicolas sebastien sébastien julien antoine claude bernard yves marie isabelle catherine
    juan jose josé carlos luis miguel pedro pablo diego javier antonio manuel francisco
    fernando alejandro rafael sergio jorge ricardo eduardo gabriel carmen lucia lucía
    giuseppe giovanni marco luca matteo lorenzo alessandro francesco andrea paolo silvio
    sergio mario luigi roberto giorgio enzo salvatore
    jan piotr krzysztof tomasz andrzej pawel paweł marek michal michał wojciech lech
    donald hillary barack bernie nancy kamala joe jill elon jeff steve tim mike chris
    greg scott patrick sean kyle tyler brandon justin aaron adam nathan zachary ethan
    noah liam mason logan owen caleb dylan luke isaac evan ian colin neil keith craig
    wayne dennis larry jerry terry gerald harold arthur albert walter ralph roger louis
    alan ronald kenneth anthony jimmy johnny billy bobby danny eddie freddie frankie
    amy rachel rebecca hannah megan lauren natalie emily jessica stephanie nicole
    heather amanda melissa deborah dorothy helen ruth sharon cynthia kathleen shirley
    angela brenda pamela janet diane julie joyce virginia judy christine theresa
    marilyn martha frances ann anne jane rose grace alice julia diana kelly janice
    whitney kirsten britney beyonce taylor selena ariana miley oprah meryl
    иван пётр петр алексей александр сергей дмитрий андрей михаил николай владимир
    виктор юрий олег игорь евгений максим павел анна мария елена ольга наталья татьяна
    ирина светлана екатерина юлия
    іван петро олексій олександр сергій дмитро андрій михайло микола володимир віктор
    юрій олег ігор євген максим павло ганна марія олена ольга наталія тетяна ірина
    світлана катерина юлія оксана богдан тарас"""
)

# Words after a romanised place adjective that make it a station's name: "Kharkivska metro
# station" is in Kyiv, "Warszawa Gdańska station" in Warsaw.
STATION_AFTER = _stems("station metro railway terminal halt")
# "Kursk station in Moscow", "Washington Dulles airport in Virginia": a station or airport
# named after one place, said to lie in another; up to two words may come between the name
# and the kind ("railway", "metro", "bus").
STATION_KINDS = _stems("station terminal airport")
# Russian and Ukrainian name a station after the word: "станції метро Харківська" (in Kyiv),
# "на станции метро Киевская" (in Moscow). Only an adjective is a station's name there; a
# noun ("метро Києва") says whose metro it is.
STATION_BEFORE = _stems("метро станция станцией станція станцією")
IN_WORDS = _stems("in at near outside")

# Words just before a city that make the city a named thing in English ("the Kursk").
ARTICLES = frozenset({"the"})

# Russian and Ukrainian function words (prepositions, conjunctions, pronouns, particles,
# forms of "to be") and the commonest sentence adverbs, compared as written, in lower case.
# Capitalised at the start of a sentence their stems meet places abroad ("Крім того" is not
# Crimea, "Того же дня" not Togo, "Біля" not Belaya, "Було" not Bulle); no place is called
# by one of them.
FUNCTION_WORDS = _as_written(
    """
    а або але ані аби адже би б бо бы в во вже уже ви вы від од для до же з за зі із из
    и і й к ко коло крім кроме ли лише лишь мимо на над о об от перед під под по при про проти
    против ради серед среди с со та також также теж тоже то у через чи щоб чтобы что що як как
    так тут там де где коли когда тоді тогда зараз сейчас нині ныне тепер теперь потім потом
    затем згодом позже пізніше раніше ранее проте однак однако втім впрочем тим тому поэтому
    итак отже ніж чем хоча хотя хоч хоть поки пока нехай пусть ведь невже неужели саме именно
    навіть даже майже почти більш более менш менее дуже очень часто рідко редко знову снова
    опять ніколи никогда іноді иногда завжди всегда якщо если либо біля возле около близько
    поблизу вздовж уздовж вдоль навколо вокруг всередині внутри навпроти напротив замість
    вместо завдяки благодаря згідно согласно всупереч вопреки крізь сквозь повз поверх поза
    вне слідом вслед без или тільки только потому лиш ще ещё
    я ти ты він вона воно ми вони он она оно мы они мене меня мені мне тебе тобі себе себя
    його него нього йому ему нему ним ньому нім її ее неї ей ній нею ними них їх их им ими
    нас нам вас вам мій мой моя моё моє мої мои твій твой наш наша наше наші наши ваш ваша
    ваше ваші ваши свій свой своя своє свое свої свои своих своїх сам сама само самі сами
    цей этот ця эта це это ці эти той тот те ті того этого цього этому цьому том этом
    тій цієї этой який яка яке які какой какая какое какие котрий котра котре котрі
    который которая которое которые которых котрих которым котрим хто кто чий чей весь
    вся все всё всі всех усіх кожен каждый інший другой
    є есть був була було були буде будуть бути был была было были будет будут быть
    """
)
