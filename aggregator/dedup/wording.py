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
from dataclasses import dataclass

from . import lexicon as lx
from .form import attribution, dayparts, form_of, regions, repair
from .rarity import rarity
from .scan import Count, scan
from .words import MIN_WEIGHT, NUMBER_WEIGHT, OPPOSITE_STEMS, PLACE_WEIGHT, fold, term_of

__all__ = ["Count", "Facts", "MIN_WEIGHT", "NUMBER_WEIGHT", "OPPOSITE_STEMS", "PLACE_WEIGHT", "Profile", "profile",
           "rarity_of", "term_of"]

# ", officials say", " - minister says", "– Nausėda": who said it, not what happened.
_TAIL = re.compile(r"(?:,|\s[–—-])\s+((?:[\w'’.-]+\s+){0,4}?(?:says?|said|reports?|reported|claims?|warns?|warned|"
                   r"confirms?|according to [\w\s]+))\s*$|\s[–—]\s+([\w'’.\s-]{2,40})$|\s-(?=(?-i:[A-Z]))([\w'’. ]{2,30})$",
                   re.IGNORECASE)

# "Kallas: EU close to deal on loan", "Zelensky: ...": a speaker before a colon (one to three
# capitalised words), whose words follow. Two statements by one speaker are two stories.
_SPEAKER = re.compile(r"^(?:[A-Z][\w'’.-]*\s+){0,2}[A-Z][\w'’.-]*:\s+(?=\S)")


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
    regions: frozenset[str] = frozenset()  # the regions, provinces, counties it names (Tver region)

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


@functools.lru_cache(maxsize=4096)
def profile(title: str, summary: str = "", link: str | None = None) -> Profile:
    """The matcher's view of one report (*summary* is plain text)."""
    kind, head = form_of(repair(title), link)
    tail = _TAIL.search(head) if any(c in head for c in ",–—-") else None  # every tail starts so
    speaker = _SPEAKER.match(head) if ":" in head else None
    title_terms: dict[str, float] = {}
    numbers, entities, singular, ordinals, words, verbs, lead = scan(
        head, title_terms, tail.start() if tail else None, speaker_until=speaker.end() if speaker else 0)
    low = [w for w in words]
    facts = Facts(
        numbers=tuple(numbers), ordinals=frozenset(ordinals),
        weekdays=frozenset(w for w in low if w in lx.WEEKDAYS),
        months=frozenset(w for w in low if w in lx.MONTHS),
        entities=frozenset(entities), singular=frozenset(singular) - {c.noun for c in numbers},
        stems=frozenset(verbs), negated=any(w in _NEG for w in low),
        repeat=any(w in _REPEAT for w in low) and ("again" in head.lower() or not _RECORD.search(head)),
        lead=lead)
    text_terms = dict(title_terms)
    summary = repair(summary).strip()
    has_summary = bool(summary) and fold(summary).rstrip(". ") not in fold(title)
    text_numbers, text_entities = tuple(numbers), frozenset(entities)
    if has_summary and not facts.repeat and ("second" in summary or "similar" in summary) \
            and _SUMMARY_REPEAT.search(summary):
        facts = dataclasses.replace(facts, repeat=True)
    more: dict[str, float] = {}
    if has_summary:
        n2, e2, *_rest = scan(summary, more, facts=False)
        for term, w in more.items():
            text_terms[term] = max(text_terms.get(term, 0.0), w)
        text_numbers += tuple(n2)
        text_entities |= e2
    return Profile(kind, head, title_terms, text_terms, facts, text_numbers, text_entities, has_summary, more,
                   attribution(summary) if has_summary else frozenset(),
                   dayparts(head + " " + summary if has_summary else head),
                   regions(head + " " + summary if has_summary else head))


_NEG = frozenset(term_of(w)[0] for w in lx.NEGATION)
_REPEAT = frozenset(term_of(w)[0] for w in lx.REPEAT)
# A summary that says the event happened before: "a day after a similar halt", "for a second day".
_SUMMARY_REPEAT = re.compile(r"\b(?:(?:a|one) day after (?:a|the) similar|for (?:a|the) second (?:day|night|time)|"
                             r"second (?:day|night) in a row|(?:second|third) time (?:this|in)\b)", re.IGNORECASE)
# "a fresh record", "a fresh all-time high": a new level, not the event again.
# "another six months", "for another year": how long, not the event again.
_RECORD = re.compile(r"\bfresh\s+(?:all[- ]time|record|high|low|peak)|\banother\s+(?:\w+[\s-]+)?"
                     r"(?:year|month|week|day|hour|term|half-year)s?\b", re.IGNORECASE)
