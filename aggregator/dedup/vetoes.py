"""Conflicting facts: two reports that disagree on one are different stories, whatever their score.

Each check reads the two :class:`~.wording.Profile` s and returns a one-line reason, or
None. A headline asserts its facts; the other report contradicts one only when it
asserts another of the same kind that the first report never mentions (a detail
added or dropped is no conflict: "Kyiv says Russia violated truce" and "…2,935 times").
"""

from __future__ import annotations

import functools
import re
from typing import Callable, Iterable

from rapidfuzz.distance import JaroWinkler

from .lexicon import COUNTRY_KEYS
from .words import leader_terms
from .wording import OPPOSITE_STEMS, Count, Profile, rarity_of, term_of

NAME_SIMILARITY = 0.88  # Jaro-Winkler: Zelensky/Zelenskyy, Lukashenka/Lukashenko, Shmyhal/Shmygal


_TCH, _KH, _ZH = re.compile(r"tsch|tch"), re.compile(r"kh"), re.compile(r"zh")
_J = re.compile(r"(?<=[bcdfghklmnprstvz])j(?=[aeiou])")
_Y, _DOUBLE = re.compile(r"ij|iy|yi|yy|y"), re.compile(r"(.)\1")


@functools.lru_cache(maxsize=1 << 16)
def translit(name: str) -> str:
    """One Latin spelling for names transliterated several ways: Klitschko/Klychko, Shmyhal/Shmygal."""
    if "h" in name:  # each regex only where it can match: a new name costs ~1 µs, not ~4
        name = _ZH.sub("z", _KH.sub("h", _TCH.sub("ch", name)))
    if "g" in name:  # Ukrainian h for Russian g: Hnatov/Gnatov, Horlivka/Gorlovka
        name = name.replace("g", "h")
    if "y" in name or "ij" in name:
        name = _Y.sub("i", name)
    if "w" in name:
        name = name.replace("w", "v")
    if "j" in name:  # Estonian and German spellings of я, ю, е: Vjatšeslav, Viacheslav
        name = _J.sub("i", name)
    if "ck" in name:
        name = name.replace("ck", "k")
    if "oe" in name:  # Stoere, Støre
        name = name.replace("oe", "o")
    return _DOUBLE.sub(r"\1", name) if _DOUBLE.search(name) else name


def same_name(a: str, b: str) -> bool:
    """Two spellings of one name (never of two places: Latvia and Lithuania are close too)."""
    if a == b:
        return True
    if len(a) < 5 or len(b) < 5 or a[0] != b[0] and translit(a)[0] != translit(b)[0] \
            or a in COUNTRY_KEYS or b in COUNTRY_KEYS \
            or not a.isalpha() or not b.isalpha():  # "F-16" and "F-35" are two things
        return False
    return JaroWinkler.similarity(translit(a), translit(b)) >= NAME_SIMILARITY


def _known(value: float, others: Iterable[Count], unit: str | None = None) -> bool:
    others = list(others)
    if unit and not any(o.unit == unit for o in others):
        return True  # "10 bln zlotys" against "$2.5B": amounts in two currencies are not compared
    for o in others:
        if abs(o.value - value) <= 1e-6 * max(1.0, abs(value)) or _rounded(value, o.value):
            return True
        if o.soft and 0 < value and 0.6 <= o.value / value <= 1.5:  # "over 30" and 34
            return True
    return False


def _rounded(x: float, y: float) -> bool:
    """One figure is the other rounded ("31.4" and "31.36", "2.4 million" and "2,392,000"): a
    decimal within half a unit of its last digit, or a large count within 0.5 %."""
    if x == y or x <= 0 or y <= 0:
        return x == y
    for a, b in ((x, y), (y, x)):
        if a != int(a):
            text = f"{a:g}"
            step = 10.0 ** -len(text.split(".")[1]) if "." in text and "e" not in text else 0.0
            if step and abs(a - b) < step / 2 - 1e-9:
                return True
    return min(x, y) >= 1000 and abs(x - y) <= 0.005 * max(x, y)


def _unmatched_numbers(a: Profile, b: Profile) -> list[str]:
    """A's headline figures that B nowhere gives; each of B's figures answers one ("feed 1 item 1")."""
    left = list(b.text_numbers)
    out = []
    for c in a.facts.numbers:
        if c.soft:
            continue
        # An amount answers only an amount in its currency ("85 bln crowns" is not "2026").
        hit = next((o for o in left if (not c.unit or o.unit == c.unit) and _known(c.value, [o])), None)
        if hit is None:
            if not _known(c.value, left, c.unit):  # amounts in another currency, say
                out.append(f"{c.value:g}")
        else:
            left.remove(hit)
    return out


