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
from .wording import OPPOSITE_STEMS, Count, Profile

NAME_SIMILARITY = 0.88  # Jaro-Winkler: Zelensky/Zelenskyy, Lukashenka/Lukashenko, Shmyhal/Shmygal


_TRANSLIT = [(re.compile(p), r) for p, r in (
    (r"tsch|tch", "ch"), (r"kh", "h"), (r"zh", "z"), (r"(?<=[aeiouy])g(?=[aeiouy])", "h"), (r"ij|iy|yi|yy|y", "i"),
    (r"w", "v"), (r"ck", "k"), (r"(.)\1", r"\1"))]


@functools.lru_cache(maxsize=1 << 14)
def _translit(name: str) -> str:
    """One Latin spelling for names transliterated several ways: Klitschko/Klychko, Shmyhal/Shmygal."""
    for pattern, repl in _TRANSLIT:
        name = pattern.sub(repl, name)
    return name


def same_name(a: str, b: str) -> bool:
    """Two spellings of one name (never of two places: Latvia and Lithuania are close too)."""
    if a == b:
        return True
    if len(a) < 5 or len(b) < 5 or a[0] != b[0] or a in COUNTRY_KEYS or b in COUNTRY_KEYS:
        return False
    return JaroWinkler.similarity(_translit(a), _translit(b)) >= NAME_SIMILARITY


def _known(value: float, others: Iterable[Count]) -> bool:
    for o in others:
        if abs(o.value - value) <= 1e-6 * max(1.0, abs(value)):
            return True
        if o.soft and 0 < value and 0.6 <= o.value / value <= 1.5:  # "over 30" and 34
            return True
    return False


def _unmatched_numbers(a: Profile, b: Profile) -> list[str]:
    return [f"{c.value:g}" for c in a.facts.numbers if not c.soft and not _known(c.value, b.text_numbers)]


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
    if la and lb and (la in a.facts.entities or lb in b.facts.entities) and _absent(la, b) and _absent(lb, a):
        return f"subjects differ: {la} against {lb}"
    for keep in (lambda e: e in COUNTRY_KEYS, lambda e: e not in COUNTRY_KEYS):
        xa, xb = [e for e in ua if keep(e)], [e for e in ub if keep(e)]
        if xa and xb:
            return f"names differ: {', '.join(xa)} against {', '.join(xb)}"
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


def dayparts(a: Profile, b: Profile) -> str | None:
    """"a morning attack" against "an evening attack"."""
    return _disjoint("times of day", a.dayparts, b.dayparts)


def summaries(a: Profile, b: Profile) -> str | None:
    """Two summaries of one event share at least one telling word; a follow-up's does not."""
    if a.has_summary and b.has_summary:
        if not any(min(w, b.summary_terms[t]) >= 1.0 for t, w in a.summary_terms.items() if t in b.summary_terms):
            return "the summaries share no telling word"
    return None


CHECKS: tuple[tuple[str, Callable[[Profile, Profile], str | None]], ...] = (
    ("form", form), ("numbers", numbers), ("count", implicit_count), ("ordinals", ordinals),
    ("dates", dates), ("names", entities), ("development", development), ("polarity", polarity),
    ("sources", attribution), ("times of day", dayparts), ("summaries", summaries),
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
