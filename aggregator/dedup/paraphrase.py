"""Same story in other words: a score over rare content words, then the vetoes, then time.

The score is a weighted overlap coefficient: the rarity-weighted mass of the terms two
reports share over the mass of the smaller one. It does not punish a short headline
for being short ("Estonia expels Russian diplomat" is wholly inside a longer one), and
names spelled two ways (Zelensky/Zelenskyy) count as shared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from .vetoes import first_conflict, same_name
from .wording import Profile


TEXT_WEIGHT = 0.9  # the reports' words at large count a little less than each headline's
HEADLINE_FLOOR = 0.35
NAME_WEIGHT = 2.0  # names weigh at least this (wording): only they are compared by spelling
MIN_SHARED_TERMS = 2  # telling terms the two headlines share with the other report, at least
MIN_SHARED_WEIGHT = 4.0  # and their weight: two rare words, or a name and a number


@dataclass(frozen=True)
class Comparison:
    score: float
    shared: tuple[str, ...]  # the terms both reports use, heaviest first
    veto: str | None  # the first conflicting fact, if any

    @property
    def passes(self) -> bool:
        return self.veto is None


def _shared(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """Terms in both (the smaller weight), and names spelled two ways ("zelensky~zelenskyy")."""
    common = {t: min(a[t], b[t]) for t in a.keys() & b.keys()}
    names = {}  # first letter -> b's unmatched names: only names are spelled two ways
    for t, w in b.items():
        if w >= NAME_WEIGHT and t not in common and t.isalpha() and len(t) >= 5:
            names.setdefault(t[0], []).append(t)
    if names:
        for t, w in a.items():
            if w >= NAME_WEIGHT and t not in common and t.isalpha() and len(t) >= 5 and t[0] in names:
                rest = names[t[0]]
                hit = next((o for o in rest if same_name(t, o)), None)
                if hit is not None:
                    common[f"{t}~{hit}"] = min(w, b[hit])
                    rest.remove(hit)
    return common


def overlap(a: dict[str, float], b: dict[str, float]) -> tuple[float, dict[str, float]]:
    """(weighted overlap coefficient, shared terms and their weights)."""
    if not a or not b:
        return 0.0, {}
    common = _shared(a, b)
    least = min(sum(a.values()), sum(b.values()))
    return (sum(common.values()) / least if least else 0.0), common


def coverage(head: dict[str, float], text: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The share of a headline's weight found anywhere in the other report."""
    total = sum(head.values())
    if not total:
        return 0.0, {}
    common = _shared(head, text)
    return min(1.0, sum(common.values()) / total), common


def _damped(terms: dict[str, float], damp: Callable[[str], float] | None) -> dict[str, float]:
    if damp is None:
        return terms
    cache = getattr(damp, "cache", None)  # StoryMatcher's: each profile's terms damped once a lookup
    if cache is not None:
        found = cache.get(id(terms))
        if found is not None and found[0] is terms:
            return found[1]
    out = {t: w * damp(t) for t, w in terms.items()}
    if cache is not None:
        cache[id(terms)] = (terms, out)
    return out


def compare(a: Profile, b: Profile, damp: Callable[[str], float] | None = None) -> Comparison:
    """:func:`score` and the first conflicting fact (:func:`~.vetoes.first_conflict`)."""
    found = score(a, b, damp)
    return dataclasses.replace(found, veto=first_conflict(a, b))


def score(a: Profile, b: Profile, damp: Callable[[str], float] | None = None) -> Comparison:
    """How alike two reports are (the vetoes are not checked: ``veto`` is None).

    The score is the smaller of the two coverages: each headline's words must be found in
    the other report (its headline and summary). *damp(term)* scales a term's weight down
    when many reports of the time share it: on a busy day "Narva" names no one story.

    Two reports without the evidence asked (MIN_SHARED_TERMS, MIN_SHARED_WEIGHT) score 0
    at once. Otherwise only the terms they share are damped, and each report's total only
    when it is needed: a term's damped weight in two reports is the smaller weight times
    its damping, so no damped copy of a report's fifty terms is built (the same figures).
    """
    undamped = _common(a.title_terms, _names(a, True, None), b.text_terms, _names(b, False, None), None, True) \
        | _common(b.title_terms, _names(b, True, None), a.text_terms, _names(a, False, None), None, True)
    if len(undamped) < MIN_SHARED_TERMS or sum(undamped.values()) < MIN_SHARED_WEIGHT:
        return Comparison(0.0, (), None)
    ca, shared_a = _cover(a, b, damp)
    cb, shared_b = _cover(b, a, damp)
    shared = shared_a | shared_b
    if a.has_summary and b.has_summary:
        # Each headline found in the other report, or the two reports' words at large.
        value = min(ca, cb)
        if value >= HEADLINE_FLOOR:  # a headline the other report hardly tells is another story's
            value = max(value, TEXT_WEIGHT * _overlap(a, b, False, damp))
    else:
        # A headline alone: a short one wholly inside a longer one is the same story.
        title = _overlap(a, b, True, damp)
        value = max(title, ca if not a.has_summary else 0.0, cb if not b.has_summary else 0.0)
    terms = tuple(t for t, _w in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0])))
    return Comparison(round(value, 4), terms, None)


