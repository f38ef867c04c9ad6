"""A headline's index terms, fast: what the candidate index keys every item on.

Every new entry's headline is read here, and every stored item's once its store has no
terms kept for it, so this must cost a few µs, not the ~150 µs of reading a report in full
(:func:`~.wording.profile`). It folds words the way ``wording`` does (``term_of``:
countries by their name, adjective or capital, synonyms, British and American spellings,
stems; numbers in any format, ordinals, weekdays and months) but reads each token alone,
through a cache, without what only a comparison needs (counts, names' roles, the facts).
Names keep one Latin spelling (Zelenskyy, Zelensky and Zelenskiy index alike). Text is
repaired only when it needs it (``form.repair``); affixes ("UPDATE 2-", "| Reuters") and
words of attribution are left out.

:func:`weight` is a term's rarity for the prescreen: what a stem is worth is what the
commonest English word it stems is worth ("vaccin" as "vaccine", not as a word never seen).
"""

from __future__ import annotations

import functools
import re
from itertools import chain
from operator import itemgetter

from . import lexicon as lx
from .form import _AFFIX_PREFIX, repair
from .rarity import commonest, rarity
from .vetoes import translit
from .words import (MIN_WEIGHT, NUMBER_WEIGHT, PLACE_WEIGHT, currency_code, leader_terms, number_value, plain_word,
                    short_forms, term_of, timed)

_TOKEN = re.compile(r"[$€£]?[^\W_]+(?:[-.,'’][^\W_]+)*%?")
_DIGIT = re.compile(r"\d")
_SPLIT = re.compile(r"[-.]")
_LETTERS = re.compile(r"[^\W\d_]+")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
# How a report is published or who said it, not what happened: never a term.
_SKIP = frozenset("""
update updated exclusive breaking live video watch photos pictures listen analysis opinion explainer
editorial updates blog reuters afp bbc cnn dw euronews yle lrt lsm
say says said tell tells told report reports reported according claim claims confirm confirms
""".split())
NAME_RARITY = 3.5  # a capitalised word this rare is a name: spelt one way, never stemmed
# Words that are something other than a name whatever their case (see _chunk).
_SPECIAL = (_SKIP | lx.SHORT_FORM_STARTS | frozenset(lx.NUMBER_WORDS) | frozenset(lx.ORDINALS) | lx.WEEKDAYS
            | lx.MONTHS | frozenset(lx.SCALES) | frozenset(lx.ALIASES))


class _Scale(tuple):
    """A scale word ("billion") or a time unit ("days", in hours): multiplies the number before
    it, else the word's terms."""

    factor: float


@functools.lru_cache(maxsize=1 << 17)  # a new item's headline is read for dedup, then for the store
def index_terms(title: str) -> frozenset[str]:
    """The terms of a headline the candidate index keys it on."""
    text = repair(title)
    m = _AFFIX_PREFIX.match(text)
    if m is not None and m.end():
        text = text[m.end():]
    read = list(map(_chunk, text.split()))
    if any(map(_MAY_START, read)):  # "prime minister", "U.S.": read again, folded
        folded = short_forms(text)
        if folded is not text:
            read = list(map(_chunk, folded.split()))
    if None not in map(_PLAIN, read):  # no number anywhere: every chunk's terms, as they are
        return frozenset(chain.from_iterable(map(_PLAIN, read)))
    out: set[str] = set()
    value: float | None = None  # a number awaiting its scale ("2.5 billion") or its units ("forty four")
    for _plain, found_in_chunk, _starts in read:
        for found in found_in_chunk:
            if found.__class__ is float:
                if value is not None and found < 10 <= value < 100 and value % 10 == 0 and found % 1 == 0:  # type: ignore[operator]
                    value += found  # type: ignore[operator]
                    continue
                if value is not None:
                    out.add(f"#{value:g}")
                value = found  # type: ignore[assignment]
                continue
            if value is not None:
                if found.__class__ is _Scale:
                    value *= found.factor  # type: ignore[union-attr]
                    continue
                out.add(f"#{value:g}")
                value = None
            out.update(found)  # type: ignore[arg-type]
    if value is not None:
        out.add(f"#{value:g}")
    return frozenset(out)


_Chunk = tuple[tuple[str, ...] | None, tuple[float | tuple[str, ...], ...], bool]
_PLAIN, _MAY_START = itemgetter(0), itemgetter(2)


