"""One word as the story matcher reads it: folded, spelt one way, stemmed, a synonym's key.

The pieces ``scan`` (a report's pass) and ``terms`` (a headline's index terms) share:
short forms folded before tokenising (U.S. → us, NATO Secretary General → nato chief);
accents and possessives off; a number in any format ($2.5bn, 2,500, 100k); a word's term
(:func:`term_of`): a country named by its name, adjective or capital → its key (Warsaw,
Polish → poland), British and American spellings, a stem (Snowball), synonyms folded.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from . import lexicon as lx
from .rarity import stem

NUMBER_WEIGHT = 3.0
PLACE_WEIGHT = 2.5  # a country by name or adjective, a known place
MIN_WEIGHT = 0.25  # words commoner than this say nothing of which story it is

# Every short form in one pass: the first alternative that matches at a place wins, as the
# list's order says (longer phrases first). One lookbehind for all, and a first letter any
# of them can start with, let the engine skip most places at once (~8x faster).
_SHORT = re.compile("(?<![\\w.])(?=[%s])(?:%s)(?!\\w)" % (
    "".join(sorted({c for w in lx.SHORT_FORM_STARTS for c in (w[0], w[0].upper())})),
    "|".join(f"(?P<s{n}>{pattern})" for n, (pattern, _r) in enumerate(lx.SHORT_FORMS))), re.IGNORECASE)
_SHORT_REPL = {f"s{n}": repl for n, (_p, repl) in enumerate(lx.SHORT_FORMS)}
_ALPHA = re.compile(r"[^\W\d_]+")
_ALPHA_ASCII = re.compile(r"[a-z]+")  # the same on lower-case ASCII text, twice as fast
# A number, its scale, and a share or a unit ("80mph", "30C", "1,750km"): the unit says nothing a
# comparison needs (30C is 30 degrees either way), so only the number is kept.
_UNIT_SUFFIXES = "km|kms|mph|kmh|kph|°c|°f|c|kg|mw|gw|gwh|twh"
_NUMBER = re.compile(rf"[$€£]?(\d+(?:,\d{{3}})*(?:\.\d+)?)(k|m|bn|b|mln|bln|tn|s)?(%|pc|{_UNIT_SUFFIXES})?",
                     re.IGNORECASE)
MEASURE = re.compile(rf"\d(?:{_UNIT_SUFFIXES})$")  # a number read with its unit: a distance, a reading
_TIMED = re.compile(r"(\d+(?:[.,]\d+)?|[a-z]+)-(minute|hour|day|week|month|year|decade)s?")
_POSSESSIVE = re.compile(r"['’](?:s)?$")


def short_forms(text: str) -> str:
    """*text* with its short forms folded (U.S. -> us), searched only where two words could start one."""
    low = text.lower()
    return _SHORT.sub(_short_repl, text) if may_start(_ALPHA_ASCII.findall(low) if low.isascii() else
                                                      _ALPHA.findall(low)) else text


def may_start(words: list[str]) -> bool:
    """Whether two of these words (lower case, letters only, in order) could start a short form."""
    starts = lx.SHORT_FORM_STARTS.intersection(words)
    if not starts:
        return False
    pairs, last = lx.SHORT_FORM_PAIRS, len(words) - 1
    for i, word in enumerate(words):
        if word in starts:
            then = pairs[word]
            if then is None or i < last and words[i + 1] in then:
                return True
    return False


def fold_short_forms(text: str) -> str:
    """*text* with its short forms folded, unconditionally (see :func:`short_forms`)."""
    return _SHORT.sub(_short_repl, text)


def _short_repl(m: re.Match) -> str:
    return _SHORT_REPL[m.lastgroup]  # type: ignore[index]


_WHOLE_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "å": "a", "ß": "ss", "ł": "l", "đ": "d", "þ": "th", "ı": "i"})


def fold(word: str) -> str:
    """Lower case, accents off: Nausėda and Nauseda are one name (Støre and Store, Łódź and Lodz too)."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word.translate(_WHOLE_LETTERS))
                   if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1 << 16)
def plain_word(word: str) -> str:
    """The word as names are compared: possessive off, lower case, accents off."""
    return fold(_POSSESSIVE.sub("", word) if "'" in word or "’" in word or "ʼ" in word else word)


