"""One pass over a headline or a summary: its weighted terms, numbers, names and facts.

``wording.profile`` calls :func:`scan` once for the headline and once for the summary. What a
token says on its own (its term, weight, whether it is a number, a currency, a name if
capitalised…) is worked out once per distinct token and cached (:func:`_token`); the pass
itself only applies what depends on the neighbours: numbers summed and scaled ("forty
four", "2.5 billion"), bounds ("over 30"), units, what a count counts ("two pilots"),
labels ("Article 5"), names by their place in the sentence, the lead, implicit singulars.
A summary's pass (``facts=False``) skips what only a headline's facts need.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from itertools import accumulate

from . import lexicon as lx
from .rarity import rarity
from .words import (MEASURE, MIN_WEIGHT, NUMBER_WEIGHT, PLACE_WEIGHT, currency_code, fold, fold_short_forms,
                    leader_terms, may_start, number_value, plain_word, term_of, timed, verb_stem)

# Tokens and the text between them in one call: [gap, token, gap, token, ..., gap]; the same
# on ASCII text with ASCII classes, twice as fast.
_SPLIT_TOKENS = re.compile(r"([$€£]?[^\W_]+(?:[-.,'’][^\W_]+)*%?)")
_SPLIT_ASCII = re.compile(r"([$€£]?[A-Za-z0-9]+(?:[-.,'’][A-Za-z0-9]+)*%?)")
_ALPHA = re.compile(r"[^\W\d_]+")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_LABEL_BREAK = re.compile(r"[,;:()]")
STANDS_FOR_WEIGHT = 0.5
_PAIR = re.compile(r"(\d{1,4})[-–](\d{1,4})")
# Between a number and its time unit: "three more days" is as long as "72 hours".
_BEFORE_UNIT = frozenset("more additional extra further".split())
_DIGIT = re.compile(r"\d")
_SPLIT = re.compile(r"[-.]")
ATTRIBUTION = frozenset("say says said tell tells told report reports reported according claim claims "
                        "confirm confirms".split())


@dataclass(frozen=True)
class Count:
    value: float
    soft: bool  # "over 30", "at least five": a bound, not the count
    noun: str | None  # the stem counted: "two children" -> child
    unit: str | None = None  # a currency: "$2.5bn" and "10 bln zlotys" cannot be compared
    duration: bool = False  # "36 months", "three years": how long (in hours), not how many
    label: bool = False  # "Article 5", "Marywilska 44": a number that names, not a figure
    measure: bool = False  # "100km", "30 degrees": a distance or a reading, not a count of things


class _Part:
    """A token's part ("long-range": long, range) as a word, whatever its neighbours."""

    __slots__ = ("term", "kind", "folded", "rare", "weight", "code", "upper", "name_always", "name_if_rare",
                 "name_term", "lead_ok", "low", "singular_ok", "verb", "weak_upper", "stands_for")

    def __init__(self, part: str, term: str, kind: str):
        folded = plain_word(part)
        self.term, self.kind, self.folded, self.low = term, kind, folded, part.lower()
        self.rare = rarity(folded)
        w = self.rare if kind == "word" else PLACE_WEIGHT
        self.code = code = not part.isalpha() and not part.isdigit() and _DIGIT.search(part) is not None
        if folded in ATTRIBUTION:
            w = 0.0
        elif folded in lx.CURRENCIES:
            w = min(w, 0.5)  # "3 bln euros" and "EUR 3B": the amount is the fact
        self.weight = max(w, NUMBER_WEIGHT) if code else w
        self.upper = part[0].isupper()
        self.name_always = kind == "place" or code
        # A name if it is rarer than its place in the sentence asks (see scan).
        self.name_if_rare = folded not in lx.CURRENCIES and self.upper and folded not in lx.WEEKDAYS \
            and folded not in lx.MONTHS and folded not in lx.REGIONS
        self.name_term = folded if kind == "word" and not code and folded.isalpha() else term  # "Rutte", not "rutt"
        self.lead_ok = self.upper and (kind == "place" or self.rare >= 0.8)
        low = self.low
        self.singular_ok = kind == "word" and low.isalpha() and low not in lx.IRREGULAR
        self.verb = verb_stem(folded)
        self.weak_upper = self.upper and self.rare >= 0.8
        # A leader's name also says their country or office ("Sikorski": poland), lightly: enough
        # for the other report's "Poland" to be found here, too little to weigh on this headline.
        self.stands_for = tuple((t, STANDS_FOR_WEIGHT) for t in leader_terms(folded)) if self.upper else ()