@functools.lru_cache(maxsize=1 << 17)
def _chunk(chunk: str) -> _Chunk:
    """One whitespace-separated chunk: its terms if it has no number (else None), what each of its
    tokens says, and whether a short form may start in it."""
    if chunk.isascii() and chunk.isalpha() and chunk[0].isupper():
        # A name seen for the first time (most chunks read once are): what _words would say.
        low = chunk.lower()
        if low not in _SPECIAL and rarity(low) >= NAME_RARITY:
            name = (translit(low), *leader_terms(low))
            return name, (name,), False
    tokens = (chunk,) if chunk.isalpha() else _TOKEN.findall(chunk)  # most chunks are one word
    read = tuple(map(_term, tokens))
    plain = None if any(r.__class__ is not tuple for r in read) else tuple(chain.from_iterable(read))
    starts = not lx.SHORT_FORM_STARTS.isdisjoint(_LETTERS.findall(chunk.lower()))
    return plain, read, starts


@functools.lru_cache(maxsize=1 << 17)
def _term(token: str) -> float | tuple[str, ...]:
    """One token as written: a number, or its terms (none, one, or one per part of "long-range")."""
    low = token.lower().lstrip("$€£")
    if low[:1].isdigit() or token[:1] in "$€£" or currency_code(low):
        value = number_value(low)
        if value is not None:
            return value
        if _ORDINAL.fullmatch(low):
            return (f"ord:{low}",)
    if low in lx.NUMBER_WORDS:
        return () if low in ("a", "an") else float(lx.NUMBER_WORDS[low])
    if "-" in low and all(p in lx.NUMBER_WORDS for p in low.split("-")):
        return float(sum(lx.NUMBER_WORDS[p] for p in low.split("-")))  # forty-four
    if "-" in low and (found := timed(low)) is not None:
        return found[0] * found[1]  # "72-hour", "three-day": a duration in hours, as wording reads it
    if low in lx.ORDINALS:
        return (f"ord:{low}",)
    if low in lx.WEEKDAYS or low in lx.MONTHS and token[0].isupper():
        return (low,)
    terms = _words(token, low)
    if low in lx.SCALES and len(low) > 2 or low in lx.TIME_UNITS:
        scale = _Scale(terms)
        scale.factor = lx.SCALES[low] if low in lx.SCALES else lx.HOURS[low[:-1] if low.endswith("s") else low]
        return scale
    return terms


def _words(token: str, low: str) -> tuple[str, ...]:
    if low in _SKIP:
        return ()
    parts = [token] if token.isalpha() or _DIGIT.search(token) else _SPLIT.split(token)
    out = []
    for part in parts:
        if not part:
            continue
        folded = plain_word(part)
        if folded in _SKIP:
            continue
        if part[0].isupper() and folded.isalpha() and folded not in lx.ALIASES and rarity(folded) >= NAME_RARITY:
            out.append(translit(folded))  # a name: neither stemmed nor folded into a synonym
            out.extend(leader_terms(folded))  # and what a leader's name stands for (Sikorski: poland)
            continue
        out.extend(leader_terms(folded))  # what a leader's name stands for (Putin: russia, president)
        term, kind = term_of(part.lower())
        if not term:
            continue
        if kind == "place":
            w = PLACE_WEIGHT
        elif not part.isalpha() and not part.isdigit() and _DIGIT.search(part):
            w = NUMBER_WEIGHT  # a code: F-16, Il-20
        else:
            w = rarity(folded)
        if w >= MIN_WEIGHT:
            out.append(term)
    return tuple(out)


@functools.lru_cache(maxsize=1 << 16)
def weight(term: str) -> float:
    """How much sharing *term* says: numbers and codes 3, places 2.5, a word its rarity."""
    if term.startswith("#") or any(c.isdigit() for c in term):
        return NUMBER_WEIGHT
    if term in lx.COUNTRY_KEYS or term in lx.ALIASES:
        return PLACE_WEIGHT
    if term.startswith("ord:"):
        return 1.0
    # The commonest word the stem can stand for ("citi": city; "vaccin": vaccine).
    forms = [term, term + "e", term + "s", term + "er", term + "ing", term + "ed", term + "ion", term + "al",
             term + term[-1]]  # "footbal": football
    if term.endswith("i"):
        forms.append(term[:-1] + "y")
    return max(commonest(forms), MIN_WEIGHT)