def numbers(a: Profile, b: Profile) -> str | None:
    ua, ub = _unmatched_numbers(a, b), _unmatched_numbers(b, a)
    if ua and ub:
        return f"numbers differ: {', '.join(ua)} against {', '.join(ub)}"
    return None


def implicit_count(a: Profile, b: Profile) -> str | None:
    """"Two pilots killed" against "pilot killed": one is implied."""
    for x, y in ((a, b), (b, a)):
        for c in x.facts.numbers:
            if c.noun and c.value >= 2 and c.noun in y.facts.singular \
                    and not any(d.noun == c.noun for d in y.facts.numbers):
                return f"count differs: {c.value:g} {c.noun} against one"
    return None


def _disjoint(name: str, xa: frozenset, xb: frozenset) -> str | None:
    if xa and xb and not (xa & xb):
        return f"{name} differ: {', '.join(map(str, sorted(xa)))} against {', '.join(map(str, sorted(xb)))}"
    return None


def ordinals(a: Profile, b: Profile) -> str | None:
    return _disjoint("ordinals", a.facts.ordinals, b.facts.ordinals)


def dates(a: Profile, b: Profile) -> str | None:
    return (_disjoint("weekdays", a.facts.weekdays, b.facts.weekdays)
            or _disjoint("months", a.facts.months, b.facts.months))


def _unmatched_entities(a: Profile, b: Profile) -> list[str]:
    out = []
    for e in sorted(a.facts.entities):
        if e in b.text_entities or e in b.text_terms:
            continue
        plural = e[:-1] if e.endswith("s") else e + "s"  # "Black Hawks", "Black Hawk"
        if plural in b.text_entities or plural in b.text_terms:
            continue
        office = leader_terms(e)
        if len(office) > 1 and all(t in b.text_terms for t in office) \
                and not any(o != e and leader_terms(o) == office for o in b.text_entities):
            continue  # "Rutte" against "NATO chief" (not against another chief named)
        if any(same_name(e, o) for o in b.text_entities):
            continue
        out.append(e)
    return out


def _absent(term: str, other: Profile) -> bool:
    return term not in other.text_terms and not any(same_name(term, o) for o in other.text_entities)


def entities(a: Profile, b: Profile) -> str | None:
    """Each headline names a country, or each another name, that the other report never mentions.

    Countries are compared with countries and other names with other names: "Orban" against
    "Hungary", or a company against the country it is in, is a detail, not a conflict."""
    ua, ub = _unmatched_entities(a, b), _unmatched_entities(b, a)
    la, lb = a.facts.lead, b.facts.lead
    if la and lb and la[1] == lb[1] and la[0] != lb[0] and _absent(la[0], b) and _absent(lb[0], a):
        return f"subjects differ: {la[0]} against {lb[0]} ({la[1]})"
    for keep in (lambda e: e in COUNTRY_KEYS, lambda e: e not in COUNTRY_KEYS):
        xa, xb = [e for e in ua if keep(e)], [e for e in ub if keep(e)]
        if xa and xb:
            return f"names differ: {', '.join(xa)} against {', '.join(xb)}"
    return None


_SAY = frozenset(term_of(w)[0] for w in "says claims warns insists accuses vows tells threatens condemns denies "
                                          "slams hails welcomes".split())


def reaction(a: Profile, b: Profile) -> str | None:
    """"Kremlin says NATO's decision is war" is not "NATO invokes Article 5": a reaction is news
    of its own, unless both headlines are the same speaker's words. (Whether a statement tells
    the other's event, "Lithuania says Russian jets entered its airspace", the words alone do not
    say: the headlines share as much either way. When in doubt, do not merge.)"""
    for x, y in ((a, b), (b, a)):
        lx, ly = x.facts.lead, y.facts.lead
        # y's lead must be a subject doing something ("Nato invokes"), not "Goals of ...".
        if lx and ly and lx[1] in _SAY and ly[1] not in _SAY and rarity_of(ly[1]) >= 0.5 \
                and lx[0] != ly[0] and not same_name(lx[0], ly[0]) \
                and not set(leader_terms(lx[0])) & set(ly):  # "Gerasimov claims", "Russia's top general says"
            return f"a statement by {lx[0]} against {ly[0]}'s own news"
    return None


def development(a: Profile, b: Profile) -> str | None:
    """Opposite developments of one subject: approves/delays, charged/acquitted, rise/slip."""
    sa, sb = a.facts.stems, b.facts.stems
    for x, y in OPPOSITE_STEMS:
        for one, other in ((sa, sb), (sb, sa)):
            if one & x and other & y and not one & y and not other & x:
                return f"developments differ: {'/'.join(sorted(one & x))} against {'/'.join(sorted(other & y))}"
    return None


def polarity(a: Profile, b: Profile) -> str | None:
    if a.facts.negated != b.facts.negated:
        return "one headline is negated"
    if a.facts.repeat != b.facts.repeat:
        return "one headline reports a repeat (again, another)"
    return None


