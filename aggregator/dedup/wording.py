"""A report's words as the story matcher sees them: repaired, normalised, weighted, with its facts.

``profile(title, summary, link)`` is the one entry point; it returns a frozen
:class:`Profile`, cached by its arguments. The steps, in order:

1. repair: HTML entities (twice: feeds escape them twice), mojibake and curly quotes
   (``ftfy``), Unicode NFC;
2. form: affixes that say how a report is published ("UPDATE 2-", "EXCLUSIVE:",
   "Watch:", "– video", "| Reuters", "– live updates") are cut off, and what they say is
   kept as ``kind`` (news, video, live page, or a feature: analysis, explainer, opinion);
3. short forms folded into one token (U.S. → us, NATO Secretary General → nato chief);
4. tokens: numbers parsed ($2.5bn, 2,500, two, 3 pct, 100k), countries named by their
   name, adjective or capital folded to one key (Warsaw, Polish → poland), British and
   American spellings, plurals and tenses stemmed (Snowball), synonyms folded;
5. weights: how rare each word is in English (``wordfreq``): "expels" says more than "says".
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from dataclasses import dataclass

from . import lexicon as lx
from .form import attribution, dayparts, form_of, repair
from .rarity import rarity, stem

# ", officials say", " - minister says", "– Nausėda": who said it, not what happened.
_TAIL = re.compile(r"(?:,|\s[–—-])\s+((?:[\w'’.-]+\s+){0,4}?(?:says?|said|reports?|reported|claims?|"
                   r"confirms?|according to [\w\s]+))\s*$|\s[–—]\s+([\w'’.\s-]{2,40})$", re.IGNORECASE)

# Every short form in one pass: the first alternative that matches at a place wins, as the
# list's order says (longer phrases first).
_SHORT = re.compile("|".join(f"(?P<s{n}>(?<![\\w.]){pattern}(?!\\w))" for n, (pattern, _r) in
                             enumerate(lx.SHORT_FORMS)), re.IGNORECASE)
_SHORT_REPL = {f"s{n}": repl for n, (_p, repl) in enumerate(lx.SHORT_FORMS)}
_TOKEN = re.compile(r"[$€£]?[^\W_]+(?:[-.,'’][^\W_]+)*%?")
_NUMBER = re.compile(r"[$€£]?(\d+(?:,\d{3})*(?:\.\d+)?)(k|m|bn|b|mln|bln|tn|s)?(%)?", re.IGNORECASE)
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_LABEL_BREAK = re.compile(r"[,;:()]")
_DIGIT = re.compile(r"\d")
_SPLIT = re.compile(r"[-.]")
_POSSESSIVE = re.compile(r"['’](?:s)?$")
_ATTRIBUTION = frozenset("say says said tell tells told report reports reported according claim claims "
                         "confirm confirms".split())
NUMBER_WEIGHT = 3.0
PLACE_WEIGHT = 2.5  # a country by name or adjective, a known place
MIN_WEIGHT = 0.25  # words commoner than this say nothing of which story it is


@dataclass(frozen=True)
class Count:
    value: float
    soft: bool  # "over 30", "at least five": a bound, not the count
    noun: str | None  # the stem counted: "two children" -> child
    unit: str | None = None  # a currency: "$2.5bn" and "10 bln zlotys" cannot be compared


@dataclass(frozen=True)
class Facts:
    """What a headline asserts that another report of the same story cannot contradict."""

    numbers: tuple[Count, ...] = ()
    ordinals: frozenset[int] = frozenset()
    weekdays: frozenset[str] = frozenset()
    months: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()  # names and places, canonical ("vilnius" -> lithuania)
    singular: frozenset[str] = frozenset()  # nouns said once without a count: one, implicitly
    stems: frozenset[str] = frozenset()  # every stem, for opposite developments
    negated: bool = False
    repeat: bool = False
    lead: tuple[str, str] | None = None  # the headline's first two terms: its subject, often, and its verb


@dataclass(frozen=True)
class Profile:
    kind: str  # "news" | "video" | "live" | "feature"
    title: str  # the repaired headline, affixes cut
    title_terms: dict[str, float]  # term -> weight
    text_terms: dict[str, float]  # title and summary
    facts: Facts  # of the headline
    text_numbers: tuple[Count, ...]  # every number of title and summary
    text_entities: frozenset[str]
    has_summary: bool  # the summary says more than the headline
    summary_terms: dict[str, float]  # the summary's own (empty without one)
    quoted: frozenset[str] = frozenset()  # offices its summary quotes (attribution)
    dayparts: frozenset[str] = frozenset()  # morning, evening, night... in headline or summary

    def __hash__(self) -> int:  # dict fields: hash by identity is enough for caches
        return id(self)


@functools.lru_cache(maxsize=1 << 16)
def rarity_of(term: str) -> float:
    """A stored term's weight, roughly (numbers and places weigh what wording gives them)."""
    if term.startswith("#") or any(c.isdigit() for c in term):
        return NUMBER_WEIGHT
    if term in lx.COUNTRY_KEYS or "-" in term:
        return 2.5
    return max(rarity(term), MIN_WEIGHT)