_BRITISH = ((("isation", "ise", "ises", "ised", "ising"), re.compile(r"(?<=\w{3})is(ation|e|es|ed|ing)$"), r"iz\1"),
            (("our", "ours", "oured", "ouring"), re.compile(r"(?<=\w{3})our(s|ed|ing)?$"), r"or\1"),
            (("tre", "tres"), re.compile(r"(?<=\w{3})tre(s)?$"), r"ter\1"),
            (("mme", "mmes"), re.compile(r"mme(s)?$"), r"m\1"))


def british(word: str) -> str:
    """One spelling for British and American forms (both sides get the same)."""
    if len(word) > 5:
        for endings, pattern, repl in _BRITISH:
            if word.endswith(endings):  # the regex only where it can match
                word = pattern.sub(repl, word)
    if "ence" in word:
        word = word.replace("defence", "defense").replace("offence", "offense").replace("licence", "license")
    return word


def currency_code(token: str) -> str | None:
    """The currency an ISO code written against an amount names ("DKK50bn": crown), or None."""
    low = token[:3].lower()
    return lx.CURRENCIES.get(low) if low in lx.CURRENCY_CODES and token[3:4].isdigit() else None


def number_value(token: str) -> float | None:
    """The number a token writes ("2,500", "$2.5bn", "DKK50bn", "100k", "5%", "2.2pc"), or None."""
    if token[:1].isalpha() and currency_code(token):
        token = token[3:]
    m = _NUMBER.fullmatch(token)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    scale = (m.group(2) or "").lower()
    return value * lx.SCALES.get(scale, 1.0) if scale != "s" else value


_CODE_PLURAL = re.compile(r"([a-z]+-?\d+)s")  # "f-16s": the F-16 (one type, several jets)


def timed(token: str) -> tuple[float, float] | None:
    """A number of time units in one token, as (number, hours in one unit): "72-hour" (72, 1),
    "three-day" (3, 24); None for anything else."""
    m = _TIMED.fullmatch(token)
    if m is None:
        return None
    n = m.group(1)
    value = float(lx.NUMBER_WORDS[n]) if n in lx.NUMBER_WORDS else number_value(n) if n[0].isdigit() else None
    return None if value is None else (value, lx.HOURS[m.group(2)])


@functools.lru_cache(maxsize=1 << 16)
def term_of(word: str) -> tuple[str, str]:
    """(term, kind) of one lower-case token: kind "place" for countries and known places."""
    word = _POSSESSIVE.sub("", fold(word))
    if word[-1:] == "s" and _CODE_PLURAL.fullmatch(word):
        word = word[:-1]
    if word in lx.EQUIPMENT:
        return lx.EQUIPMENT[word], "word"  # AIM-120 is the AMRAAM
    place = lx.ALIASES.get(word)
    if place is not None:
        return place, "place"
    base = _stem(british(lx.IRREGULAR.get(word, word)))
    return _SYNSTEM.get(base, base), "word"


def _stem(word: str) -> str:
    """Snowball's stem, with "-ify" verbs meeting their "-ification" nouns (fortifi -> fortif)."""
    base = stem(word)
    return base[:-1] if base.endswith("ifi") else base


_SYNSTEM: dict[str, str] = {}
for _group in lx.SYNONYM_GROUPS:
    for _w in _group:
        _SYNSTEM.setdefault(_stem(british(_w)), _stem(british(_group[0])))


@functools.lru_cache(maxsize=1 << 16)
def leader_terms(name: str) -> tuple[str, ...]:
    """The terms a leader's surname (plain: lower case, accents off) stands for: Sikorski -> poland."""
    found = lx.LEADERS.get(name)
    return tuple(term_of(w)[0] for w in found) if found else ()


def verb_stem(word: str) -> str:
    """A stem that keeps "hospitalised" (and "hospitalized") apart from "hospital"."""
    return stem(word.replace("iz", "is"))


OPPOSITE_STEMS = tuple((frozenset(map(verb_stem, a)), frozenset(map(verb_stem, b))) for a, b in lx.OPPOSITES)