def form(a: Profile, b: Profile) -> str | None:
    """Live pages and features (analysis, explainers) are items of their own."""
    for p in (a, b):
        if p.kind in ("live", "feature"):
            return f"a {p.kind} piece is never merged"
    return None


def attribution(a: Profile, b: Profile) -> str | None:
    """Each summary quotes another office: "the mayor said" against "the governor said"."""
    return _disjoint("sources", a.quoted, b.quoted)


_NEIGHBOURS = {"night": frozenset({"evening", "night", "morning"})}  # an overnight storm, a morning blackout


def dayparts(a: Profile, b: Profile) -> str | None:
    """"a morning attack" against "an evening attack" (the night borders on both)."""
    xa = frozenset().union(*(_NEIGHBOURS.get(p, (p,)) for p in a.dayparts))
    if a.dayparts and b.dayparts and xa.isdisjoint(b.dayparts) \
            and frozenset().union(*(_NEIGHBOURS.get(p, (p,)) for p in b.dayparts)).isdisjoint(a.dayparts):
        return _disjoint("times of day", a.dayparts, b.dayparts)
    return None


def places(a: Profile, b: Profile) -> str | None:
    """Each report names a region the other never mentions: "Bryansk region" against "Tver region"."""
    def unknown(x: Profile, y: Profile) -> list[str]:
        return [r for r in sorted(x.regions) if r not in y.text_terms and not any(
            same_name(r, o) for o in y.regions | y.text_entities)]
    if a.regions and b.regions:
        ua, ub = unknown(a, b), unknown(b, a)
        if ua and ub:
            return f"regions differ: {', '.join(ua)} against {', '.join(ub)}"
    return None


def _year(value: float) -> bool:
    return value == int(value) and 1900 <= value <= 2100


def text_numbers(a: Profile, b: Profile) -> str | None:
    """Both reports give figures of one kind, and not one of them agrees: a different event's.

    Durations ("seven years", "after 36 months") are compared with durations, counts with
    counts: "74 more vessels" and "three years since the invasion" say nothing of each other.
    Amounts of money, bounds, years, distances and readings ("100km") and numbers that name
    ("Marywilska 44") are details a report adds, and are not compared."""
    if not (a.has_summary and b.has_summary):
        return None
    for duration in (False, True):
        xa = [c for c in a.text_numbers if c.duration == duration
              and not (c.soft or c.unit or c.label or c.measure or _year(c.value))]
        xb = [c for c in b.text_numbers if c.duration == duration
              and not (c.soft or c.unit or c.label or c.measure or _year(c.value))]
        if xa and xb and not any(_known(c.value, b.text_numbers) for c in xa) \
                and not any(_known(c.value, a.text_numbers) for c in xb):
            return (f"figures differ: {', '.join(f'{c.value:g}' for c in xa)} against "
                    f"{', '.join(f'{c.value:g}' for c in xb)}")
    return None


def summaries(a: Profile, b: Profile) -> str | None:
    """Each summary shares a telling word with the other report: another story's does not."""
    if a.has_summary and b.has_summary:
        for x, y in ((a, b), (b, a)):
            if not any(w >= 1.0 and y.text_terms.get(t, 0.0) >= 1.0 for t, w in x.summary_terms.items()):
                return "a summary shares no telling word with the other report"
    return None


CHECKS: tuple[tuple[str, Callable[[Profile, Profile], str | None]], ...] = (
    ("form", form), ("numbers", numbers), ("count", implicit_count), ("ordinals", ordinals),
    ("dates", dates), ("names", entities), ("reaction", reaction), ("development", development),
    ("polarity", polarity),
    ("sources", attribution), ("times of day", dayparts), ("regions", places), ("figures", text_numbers),
    ("summaries", summaries),
)


def conflicts(a: Profile, b: Profile) -> list[str]:
    """Every conflict found (empty: none)."""
    return [r for _name, check in CHECKS if (r := check(a, b))]


def first_conflict(a: Profile, b: Profile) -> str | None:
    for _name, check in CHECKS:
        r = check(a, b)
        if r:
            return r
    return None


# Against an item of several reports, a fact one of them contradicts forbids the merge, while
# "summaries" is the lack of a confirmation, not a contradiction: one report confirming is enough.
CONFIRMATION = "summaries"
_CONTRADICTIONS = tuple(check for name, check in CHECKS if name != CONFIRMATION)


def against_item(report: Profile, members: list[Profile]) -> str | None:
    """Why *report* may not join the item whose reports are *members*: a fact any of them
    contradicts, or a summary none of them confirms (None: it may)."""
    for m in members:
        for check in _CONTRADICTIONS:
            r = check(report, m)
            if r:
                return r
    reasons = [summaries(report, m) for m in members]
    return None if None in reasons else reasons[0]