def _fold(word: str) -> str:
    """Lower case, accents off: Nausėda and Nauseda are one name."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1 << 16)
def _plain(word: str) -> str:
    """The word as names are compared: possessive off, lower case, accents off."""
    return _fold(_POSSESSIVE.sub("", word) if "'" in word or "’" in word or "ʼ" in word else word)


def _british(word: str) -> str:
    """One spelling for British and American forms (both sides get the same)."""
    if len(word) > 5:
        word = re.sub(r"(?<=\w{3})is(ation|e|es|ed|ing)$", r"iz\1", word)
        word = re.sub(r"(?<=\w{3})our(s|ed|ing)?$", r"or\1", word)
        word = re.sub(r"(?<=\w{3})tre(s)?$", r"ter\1", word)
        word = re.sub(r"mme(s)?$", r"m\1", word)
    return word.replace("defence", "defense").replace("offence", "offense").replace("licence", "license")


def _number(token: str) -> float | None:
    m = _NUMBER.fullmatch(token)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    scale = (m.group(2) or "").lower()
    return value * lx.SCALES.get(scale, 1.0) if scale != "s" else value


@functools.lru_cache(maxsize=1 << 15)
def term_of(word: str) -> tuple[str, str]:
    """(term, kind) of one lower-case token: kind "place" for countries and known places."""
    word = _POSSESSIVE.sub("", _fold(word))
    place = lx.ALIASES.get(word)
    if place is not None:
        return place, "place"
    base = lx.IRREGULAR.get(word, word)
    return _SYNSTEM.get(stem(_british(base)), stem(_british(base))), "word"


_SYNSTEM: dict[str, str] = {}
for _group in lx.SYNONYM_GROUPS:
    for _w in _group:
        _SYNSTEM.setdefault(stem(_british(_w)), stem(_british(_group[0])))
def verb_stem(word: str) -> str:
    """A stem that keeps "hospitalised" (and "hospitalized") apart from "hospital"."""
    return stem(word.replace("iz", "is"))


OPPOSITE_STEMS = tuple((frozenset(map(verb_stem, a)), frozenset(map(verb_stem, b))) for a, b in lx.OPPOSITES)


def _title_case(words: list[str]) -> bool:
    long = [w for w in words if len(w) > 3 and w[0].isalpha()]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.8 * len(long)


def _scan(text: str, weights: dict[str, float], tail_from: int | None = None):
    """Tokens of *text* into *weights*; returns (numbers, entities, singular nouns, ordinals, words)."""
    text = _SHORT.sub(lambda m: _SHORT_REPL[m.lastgroup], text)
    raw = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    titled = _title_case([w for w, _ in raw])
    numbers: list[Count] = []
    entities: set[str] = set()
    singular: set[str] = set()
    ordinals: set[int] = set()
    words: list[str] = []
    verbs: set[str] = set()  # plain stems (no synonyms): "hospitalised" is not "hospital"
    lead: list[str] = []
    pending: list[float] = []  # number words being summed: "forty four", "three billion"
    soft = False
    after_number = 0

    unit: list[str | None] = [None]

    def close() -> None:
        nonlocal soft
        if pending:
            value = sum(pending)
            numbers.append(Count(value, soft, None, unit[0]))
            weights[f"#{value:g}"] = NUMBER_WEIGHT
            pending.clear()
        soft = False

    for i, (token, start) in enumerate(raw):
        low = token.lower().lstrip("$€£")
        if "-" in low and not any(c.isdigit() for c in low) and all(p in lx.NUMBER_WORDS for p in low.split("-")):
            low = low.replace("-", "")  # forty-four: summed below as one run of number words
            value = float(sum(lx.NUMBER_WORDS[p] for p in token.lower().split("-")))
        else:
            value = None
        in_tail = tail_from is not None and start >= tail_from
        if value is None and (low[:1].isdigit() or token[:1] in "$€£"):
            value = _number(low)
        if value is None and low in lx.NUMBER_WORDS and (low not in ("a", "an") or pending):
            value = float(lx.NUMBER_WORDS[low])
        if value is None and pending and low in lx.SCALES and len(low) > 2:
            pending[-1] *= lx.SCALES[low]
            continue
        if value is not None:
            if pending and value < 10 and pending[-1] >= 20 and pending[-1] % 10 == 0:
                pending[-1] += value  # forty four
            else:
                close()
                before = raw[i - 1][0].lower() if i else ""
                unit[0] = lx.CURRENCY_SIGNS.get(token[0]) or (before if before in ("usd", "eur", "gbp") else None)
                prev = " ".join(w for w, _ in raw[max(0, i - 2):i]).lower()
                soft = any(p in lx.APPROXIMATE for p in prev.split()[-2:]) or prev.endswith("up to")
                pending.append(value)
                label = raw[i - 1][0] if i else ""
                if label.isalpha() and (label.lower() in lx.LABELS or label[0].isupper() and i > 1) \
                        and token.isdigit() and not _LABEL_BREAK.search(text[raw[i - 1][1]:start]):
                    # "Article 4", "Estlink 2", "feed 1 item 0": a number that names, like a code
                    term = f"{term_of(label.lower())[0]}-{token}"
                    entities.add(term)
                    weights[term] = NUMBER_WEIGHT
            after_number = 0 if low.endswith("%") or value != int(value) else 2
            continue
        if pending and low in ("%", "percent"):
            after_number = 0  # a share, not a count of things
            continue
        if token.endswith("%") and value is None:
            after_number = 0
        if pending:
            close()
        if low in lx.CURRENCIES and numbers and i and _number(raw[i - 1][0].lower().lstrip("$€£")) is not None \
                or low in lx.CURRENCIES and numbers and i and raw[i - 1][0].lower() in lx.SCALES:
            numbers[-1] = dataclasses.replace(numbers[-1], unit=lx.CURRENCIES[low])
        if after_number and any(p in text[raw[i - 1][1]:start] for p in ",;:()"):
            after_number = 0  # "kills 5, injures": the count stops at the comma
        if after_number:
            # "two Ukrainian pilots": the count names what it counts, a word or two on
            after_number -= 1
            term, kind = term_of(low)
            plural = low in lx.IRREGULAR or (low.endswith("s") and not low.endswith("ss"))
            if kind == "word" and plural and not token[0].isupper() and rarity(_fold(low)) >= 0.5 \
                    and numbers and numbers[-1].noun is None and numbers[-1].value < 1000:
                numbers[-1] = dataclasses.replace(numbers[-1], noun=term)
                after_number = 0
        m = _ORDINAL.fullmatch(low) if low[:1].isdigit() else None
        if m or low in lx.ORDINALS:
            ordinals.add(int(m.group(1)) if m else lx.ORDINALS[low])
            weights[f"ord:{low}"] = 1.0
            continue
        if low in lx.WEEKDAYS or low in lx.MONTHS and (token[0].isupper() or titled):
            weights[low] = 1.0
            words.append(low)
            continue
        parts = [token] if token.isalpha() or _DIGIT.search(token) else _SPLIT.split(token)
        for part in parts:
            if not part:
                continue
            low = part.lower()
            term, kind = term_of(low)
            if not term:
                continue
            folded = _plain(part)
            w = rarity(folded) if kind == "word" else PLACE_WEIGHT
            code = not part.isalpha() and not part.isdigit() and _DIGIT.search(part) is not None
            if folded in _ATTRIBUTION:
                w = 0.0
            elif folded in lx.CURRENCIES:
                w = min(w, 0.5)  # "3 bln euros" and "EUR 3B": the amount is the fact
            if code:
                w = max(w, NUMBER_WEIGHT)
            name = kind == "place" or code or folded not in lx.CURRENCIES and (
                part[0].isupper() and rarity(folded) >= (3.5 if titled else 2.5 if i == 0 else 2.0)
                and folded not in lx.WEEKDAYS and folded not in lx.MONTHS and folded not in lx.REGIONS)
            if name and kind == "word" and not code and folded.isalpha():
                term = folded  # a name is not stemmed: "Rutte" is not "rutt"
            if in_tail:
                w *= 0.3
            elif name:
                entities.add(term)
                w = max(w, 2.0)
            elif part[0].isupper() and i > 0 and not titled and rarity(folded) >= 0.8:
                w = max(w, 2.0)  # "Spring Storm", "National Guard": a name, though of common words
            if w >= MIN_WEIGHT:
                weights[term] = max(weights.get(term, 0.0), w)
            words.append(term)
            if i == 0 and not lead and part[0].isupper() and (kind == "place" or rarity(folded) >= 0.8):
                lead.append(term)
            elif len(lead) == 1:
                lead.append(term)  # what the lead does: "Rutte hails" and "Trump hails"
            nxt = raw[i + 1][0].lower() if i + 1 < len(raw) else ""
            # "pilot killed", "kills child": one, implicitly; "tank contract" is no count
            if kind == "word" and low.isalpha() and (low == term or not low.endswith("s")) \
                    and low not in lx.IRREGULAR and (i == 0 or raw[i - 1][0].lower() not in lx.NUMBER_WORDS) \
                    and (not nxt or nxt.endswith(("ed", "s")) or rarity(_fold(nxt)) < 0.5):
                singular.add(term)
            if not i or raw[i - 1][0].lower() not in lx.REVERSAL:  # "drops veto" is no veto
                verbs.add(verb_stem(folded))
    close()
    return numbers, entities, singular, ordinals, words, verbs, tuple(lead) if len(lead) == 2 else None


@functools.lru_cache(maxsize=4096)
def profile(title: str, summary: str = "", link: str | None = None) -> Profile:
    """The matcher's view of one report (*summary* is plain text)."""
    kind, head = form_of(repair(title), link)
    tail = _TAIL.search(head)
    title_terms: dict[str, float] = {}
    numbers, entities, singular, ordinals, words, verbs, lead = _scan(head, title_terms, tail.start() if tail else None)
    low = [w for w in words]
    facts = Facts(
        numbers=tuple(numbers), ordinals=frozenset(ordinals),
        weekdays=frozenset(w for w in low if w in lx.WEEKDAYS),
        months=frozenset(w for w in low if w in lx.MONTHS),
        entities=frozenset(entities), singular=frozenset(singular) - {c.noun for c in numbers},
        stems=frozenset(verbs), negated=any(w in _NEG for w in low), repeat=any(w in _REPEAT for w in low),
        lead=lead)
    text_terms = dict(title_terms)
    summary = repair(summary).strip()
    has_summary = bool(summary) and _fold(summary).rstrip(". ") not in _fold(title)
    text_numbers, text_entities = tuple(numbers), frozenset(entities)
    more: dict[str, float] = {}
    if has_summary:
        n2, e2, *_rest = _scan(summary, more)
        for term, w in more.items():
            text_terms[term] = max(text_terms.get(term, 0.0), w)
        text_numbers += tuple(n2)
        text_entities |= e2
    return Profile(kind, head, title_terms, text_terms, facts, text_numbers, text_entities, has_summary, more,
                   attribution(summary) if has_summary else frozenset(),
                   dayparts(head + " " + summary if has_summary else head))


_NEG = frozenset(term_of(w)[0] for w in lx.NEGATION)
_REPEAT = frozenset(term_of(w)[0] for w in lx.REPEAT)