class _Token:
    """A token as written: what it is on its own, and what it tells the tokens beside it."""

    __slots__ = ("low", "lowfull", "num", "word_num", "a_an", "scale", "pct_end", "pct_word", "tok_pct",
                 "currency", "sign_unit", "isdigit", "ordinal", "day", "month", "upper", "parts",
                 "unit_before", "approx", "is_to", "ends_up", "label", "numeric", "scale_word", "number_word",
                 "reversal", "weak", "noun", "plain", "long", "letters", "short", "time_unit", "timed", "hours",
                 "code_unit", "measure", "pair")

    def __init__(self, token: str):
        lowfull = token.lower()
        self.lowfull = lowfull
        low = lowfull.lstrip("$€£")
        self.num: float | None = None
        if "-" in low and not any(c.isdigit() for c in low) and all(p in lx.NUMBER_WORDS for p in low.split("-")):
            self.num = float(sum(lx.NUMBER_WORDS[p] for p in lowfull.split("-")))  # forty-four
            low = low.replace("-", "")
        elif low[:1].isdigit() or token[:1] in "$€£":
            self.num = number_value(low)
        self.code_unit = currency_code(low) if low[:1].isalpha() else None  # "DKK50bn"
        if self.code_unit:
            self.num = number_value(low)
        elif self.num is None and "-" in low and low[:1].isdigit():
            self.num, self.code_unit = _amount(low)  # "330-million-dollar"
        self.low = low
        self.measure = self.num is not None and (MEASURE.search(low) is not None
                                                  or "-" in low and not lx.UNITS.isdisjoint(low.split("-")))
        m = _PAIR.fullmatch(low) if "-" in low or "–" in low else None
        self.pair = (float(m.group(1)), float(m.group(2))) if m else None  # "78-21": a tally, a score
        # "six-year", "72-hour", "30-day": a number of time units, in one token
        self.timed = False
        self.hours: float | None = None  # the hours one of its time unit lasts
        if self.num is None and "-" in low:
            found = timed(low)
            if found is not None:
                self.num, self.hours = found
                self.timed = True
        self.word_num = float(lx.NUMBER_WORDS[low]) if low in lx.NUMBER_WORDS else None
        self.a_an = low in ("a", "an")
        self.scale = lx.SCALES[low] if low in lx.SCALES and len(low) > 2 else None
        self.pct_end = low.endswith("%")
        self.pct_word = low in ("%", "percent")
        self.tok_pct = token.endswith("%")
        self.currency = lx.CURRENCIES.get(low)
        self.sign_unit = lx.CURRENCY_SIGNS.get(token[0]) or self.code_unit
        self.isdigit = token.isdigit()
        m = _ORDINAL.fullmatch(low) if low[:1].isdigit() else None
        self.ordinal = int(m.group(1)) if m else lx.ORDINALS.get(low)
        self.day, self.month, self.upper = low in lx.WEEKDAYS, low in lx.MONTHS, token[0].isupper()
        parts = [token] if token.isalpha() or _DIGIT.search(token) else _SPLIT.split(token)
        self.parts = tuple(_Part(p, *term_of(p.lower())) for p in parts if p and term_of(p.lower())[0])
        # As the token before a number or a word:
        self.unit_before = lx.CURRENCIES.get(lowfull) if lowfull in lx.CURRENCY_CODES else None
        self.approx = lowfull in lx.APPROXIMATE
        self.is_to, self.ends_up = lowfull == "to", lowfull.endswith("up")
        self.label = term_of(lowfull)[0] if token.isalpha() and (lowfull in lx.LABELS) else None
        if token.isalpha() and self.label is None and token[0].isupper():
            self.label = "upper:" + term_of(lowfull)[0]  # a label only past the first token
        self.numeric = number_value(low) is not None
        self.scale_word = lowfull in lx.SCALES
        self.number_word = lowfull in lx.NUMBER_WORDS
        self.reversal = lowfull in lx.REVERSAL
        self.time_unit = lowfull in lx.TIME_UNITS  # after a number: a duration
        if self.time_unit:
            self.hours = lx.HOURS[lowfull[:-1] if lowfull.endswith("s") else lowfull]
        # As the token after a word: "pilot killed" leaves "pilot" one, "tank contract" does not.
        self.weak = lowfull.endswith(("ed", "s")) or rarity(fold(lowfull)) < 0.5
        # As a word a count may count: "two Ukrainian pilots".
        term, kind = term_of(low)
        plural = low in lx.IRREGULAR or (low.endswith("s") and not low.endswith("ss"))
        self.noun = term if kind == "word" and plural and not self.upper and rarity(fold(low)) >= 0.5 else None
        # A word and nothing else: no number, unit, share, ordinal or date to read around it.
        self.plain = self.num is None and self.word_num is None and self.scale is None and not self.pct_word \
            and not self.tok_pct and self.currency is None and self.ordinal is None and not self.day \
            and not self.month
        self.long = len(token) > 3 and token[0].isalpha()  # for title case
        self.letters = tuple(_ALPHA.findall(lowfull))  # for short forms ("U.S": u, s)
        self.short = not lx.SHORT_FORM_STARTS.isdisjoint(self.letters)


