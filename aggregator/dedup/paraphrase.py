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
    """
    ta, tb = _damped(a.title_terms, damp), _damped(b.title_terms, damp)
    ca, shared_a = coverage(ta, _damped(b.text_terms, damp))
    cb, shared_b = coverage(tb, _damped(a.text_terms, damp))
    shared = shared_a | shared_b
    if a.has_summary and b.has_summary:
        # Each headline found in the other report, or the two reports' words at large.
        text, shared_text = overlap(_damped(a.text_terms, damp), _damped(b.text_terms, damp))
        value = min(ca, cb)
        if value >= HEADLINE_FLOOR:  # a headline the other report hardly tells is another story's
            value = max(value, TEXT_WEIGHT * text)
    else:
        # A headline alone: a short one wholly inside a longer one is the same story.
        title, _common = overlap(ta, tb)
        value = max(title, ca if not a.has_summary else 0.0, cb if not b.has_summary else 0.0)
    terms = tuple(t for t, _w in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0])))
    # Evidence, not just a ratio: a headline of common words shares one of them with anything.
    undamped = _shared(a.title_terms, b.text_terms) | _shared(b.title_terms, a.text_terms)
    if len(undamped) < MIN_SHARED_TERMS or sum(undamped.values()) < MIN_SHARED_WEIGHT:
        value = 0.0
    return Comparison(round(value, 4), terms, None)


# A same-story report arrives within hours of the others; a look-alike a day or more
# later is usually the next installment (a daily report, a repeat event, a development).
# Until FRESH of the window the base threshold holds; it then rises to be unreachable at
# HORIZON of the window: with the default 72 h window, 12 h and 24 h for two reports with
# summaries, half that for a headline alone, which has less to tell a repeat apart.
FRESH = 1 / 6
HORIZON = 1 / 3


def needed(base: float, hours: float, window_hours: float, headline_only: bool = False) -> float:
    """The score two reports *hours* apart must reach (above 1: they never merge)."""
    scale = 0.5 if headline_only else 1.0
    fresh, horizon = FRESH * window_hours * scale, HORIZON * window_hours * scale
    if hours <= fresh:
        return base
    return base + (1.0 - base) * (hours - fresh) / max(horizon - fresh, 1e-9) + 1e-9


def one_feed(a: Profile, b: Profile) -> str | None:
    """Why two items of one feed may not merge: only an article and its video may."""
    if (a.kind == "video") != (b.kind == "video"):
        return None
    return "one feed's items are different stories unless one is the other's video"
