"""Which stored item, if any, tells the same story as a new report: retrieval, then the decision.

Retrieval: :class:`~.similarity.NearDupIndex`, an inverted index of each item's headline
terms (:func:`~.terms.index_terms`: stems, countries, names, numbers) bucketed by publication
time, so a lookup costs the same whatever the number of stored items. It returns at most
MAX_CANDIDATES items sharing two *telling* terms with the headline: a term is telling while
its weight times the window's damping is at least TELLING (:func:`reach`: on how many items
of the window it still is).

Decision (:meth:`StoryMatcher.best`), for each candidate:

1. a prescreen on the index terms alone (the share of the headline's damped weight the two
   headlines share, and the time between them) before the item is decoded;
2. never two items of one feed, unless one is the other's video or re-post (:func:`~.paraphrase.one_feed`),
   and never a pair an operator split (``Item.apart``);
3. a score (:func:`~.paraphrase.score`) at least ``min_score``, raised with the time
   between the two (:func:`~.paraphrase.needed`). A term shared by many items of the
   window weighs less (``damp``): on a busy day "Narva" names no one story;
4. no fact that the item or any report merged into it contradicts, and a summary at least
   one of them confirms (:func:`~.vetoes.against_item`).

The best candidate that passes wins; ties go to the smaller id.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from ..records import NearDupSettings
from .paraphrase import needed, one_feed, overlap, score
from .similarity import NearDupIndex
from .terms import index_terms, weight
from .vetoes import CHECKS, against_item
from .wording import Profile

__all__ = ["TELLING", "TOKENS_VERSION", "StoryMatcher", "Verdict", "damping", "index_terms", "reach", "weight"]

# Bump whenever index_terms' answer changes: the store keeps each item's terms (see
# store.lines), and a store written with another version has them recomputed.
TOKENS_VERSION = 4
DAMP_SCALE = 4.0  # a term on this many more items of the window weighs about half
PRESCREEN = 0.2  # damped headline overlap below which a candidate is not read
# A term this telling in the window (weight x damping): two headlines must share two such terms,
# or a name shared by items of different stories (and words every item of the window uses) would do.
TELLING = 0.5


def damping(n: int) -> float:
    """What a term on *n* items of the window is worth, against a term on one: 1, ~0.5 at 5."""
    return 1.0 if n <= 1 else 1.0 / (1.0 + math.log1p((n - 1) / DAMP_SCALE))


@functools.lru_cache(maxsize=1 << 17)
def reach(term: str) -> int:
    """On how many items of the window at most *term* is still telling: weight x damping >= TELLING."""
    w = weight(term)
    if w < TELLING:
        return 0
    n = max(1, int(1 + DAMP_SCALE * math.expm1(w / TELLING - 1)))  # the bound, then exactly as best() reckons
    while n > 1 and w * damping(n) < TELLING:
        n -= 1
    while w * damping(n + 1) >= TELLING:
        n += 1
    return n


@dataclass(frozen=True)
class Verdict:
    """Why a report joined an item: what ``aggregator explain`` shows."""

    title: float  # weighted overlap of the two headlines' terms
    text: float  # and of headline + summary
    score: float  # what decided (paraphrase.compare)
    needed: float
    hours: float
    shared: tuple[str, ...]
    against: int  # how many of the item's reports were checked for conflicts

    def reason(self, other_id: str) -> str:
        names = ", ".join(name for name, _check in CHECKS)
        shared = ", ".join(t.lstrip("#") for t in self.shared[:8]) or "nothing"
        return (f"near duplicate of {other_id}: title {self.title:.2f}, text {self.text:.2f}, "
                f"score {self.score:.2f} (needed {self.needed:.2f}), published {self.hours:.1f}h apart; "
                f"shared: {shared}; vetoes checked against its {self.against} report(s), none fired: {names}")


class StoryMatcher:
    """The candidate index and the decision, over the items it is told about.

    *profile_of(item_id)* gives a stored item's profile (decoding it), *load(item_id)* its
    index terms and date without decoding it, *feeds_of(item_id)* the feeds that carry it (None:
    removed by another writer),
    *apart_of(item_id)* the identity keys an operator split from it.
    """

    def __init__(self, settings: NearDupSettings, profile_of: Callable[[str], Profile],
                 load: Callable[[str], tuple[frozenset[str], datetime | None]],
                 feeds_of: Callable[[str], Iterable[str] | None], apart_of: Callable[[str], Iterable[str]]):
        self.settings = settings
        self._profile_of = profile_of
        self._feeds_of = feeds_of
        self._apart_of = apart_of
        self._near = NearDupIndex(settings, load)
        self._members: dict[str, list[Profile]] = {}  # item id -> reports merged into it this run

    def defer(self, item_id: str, when: datetime | None) -> None:
        self._near.defer(item_id, when)

    def add(self, item_id: str, terms: frozenset[str], when: datetime | None) -> None:
        self._near.add(item_id, terms, when)

    def joined(self, item_id: str, report: Profile) -> None:
        """*report* was merged into *item_id*: later reports are compared with it too."""
        self._members.setdefault(item_id, []).append(report)

    def _damp(self, when: datetime) -> Callable[[str], float]:
        count, known = self._near.frequencies(when), {}

        def damp(term: str) -> float:
            found = known.get(term)
            if found is None:
                found = known[term] = damping(count(term))
            return found
        damp.cache = {}  # type: ignore[attr-defined]  # paraphrase._damped keeps damped terms here
        return damp

    def best(self, read: Callable[[], Profile], terms: frozenset[str], when: datetime, feed_url: str,
             keys: Iterable[str]) -> tuple[str, Verdict] | None:
        """The item telling the same story as the report *read()* gives (published *when* in
        *feed_url*, its headline's index *terms*), if any. *read* is called only when a
        candidate passes the prescreen: most entries have none."""
        found = self._near.sharing(terms, when, reach)
        if not found:
            return None
        damp: Callable[[str], float] | None = None
        masses: dict[str, float] = {}  # the entry's terms: what sharing each says in this window
        own = 0.0
        terms_of, when_of = self._near.terms_of, self._near.when_of
        least = min(2, len(terms))  # telling terms the headlines must share (NearDupIndex.sharing)
        best: tuple[str, Verdict] | None = None
        for cid in found:
            # Headlines that share few of their telling terms are not read in full (decoding
            # the item and reading its summary is what a comparison costs): first how many
            # terms they share, then how telling those are in this window, then the time.
            theirs = terms_of(cid)
            common = terms & theirs
            if len(common) < least:
                continue
            if damp is None:
                damp = self._damp(when)
            shared = []
            for t in common:
                m = masses.get(t)
                if m is None:
                    m = masses[t] = weight(t) * damp(t)
                shared.append(m)
            if sum(m >= TELLING for m in shared) < least:
                continue
            other_when = when_of(cid)
            if other_when is None:
                continue
            hours = abs((when - other_when).total_seconds()) / 3600
            if needed(self.settings.min_score, hours, self.settings.window_hours) > 1.0:
                continue
            if not own:
                own = sum(weight(t) * damp(t) for t in terms)
            if sum(shared) < PRESCREEN * min(own, sum(weight(t) * damp(t) for t in theirs)):
                continue
            feeds = self._feeds_of(cid)
            if feeds is None:  # removed by another writer since
                continue
            if not frozenset(keys).isdisjoint(self._apart_of(cid)):
                continue
            report = read()
            members = [self._profile_of(cid), *self._members.get(cid, ())]
            alone = not (report.has_summary and members[0].has_summary)
            need = needed(self.settings.min_score, hours, self.settings.window_hours, alone)
            if need > 1.0:
                continue
            if feed_url in feeds and one_feed(report, members[0], hours):
                continue
            top = max((score(report, m, damp) for m in members), key=lambda c: c.score)
            # The vetoes only for a candidate that scores: they cost more than the score.
            if top.score < need or against_item(report, members):
                continue
            title = overlap(report.title_terms, members[0].title_terms)[0]
            text = overlap(report.text_terms, members[0].text_terms)[0]
            verdict = Verdict(title, text, top.score, round(need, 2), round(hours, 1), top.shared, len(members))
            if best is None or (verdict.score, best[0]) > (best[1].score, cid):
                best = (cid, verdict)
        return best