@functools.lru_cache(maxsize=1 << 17)
def _token(token: str) -> _Token:
    return _Token(token)


def _amount(low: str) -> tuple[float | None, str | None]:
    """A number written with its scale and currency or unit in one token: "330-million-dollar",
    "2.5-billion-euro", "2,000-kilometre-range"."""
    first, *rest = low.split("-")
    value = number_value(first)
    if value is None or not rest or len(rest) > 2:
        return None, None
    if rest[0] in lx.SCALES:
        value *= lx.SCALES[rest.pop(0)]
    if len(rest) == 1 and rest[0] in lx.CURRENCIES:
        return value, lx.CURRENCIES[rest[0]]
    if rest and rest[0] in lx.UNITS:  # "2,000-kilometre-range", "30-degree"
        return value, None
    return (value, None) if not rest else (None, None)


def _hours_after(infos: list[_Token], after: _Token | None, i: int) -> float | None:
    """The hours in one of the time unit after a number (token *after*, at *i*): "72 hours", "three more days"."""
    if after is None:
        return None
    if after.time_unit:
        return after.hours
    if after.lowfull in _BEFORE_UNIT and i + 1 < len(infos) and infos[i + 1].time_unit:
        return infos[i + 1].hours
    return None


def _title_case(infos: list[_Token]) -> bool:
    upper = [t.upper for t in infos if t.long]
    return len(upper) >= 3 and sum(upper) >= 0.8 * len(upper)


