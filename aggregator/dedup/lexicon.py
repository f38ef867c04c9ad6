"""The small tables the story matcher needs that no library ships: what a reader knows.

Word rarity comes from ``wordfreq``, stems from Snowball (``PyStemmer``), text repair
from ``ftfy`` and name spellings from ``rapidfuzz``. What is left is here, kept short
and general (news English, not any one headline):

* PLACES: a country named by its name, adjective, capital, seat of power or parliament
  ("Warsaw", "Polish", "Poland" are one fact), and transliterations of places
  (Kiev/Kyiv, Kharkov/Kharkiv) whose spellings are too far apart for fuzzy matching;
* SHORT_FORMS: phrases written several ways (U.S./United States, NATO chief/Secretary
  General), folded into one token before tokenising;
* SYNONYMS: news verbs and nouns that outlets swap for one another (sacks/dismisses,
  shuts/closes, frontier/border): folded to one stem;
* the words that carry a fact a merge must not contradict: number words, ordinals,
  weekdays and months, currencies and their codes, time units (durations compare in hours),
  negations and denials, "again", and verbs of opposite development (approves/delays,
  charged/acquitted, rise/slip);
* LEADERS: surnames that stand for a country or an office in headlines (Sikorski: Poland,
  Rutte: NATO chief), which need upkeep as office holders change.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- places

# country key: (names, adjectives and demonyms, capital, other metonyms). The region
# this aggregator covers first, then the powers and neighbours its news names.
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "estonia": ("estonia", "estonian", "estonians", "tallinn", "riigikogu", "eesti"),
    "latvia": ("latvia", "latvian", "latvians", "riga", "saeima", "latvija"),
    "lithuania": ("lithuania", "lithuanian", "lithuanians", "vilnius", "seimas", "lietuva"),
    "poland": ("poland", "polish", "pole", "poles", "warsaw", "sejm"),
    "finland": ("finland", "finnish", "finn", "finns", "helsinki", "eduskunta"),
    "sweden": ("sweden", "swedish", "swede", "swedes", "stockholm", "riksdag"),
    "norway": ("norway", "norwegian", "norwegians", "oslo", "storting"),
    "denmark": ("denmark", "danish", "dane", "danes", "copenhagen", "folketing"),
    "germany": ("germany", "german", "germans", "berlin", "bundestag", "bundeswehr"),
    "france": ("france", "french", "paris", "elysee"),
    "uk": ("uk", "britain", "british", "britons", "london", "downing", "whitehall",
           "england", "english", "scotland", "wales"),
    "us": ("us", "usa", "america", "american", "americans", "washington", "pentagon"),
    "russia": ("russia", "russian", "russians", "moscow", "kremlin", "duma",
               "enemy"),  # Ukrainian outlets' word for Russia's forces ("Enemy drones hit Reni")
    "ukraine": ("ukraine", "ukrainian", "ukrainians", "kyiv", "kiev", "rada", "verkhovna"),
    "belarus": ("belarus", "belarusian", "belarusians", "minsk"),
    "hungary": ("hungary", "hungarian", "hungarians", "budapest"),
    "china": ("china", "chinese", "beijing"),
    "japan": ("japan", "japanese", "tokyo"),
    "moldova": ("moldova", "moldovan", "moldovans", "chisinau"),
    "netherlands": ("netherlands", "dutch", "amsterdam", "hague"),
    "belgium": ("belgium", "belgian"),
    "eu": ("eu", "brussels"),  # "Brussels seals deal": the EU's seat names it, as Washington the US
    "czechia": ("czechia", "czech", "prague"),
    "slovakia": ("slovakia", "slovak", "bratislava"),
    "romania": ("romania", "romanian", "bucharest"),
    "turkey": ("turkey", "turkish", "turkiye", "ankara"),
    "spain": ("spain", "spanish", "madrid"),
    "portugal": ("portugal", "portuguese", "lisbon"),
    "italy": ("italy", "italian", "rome"),
    "greece": ("greece", "greek", "athens"),
    "georgia": ("georgia", "georgian", "tbilisi"),
    "iran": ("iran", "iranian", "tehran"),
    "israel": ("israel", "israeli"),
    "korea": ("korea", "korean", "seoul"),  # the South; the North is folded first (SHORT_FORMS)
    "northkorea": ("northkorea", "pyongyang", "dprk"),
    "switzerland": ("switzerland", "swiss", "bern", "berne"),
    "austria": ("austria", "austrian", "vienna"),
    "ireland": ("ireland", "irish", "dublin"),
    "iceland": ("iceland", "icelandic", "reykjavik"),
    "serbia": ("serbia", "serbian", "belgrade"),
    "croatia": ("croatia", "croatian", "zagreb"),
    "bulgaria": ("bulgaria", "bulgarian", "sofia"),
    "armenia": ("armenia", "armenian", "yerevan"),
    "azerbaijan": ("azerbaijan", "azerbaijani", "baku"),
    "kazakhstan": ("kazakhstan", "kazakh", "astana"),
    "india": ("india", "indian", "delhi"),
    "syria": ("syria", "syrian", "damascus"),
    "iraq": ("iraq", "iraqi", "baghdad"),
    "egypt": ("egypt", "egyptian", "cairo"),
    "qatar": ("qatar", "qatari", "doha"),
    "saudi": ("saudi", "saudis", "riyadh"),
    "australia": ("australia", "australian", "canberra"),
    "brazil": ("brazil", "brazilian", "brasilia"),
    "mexico": ("mexico", "mexican"),
    "canada": ("canada", "canadian", "ottawa"),
}
# Ukrainian and Russian places in both transliterations (fuzzy matching misses these).
_PLACES: dict[str, tuple[str, ...]] = {
    "kharkiv": ("kharkiv", "kharkov"), "mykolaiv": ("mykolaiv", "nikolaev", "nikolayev"),
    "odesa": ("odesa", "odessa"), "zaporizhzhia": ("zaporizhzhia", "zaporizhia", "zaporozhye"),
    "lviv": ("lviv", "lvov"), "dnipro": ("dnipro", "dnepr", "dnipropetrovsk"),
    "chernihiv": ("chernihiv", "chernigov"), "luhansk": ("luhansk", "lugansk"),
    "rivne": ("rivne", "rovno"), "kupiansk": ("kupiansk", "kupyansk"),
    "crimea": ("crimea", "crimean", "kerch", "sevastopol", "krym"),
    "kostiantynivka": ("kostiantynivka", "konstantinovka", "kostyantynivka"),
    "sloviansk": ("sloviansk", "slovyansk", "slavyansk"), "bakhmut": ("bakhmut", "artemovsk", "artyomovsk"),
    "avdiivka": ("avdiivka", "avdeyevka", "avdeevka"), "vuhledar": ("vuhledar", "ugledar"),
    "huliaipole": ("huliaipole", "gulyaipole", "hulyaipole"), "horlivka": ("horlivka", "gorlovka"),
    "kryvyirih": ("kryvyi", "krivoy", "kryvyy"), "vinnytsia": ("vinnytsia", "vinnitsa", "vinnytsya"),
    "zhytomyr": ("zhytomyr", "zhitomir"), "kremenchuk": ("kremenchuk", "kremenchug"),
    "izium": ("izium", "izyum"), "vovchansk": ("vovchansk", "volchansk"),
    "sievierodonetsk": ("sievierodonetsk", "severodonetsk", "syevyerodonetsk"),
    "lysychansk": ("lysychansk", "lisichansk"), "chasivyar": ("chasiv", "chasov"),
    "pokrovsk": ("pokrovsk",), "kramatorsk": ("kramatorsk",), "kherson": ("kherson",), "sumy": ("sumy",),
    "poltava": ("poltava",), "mariupol": ("mariupol",), "hostomel": ("hostomel", "gostomel"),
}
ALIASES: dict[str, str] = {form: key for key, forms in (_COUNTRIES | _PLACES).items() for form in forms}
COUNTRY_KEYS = frozenset(_COUNTRIES)
# Regions and points of the compass: capitalised, but they name no one place or actor.
REGIONS = frozenset("baltic baltics nordic scandinavian european europe western eastern northern southern "
                    "central arctic atlantic pacific west east north south allied".split())

# Phrases folded into one token before tokenising (case-insensitive, whole words: "NATO
# headquarters" is no "NATO head", "percentage" no "percent").
SHORT_FORMS: tuple[tuple[str, str], ...] = (
    (r"u\.\s?s\.(?:\s?a\.)?", "us"), (r"united states(?: of america)?", "us"), (r"u\.\s?k\.", "uk"),
    (r"united kingdom|great britain", "uk"), (r"white house", "us"), (r"european union", "eu"),
    (r"european commission", "eu commission"), (r"north atlantic treaty organi[sz]ation", "nato"),
    (r"(?:nato|alliance'?s?) (?:secretary[- ]general|chief|boss|head|leader)|secretary[- ]general "
     r"of nato", "nato chief"),
    (r"secretary[- ]general", "nato chief"),  # in this corpus, nearly always NATO's
    (r"prime minister|premier", "pm"), (r"defen[cs]e (?:minister|secretary)", "defminister"),
    (r"foreign (?:minister|secretary)|(?:top|chief) diplomat|fm", "forminister"),
    (r"rule[sd]? out|ruling out", "refuses"),
    (r"sign(?:s|ed)? off on|sign(?:s|ed)? off|give[sn]? (?:the )?green light to|gave (?:the )?green light to",
     "approves"), (r"fail(?:s|ed)? to", "not to"),  # not "failed a test"
    (r"black hawks?", "blackhawk"), (r"no plans? to|no intention to", "not plan to"), (r"(?:us |u\.s\. )?state department", "us"), (r"european central bank", "ecb"),
    (r"central bank", "centralbank"), (r"bank of england", "boe"), (r"air force", "airforce"),
    (r"air defen[cs]es?", "airdefence"), (r"per ?cent|percent|pct\b", "%"),
    (r"persona non grata", "expel"), (r"ordered (?:out|to leave)|orders? out|told to leave", "expel"),
    (r"shadow fleet", "shadowfleet"),
    (r"ukraine'?s security service|security service of ukraine|ukrainian security service", "ukraine sbu"), (r"north korean?s?|n\. ?korean?s?", "northkorea"),
    (r"q1", "first quarter"), (r"q2", "second quarter"), (r"q3", "third quarter"), (r"q4", "fourth quarter"),
    (r"(?:top|army|military) (?:general|commander)|commander[- ]in[- ]chief|chief of (?:the )?general staff",
     "armychief"), (r"euro[ -]?zone|euro area", "eurozone"),
    (r"(?:un |united nations )?(?:atomic|nuclear) (?:energy )?watchdog|international atomic energy agency", "iaea"),
    (r"charg[ée]s? d'affaires", "envoy"),
    # Institutions named in full or by their initials.
    (r"international criminal court", "icc"), (r"international court of justice", "icj"),
    (r"international monetary fund", "imf"), (r"european court of human rights", "echr"),
    (r"(?:un|united nations) security council", "unsc"), (r"united nations", "un"),
    (r"organi[sz]ation for security and co-?operation in europe", "osce"), (r"power (?:outages?|cuts?)|blackouts?|(?:cut|cuts|knock(?:s|ed)? out) (?:its |their |the )?power(?: supply)?"
     r"|without (?:power|electricity)", "poweroutage"),
    (r"prisoner swaps?|prisoner exchanges?|swap(?:s|ped)? prisoners|exchange(?:s|d)? prisoners",
     "prisonerswap"), (r"martial law", "martiallaw"),
)
# The words (lower case, letters only) a short form can start with, and the words that can
# follow (None: the word alone is one). A text with no such pair is not searched for short
# forms (words.short_forms); a pair found is only a reason to search.
SHORT_FORM_PAIRS: dict[str, frozenset[str] | None] = {w: (None if nxt is None else frozenset(nxt.split()))
                                                       for w, nxt in {
    "u": "s k", "n": "korea korean koreans", "q": None,
    "army": "general commander", "military": "general commander", "commander": "in", "chief": "of diplomat", "great": "britain", "white": "house",
    "european": "union commission central court", "north": "atlantic korea korean koreans",
    "nato": "secretary chief boss head leader", "alliance": "s secretary chief boss head leader",
    "alliances": "secretary chief boss head leader", "secretary": "general", "prime": "minister",
    "premier": None, "defence": "minister secretary", "defense": "minister secretary",
    "foreign": "minister secretary", "top": "diplomat general commander", "fm": None, "rule": "out", "sign": "off", "signs": "off", "signed": "off", "give": "the green", "gives": "the green",
    "given": "the green", "gave": "the green", "fail": "to", "fails": "to", "failed": "to", "black": "hawk hawks", "no": "plans plan intention",
    "rules": "out", "ruled": "out", "ruling": "out", "state": "department", "central": "bank", "bank": "of",
    "air": "force defence defense defences defenses", "per": "cent", "percent": None, "pct": None,
    "persona": "non", "ordered": "out to", "order": "out", "orders": "out", "told": "to",
    "shadow": "fleet", "ukraine": "s security", "ukraines": "security", "ukrainian": "security", "security": "service", "euro": "zone area", "eurozone": None, "un": "atomic nuclear security", "united": "states kingdom nations",
    "atomic": "watchdog energy", "nuclear": "watchdog energy", "international": "atomic criminal court monetary",
    "organisation": "for", "organization": "for", "charge": "d",
    "chargé": "d", "charges": "d", "chargés": "d", "power": "outage outages cut cuts", "blackout": None, "blackouts": None,
    "cut": "its their the power", "cuts": "its their the power", "knock": "out", "knocks": "out",
    "knocked": "out", "without": "power electricity",
    "prisoner": "swap swaps exchange exchanges", "swap": "prisoners", "swaps": "prisoners",
    "swapped": "prisoners", "exchange": "prisoners", "exchanges": "prisoners", "exchanged": "prisoners",
    "martial": "law"}.items()}
SHORT_FORM_STARTS = frozenset(SHORT_FORM_PAIRS)

# ----------------------------------------------------------------------------- words

# Swapped for one another by outlets reporting one event: folded to the first word.
_SYNONYM_GROUPS = (
    "dismiss sack oust remove",  # not "fire": news fires are blazes more often than sackings
    "fire blaze wildfire flames",
    "close shut seal closure",
    "border frontier",
    "quit leave exit withdraw",
    "approve clear pass adopt ratify endorse greenlight agree",
    "buy purchase acquire procure",  # not "order": "Putin orders a ceasefire"
    "kill dead die death",
    "injure wound hurt",
    "detain seize stop board arrest",
    "strike attack hit pound bomb shell assault",
    "troops forces soldiers military army paratroopers",
    "chief head commander boss",
    "sign ink",
    "launch begin start open",
    "plant factory",
    "deal contract agreement pact accord treaty convention",
    "talks negotiations",
    "ceasefire truce armistice",
    "reject rebuff spurn",
    "jet aircraft plane warplane fighter",
    "ammo ammunition munitions shells",
    "invest spend allocate",
    "boost raise increase hike lift add",
    "cut lower reduce trim",
    "aid assistance support",
    "package round tranche",
    "ban bar prohibit",
    "meet hold",
    "name appoint promote",
    "select choose pick",
    "jail imprison sentence",
    "win secure clinch",
    "parliament lawmakers mps meps legislature",
    "restrict limit curb",
    "warn threaten",
    "urge call",  # "calls for", "urges"
    "crash down",
    "earthquake quake tremor",
    "fall slip drop slide ease slow decline dip sink tumble plunge slump",  # of prices and rates
    "rise climb jump gain soar surge rebound",  # (opposite developments stay apart: OPPOSITES)
    "envoy ambassador diplomat",
    "ship vessel",
    "spy espionage intelligence",
    "shadow track monitor",
    "booklet pamphlet leaflet brochure",
    "evacuate evacuation flee",
    "develop build produce manufacture",
    "reservist reserve",
    "jobless unemployment unemployed",
    "civil civilian",
    "drill exercise manoeuvre maneuver wargame",
    "truck lorry",
    "haulier carrier trucker",
    "stuck stranded trapped",
)
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = tuple(tuple(g.split()) for g in _SYNONYM_GROUPS)

# Irregular plurals the stemmer leaves apart (a count veto needs singular and plural).
IRREGULAR = {"children": "child", "people": "person", "men": "man", "women": "woman",
             # and words the stemmer leaves apart from their base: "eastern border", "East Shield"
             "eastern": "east", "western": "west", "northern": "north", "southern": "south",
             "alliance": "ally", "alliances": "ally", "struck": "strike", "fled": "flee"}

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "dozen": 12, "hundred": 100, "thousand": 1000, "a": 1, "an": 1, "single": 1, "both": 2, "duo": 2, "trio": 3,
    "quartet": 4,
}
SCALES = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "mln": 1e6, "m": 1e6,
          "billion": 1e9, "bln": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "last": -1}
CURRENCIES = {w: code for code, words in (
    ("eur", "eur euro euros"), ("usd", "usd dollar dollars"), ("gbp", "gbp pound pounds sterling"),
    ("pln", "pln zloty zlotys zlotych"), ("rub", "rub rouble roubles ruble rubles"),
    ("uah", "uah hryvnia hryvnias"), ("jpy", "jpy yen"), ("cny", "cny yuan"), ("chf", "chf franc francs"),
    # Danish, Swedish and Norwegian crowns: "crowns" alone does not say which
    ("crown", "dkk sek nok krona kronor krone kroner crown crowns")) for w in words.split()}
# ISO codes written against the amount: "DKK50bn", "EUR2.5bn" (see words.number_value)
CURRENCY_CODES = frozenset("usd eur gbp pln rub uah jpy cny chf dkk sek nok".split())
CURRENCY_SIGNS = {"$": "usd", "€": "eur", "£": "gbp"}
# "Hungary drops veto", "lifts block": the next word is undone, not done.
REVERSAL = frozenset("drop drops dropped lift lifts lifted end ends ended abandon abandons abandoned withdraw "
                     "withdraws withdrew scrap scraps scrapped".split())
# A number after these names something ("day 1,320", "Article 5"), as does one after a name.
LABELS = frozenset("day week item article feed round stage group phase part chapter episode flight route "
                   "unit no number section block gate lane line".split())
# A number after these is a bound, not a count: "over 30" agrees with "34".
APPROXIMATE = frozenset("over more least nearly almost about around some roughly approximately "
                        "under fewer less".split())  # and "up to"
# Units written against a number in one token ("2,000-kilometre-range", "30-degree"): the number counts.
UNITS = frozenset("km kilometre kilometres kilometer kilometers mile miles mph kph metre metres meter meters degree degrees "
                  "tonne tonnes ton tons kg kilogram kilograms megawatt megawatts gigawatt gigawatts".split())
TIME_UNITS = frozenset("minute minutes hour hours day days week weeks month months year years decade decades"
                       .split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset("january february march april may june july august september october november "
                   "december jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Said of a new event of the same kind: "Balloons close Vilnius airport again".
REPEAT = frozenset("again another fresh renewed resumed".split())
NEGATION = frozenset("not never won't cannot can't refuse refuses refused deny denies denied".split())
# How many hours a time unit lasts: "72 hours" and "three days" are one duration.
HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.0, "year": 8760.0,
         "decade": 87600.0}

# Verbs (as stems) of opposite development of one event: a report using one side and not
# the other is a different development ("Hungary approves" / "Hungary delays").
_OPPOSITES = (
    ("approves passes ratifies adopts signs backs endorses appoints", "delays postpones rejects blocks "
     "vetoes debates fails boycotts suspends"),
    ("charged accused indicted convicted sentenced jailed", "acquitted"),
    ("hospitalised hospitalized admitted", "discharged"),
    ("rises climbs jumps gains higher up edges soars surges rebounds", "falls slips drops slides lower "
     "down sinks tumbles plunges slumps"),
    ("opens reopens", "closes shuts"),
    ("begins starts launches resumes", "ends finishes completes halts"),
    ("leads", "lags"),
    ("curbs restricts limits", "restores expands"),
    ("blocks", "lifts unblocks"),
    ("wins beats", "loses lost"),
    ("upholds", "reduces overturns quashes"),
    ("extends", "ends lifts"),
    ("kills killed dies died dead", "injures injured wounds wounded hurt"),  # a toll of its own
)
OPPOSITES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (tuple(a.split()), tuple(b.split())) for a, b in _OPPOSITES)  # stemmed where they are used

# Weapons by their name and their designation: one term for both (a name is compared as a name).
EQUIPMENT = {code: name for name, codes in (
    ("amraam", "aim-120 aim-120c aim-120d"), ("blackhawk", "uh-60 uh-60m uh-60a"), ("apache", "ah-64 ah-64e ah-64d"),
    ("patriot", "mim-104"), ("himars", "m142"), ("abrams", "m1a1 m1a2"), ("gripen", "jas-39"),
    ("bradley", "m2a2"), ("chinook", "ch-47 ch-47f"), ("reaper", "mq-9 mq-9b"), ("javelin", "fgm-148"),
    ("stinger", "fim-92"),
) for code in codes.split()}

# Prefixes and suffixes that say what form a report takes, not what it says.
VIDEO_WORDS = frozenset("video watch footage pictures photos gallery listen podcast".split())

# ----------------------------------------------------------------------------- people

# Who stands for a country or an office in headlines ("Sikorski orders closure" is Poland
# closing; "Rutte visits" is the NATO chief visiting): surname (accents off) -> the terms
# a reader hears in it. The name stays a name of its own: "Putin warns" and "Medvedev
# threatens" are two speakers. Office holders change: this lists those of 2024-2026. An
# outdated entry mostly costs a missed merge (a name alone never merges two reports); an
# office (two terms) is given to its holder only, so that two holders never read alike.
LEADERS: dict[str, tuple[str, ...]] = {name: tuple(terms.split()) for terms, names in (
    # an office (country and title) held by one person...
    ("nato chief", "rutte"), ("eu chief", "leyen"), ("eu forminister", "kallas"),
    ("russia president", "putin"), ("russia forminister", "lavrov"), ("russia spokesman", "peskov"),
    ("ukraine president", "zelensky zelenskyy zelenskiy zelenskyi"), ("ukraine forminister", "sybiha"),
    ("us president", "trump"), ("us forminister", "rubio"), ("poland pm", "tusk"),
    ("poland president", "nawrocki"), ("poland forminister", "sikorski"), ("lithuania president", "nauseda"),
    ("latvia president", "rinkevics"), ("estonia president", "karis"), ("finland president", "stubb"),
    ("denmark pm", "frederiksen"), ("hungary pm", "orban"), ("slovakia pm", "fico"), ("uk pm", "starmer"),
    ("italy pm", "meloni"), ("belarus", "tsikhanouskaya tikhanovskaya tsikhanovskaya"), ("russia", "navalnaya"), ("sweden pm", "kristersson"), ("germany chancellor", "merz"),
    ("france president", "macron"), ("turkey president", "erdogan"), ("belarus president", "lukashenko lukashenka"),
    # ...and people who stand for their country only
    ("russia", "medvedev zakharova shoigu belousov"),
    ("ukraine armychief", "syrskyi"), ("russia armychief", "gerasimov"),
    ("ukraine", "shmyhal svyrydenko yermak umerov budanov klitschko"),
    ("us defminister", "hegseth"), ("us", "vance witkoff"), ("poland", "duda kosiniak"),
    ("lithuania", "paluckas ruginiene budrys sakaliene"), ("latvia", "silina spruds"),
    ("estonia", "pevkur tsahkna"), ("finland", "orpo hakkanen"), ("sweden", "jonson"), ("norway", "gahr"),
    ("denmark", "poulsen rasmussen"), ("germany", "scholz pistorius wadephul"), ("france", "lecornu"),
    ("uk", "healey lammy"), ("hungary", "szijjarto"), ("turkey", "fidan"), ("china", "jinping"),
) for name in names.split()}