def _names(p: Profile, title: bool, damp: Callable[[str], float] | None) -> list[tuple[str, float]]:
    """A report's terms that may be names spelt two ways (heavy, alphabetic, 5 letters or more),
    in order, with their (damped) weights; the heavy ones only once damped."""
    found = getattr(p, "_names", None)
    if found is None:  # fixed for the report: kept on it
        found = tuple(tuple((t, w) for t, w in terms.items() if w >= NAME_WEIGHT and t.isalpha() and len(t) >= 5)
                      for terms in (p.title_terms, p.text_terms))
        object.__setattr__(p, "_names", found)
    names = found[0 if title else 1]
    if damp is None:
        return list(names)
    return [(t, dw) for t, w in names if (dw := w * damp(t)) >= NAME_WEIGHT]


def _common(a: dict[str, float], names_a: list[tuple[str, float]], b: dict[str, float],
            names_b: list[tuple[str, float]], damp: Callable[[str], float] | None,
            own: bool = False) -> dict[str, float]:
    """:func:`_shared` of the two dicts damped by *damp*, from the undamped dicts and their names;
    *own*: at a's weights (what share of a headline the other report tells: "ultimatums" and
    "ultimatum", "defence" and "defense" are one term, however rare each spelling is)."""
    if own:
        common = {t: a[t] for t in a.keys() & b.keys()} if damp is None else \
            {t: a[t] * damp(t) for t in a.keys() & b.keys()}
    elif damp is None:
        common = {t: min(a[t], b[t]) for t in a.keys() & b.keys()}
    else:
        common = {t: min(a[t], b[t]) * damp(t) for t in a.keys() & b.keys()}
    letters: dict[str, list[str]] = {}  # first letter -> b's unmatched names
    weights = {}
    for t, w in names_b:
        if t not in common:
            letters.setdefault(t[0], []).append(t)
            weights[t] = w
    if letters:
        for t, w in names_a:
            if t not in common and t[0] in letters:
                rest = letters[t[0]]
                hit = next((o for o in rest if same_name(t, o)), None)
                if hit is not None:
                    common[f"{t}~{hit}"] = w if own else min(w, weights[hit])
                    rest.remove(hit)
    return common


def _total(p: Profile, title: bool, damp: Callable[[str], float] | None) -> float:
    terms = p.title_terms if title else p.text_terms
    if damp is None:
        return sum(terms.values())
    cache = getattr(damp, "cache", None)  # StoryMatcher's: each report's total once a lookup
    key = (id(terms), title)
    if cache is not None:
        found = cache.get(key)
        if found is not None and found[0] is terms:
            return found[1]
    total = sum(w * damp(t) for t, w in terms.items())
    if cache is not None:
        cache[key] = (terms, total)
    return total


def _cover(a: Profile, b: Profile, damp: Callable[[str], float] | None) -> tuple[float, dict[str, float]]:
    """:func:`coverage` of a's headline by b's report, damped."""
    total = _total(a, True, damp)
    if not total:
        return 0.0, {}
    common = _common(a.title_terms, _names(a, True, damp), b.text_terms, _names(b, False, damp), damp, own=True)
    return min(1.0, sum(common.values()) / total), common


def _overlap(a: Profile, b: Profile, title: bool, damp: Callable[[str], float] | None) -> float:
    """:func:`overlap` of the two headlines (*title*) or the two reports, damped."""
    ta, tb = (a.title_terms, b.title_terms) if title else (a.text_terms, b.text_terms)
    if not ta or not tb:
        return 0.0
    common = _common(ta, _names(a, title, damp), tb, _names(b, title, damp), damp)
    least = min(_total(a, title, damp), _total(b, title, damp))
    return sum(common.values()) / least if least else 0.0


# A same-story report arrives within hours of the others; a look-alike a day or more
# later is usually the next installment (a daily report, a repeat event, a development).
# Until FRESH of the window the base threshold holds; it then rises to be unreachable at
# HORIZON of the window: with the default 72 h window, 12 h and about 22 h for two reports
# with summaries (a visit and the deal it brought, 17 h apart, share nearly every word of
# their summaries), 6 h and 12 h for a headline alone, which has less to tell a repeat apart.
FRESH = 1 / 6
HORIZON = 0.3
HEADLINE_FRESH = 1 / 12
HEADLINE_HORIZON = 1 / 6


def needed(base: float, hours: float, window_hours: float, headline_only: bool = False) -> float:
    """The score two reports *hours* apart must reach (above 1: they never merge)."""
    fresh, horizon = ((HEADLINE_FRESH, HEADLINE_HORIZON) if headline_only else (FRESH, HORIZON))
    fresh, horizon = fresh * window_hours, horizon * window_hours
    if hours <= fresh:
        return base
    return base + (1.0 - base) * (hours - fresh) / max(horizon - fresh, 1e-9) + 1e-9


REPOST_HOURS = 3.0  # one feed's item posted again under the same headline within this: a re-post


def one_feed(a: Profile, b: Profile, hours: float = REPOST_HOURS + 1) -> str | None:
    """Why two items of one feed may not merge: only an article and its video may, or an item
    re-posted under the same headline within REPOST_HOURS (a feed's daily "Air raid alert
    across Ukraine" is posted again later: another day's, or the evening's)."""
    if (a.kind == "video") != (b.kind == "video"):
        return None
    if hours <= REPOST_HOURS and a.title.casefold() == b.title.casefold():
        return None
    return "one feed's items are different stories unless one is the other's video or re-post"