def scan(text: str, weights: dict[str, float], tail_from: int | None = None, facts: bool = True,
         speaker_until: int = 0):
    """Tokens of *text* into *weights*; returns (numbers, entities, singular nouns, ordinals, words,
    verb stems, lead). Words from *tail_from* on (", officials say"), and before *speaker_until*
    ("Kallas: ..."), say who speaks, not what happened: they weigh less and name nobody.
    Without *facts* (a summary), only the weights, numbers and names are read."""
    split = _SPLIT_ASCII.split if text.isascii() else _SPLIT_TOKENS.split
    pieces = split(text)
    infos = list(map(_token, pieces[1::2]))
    if any(t.short for t in infos) and may_start([w for t in infos for w in t.letters]):
        pieces = split(fold_short_forms(text))  # "prime minister" -> "pm": read again
        infos = list(map(_token, pieces[1::2]))
    raw = pieces[1::2]
    gaps = pieces[2::2]  # gaps[i]: the text after token i
    titled = _title_case(infos)
    starts = None
    if tail_from is not None or speaker_until:  # where each token starts, to tell the tail's
        starts = list(accumulate((len(t) + len(g) for t, g in zip(raw, gaps)), initial=len(pieces[0])))
    numbers: list[Count] = []
    entities: set[str] = set()
    singular: set[str] = set()
    ordinals: set[int] = set()
    words: list[str] = []
    verbs: set[str] = set()  # plain stems (no synonyms): "hospitalised" is not "hospital"
    lead: list[str] = []
    pending: list[float] = []  # number words being summed: "forty four", "three billion"
    soft = False
    unit: str | None = None
    after_number = 0
    last = len(raw) - 1
    get = weights.get

    timed: float | None = None  # the number run was written with its time unit ("six-year"): its hours
    labelled = False  # the number run names something ("Article 5")
    measured = False  # the number run is a distance or a reading ("100km", "30 degrees")
    first_name: tuple[int, str] | None = None  # the last name read, and where

    def close(after: _Token | None = None, i: int = 0) -> None:
        if pending:
            value = sum(pending)
            hours = timed or _hours_after(infos, after, i)
            if hours is not None:
                value *= hours  # a duration in hours: "72 hours" is "three days"
            measure = measured or after is not None and after.lowfull in lx.UNITS
            numbers.append(Count(value, soft, None, unit, hours is not None, labelled, measure))
            weights[f"#{value:g}"] = NUMBER_WEIGHT
            pending.clear()

    for i, tok in enumerate(infos):
        if tok.pair is not None and not pending:  # "78-21": two figures (and a code, below)
            numbers.extend(Count(v, False, None) for v in tok.pair)
        if not (tok.plain and not pending and not after_number):  # a plain word skips to its parts
            prev = infos[i - 1] if i else None
            value = tok.num
            if value is None and tok.word_num is not None and (not tok.a_an or pending):
                value = tok.word_num
            if value is None and pending and tok.scale is not None:
                pending[-1] *= tok.scale
                continue
            if value is not None:
                if pending and tok.isdigit and len(raw[i]) == 3 and prev is not None and prev.isdigit \
                        and gaps[i - 1] in (" ", "\u00a0", "\u202f") and pending[-1] == int(pending[-1]):
                    pending[-1] = pending[-1] * 1000 + value  # "40 000": thousands set apart by a space
                    continue
                if pending and tok.num is None and value < 10 and 20 <= pending[-1] < 100 and pending[-1] % 10 == 0:
                    pending[-1] += value  # forty four (words only: "NOK 85 bln ($8.4 bln)" is two amounts)
                else:
                    close()
                    unit = tok.sign_unit or (prev.unit_before if prev else None)
                    soft = prev is not None and (prev.approx or i > 1 and infos[i - 2].approx
                                                 or prev.is_to and i > 1 and infos[i - 2].ends_up)
                    pending.append(value)
                    timed = tok.hours if tok.timed else None
                    # "04:00", "10:30": a time of day, not a count
                    measured = tok.measure or tok.isdigit and (i < last and gaps[i] == ":" and infos[i + 1].isdigit
                                                               or prev is not None and prev.isdigit and gaps[i - 1] == ":")
                    label = prev.label if prev else None
                    labelled = False
                    if label and (not label.startswith("upper:") or i > 1) and tok.isdigit \
                            and not _LABEL_BREAK.search(gaps[i - 1]) and not prev.unit_before \
                            and not (i < last and infos[i + 1].scale_word):  # "NOK 85 bln", "Ukraine 85 billion"
                        # "Article 4", "Estlink 2", "feed 1 item 0": a number that names, like a code
                        term = f"{label.removeprefix('upper:')}-{raw[i]}"
                        entities.add(term)
                        weights[term] = NUMBER_WEIGHT
                        labelled = True
                after_number = 0 if tok.pct_end or value != int(value) else 2
                continue
            if pending and tok.pct_word:
                after_number = 0  # a share, not a count of things
                continue
            if tok.tok_pct:
                after_number = 0
            if pending:
                close(tok, i)
            if tok.currency and numbers and prev is not None and (prev.numeric or prev.scale_word):
                numbers[-1] = dataclasses.replace(numbers[-1], unit=tok.currency)
            if after_number and (any(p in raw[i - 1] or p in gaps[i - 1] for p in ",;:()")):
                after_number = 0  # "kills 5, injures": the count stops at the comma
            if after_number:
                # "two Ukrainian pilots": the count names what it counts, a word or two on
                after_number -= 1
                if tok.noun is not None and numbers and numbers[-1].noun is None and numbers[-1].value < 1000:
                    numbers[-1] = dataclasses.replace(numbers[-1], noun=tok.noun)
                    after_number = 0
            if tok.ordinal is not None:
                ordinals.add(tok.ordinal)
                weights[f"ord:{tok.low}"] = 1.0
                continue
            if tok.day or tok.month and (tok.upper or titled):
                weights[tok.low] = 1.0
                words.append(tok.low)
                continue
        in_tail = starts is not None and (tail_from is not None and starts[i] >= tail_from
                                          or starts[i] < speaker_until)
        threshold = 3.5 if titled else 2.5 if i == 0 else 2.0
        for part in tok.parts:
            term, w = part.term, part.weight
            name = part.name_always or part.name_if_rare and part.rare >= threshold
            if name:
                term = part.name_term
            if in_tail:
                w *= 0.3
            elif name:
                entities.add(term)
                if w < 2.0:
                    w = 2.0
                if part.kind == "word" and len(tok.parts) == 1:
                    # A name right after a name: the first was a given name ("Iga Świątek",
                    # "Donald Trump"), which one report gives and another leaves out.
                    if first_name is not None and first_name[0] == i - 1 and first_name[1] != term:
                        entities.discard(first_name[1])
                    first_name = (i, term)
            elif part.weak_upper and i > 0 and not titled and w < 2.0:
                w = 2.0  # "Spring Storm", "National Guard": a name, though of common words
            if w >= MIN_WEIGHT:
                old = get(term)
                if old is None or w > old:
                    weights[term] = w
            for extra, ew in part.stands_for:
                if get(extra, 0.0) < ew * (0.3 if in_tail else 1.0):
                    weights[extra] = ew * (0.3 if in_tail else 1.0)
            if not facts:
                continue
            words.append(term)
            if i == 0 and not lead and part.lead_ok:
                lead.append(term)
            elif len(lead) == 1:  # what the lead does: "Rutte hails" and "Trump hails"
                lead.append(term if not part.low.endswith("ings") else "~" + term)  # "tsunami warnings": a noun
            # "pilot killed", "kills child": one, implicitly; "tank contract" is no count
            if part.singular_ok and (part.low == term or not part.low.endswith("s")) \
                    and (i == 0 or not infos[i - 1].number_word) and (i == last or infos[i + 1].weak):
                singular.add(term)
            if not i or not infos[i - 1].reversal:  # "drops veto" is no veto
                verbs.add(part.verb)
    close()
    return numbers, entities, singular, ordinals, words, verbs, tuple(lead) if len(lead) == 2 else None
