"""The candidate index of the story matcher: headline terms -> item ids, bucketed by time.

Pure and standard-library only. :class:`NearDupIndex` finds, for a new report, the stored
items of its time window that share two of its telling terms (:meth:`NearDupIndex.sharing`);
how telling a term is, and what decides a merge, are :mod:`.stories`'.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Callable, Iterable, Union

from .. import gcpolicy
from ..records import NearDupSettings

# A token on more items than this (in the three buckets probed) is too common to tell
# stories apart, and is not probed: this bounds the work per entry whatever the store size.
POSTING_CAP = 64
MAX_CANDIDATES = 16  # compared in full per entry, at most
Probe = tuple[int, str, "list[str] | None", "list[str] | None", "list[str] | None"]  # n, token, its lists
# An item's terms: a frozenset, or as a store keeps them (space-separated), split when needed.
Terms = Union[frozenset[str], str]
_NONE: dict[str, list[str]] = {}  # a bucket with no lists (never written to)


def _split(terms: Terms) -> Iterable[str]:
    return terms.split() if type(terms) is str else terms


class NearDupIndex:
    """Title token -> item ids, bucketed by publication time, so that a lookup costs the same
    whatever the number of items.

    Buckets are ``window_hours`` wide, so any two items inside the window sit in the
    same or adjacent buckets. A lookup counts, for each item, how many of the entry's
    terms it shares in those buckets, probing only terms on at most POSTING_CAP items
    there: a commoner word says nothing about which story it is, and skipping it bounds
    the work per entry, as does returning at most MAX_CANDIDATES items (see :meth:`sharing`).

    Items come in two ways: :meth:`add` indexes one now; :meth:`defer` only notes its
    bucket, and its terms are read by *load(item_id)* the first time a lookup touches
    that bucket. A run that merges nothing new never reads the store's terms.

    Per bucket the index keeps how many items carry each token (``_counts``, counted in C)
    and the ids in the order they were indexed (``_members``), but lists the ids of a token
    (``_lists``) only where it is on at most POSTING_CAP items: the only lists a lookup
    reads. Building every token's list took most of a warm run's merge at 100k stored items.
    """

    def __init__(self, settings: NearDupSettings,
                 load: Callable[[str], tuple[Terms, datetime | None]] | None = None):
        self.settings = settings
        self._load = load
        self._width = max(settings.window_hours, 1.0) * 3600
        self._counts: dict[int, Counter[str]] = {}  # bucket -> token -> items there with it
        self._lists: dict[int, dict[str, list[str]]] = {}  # bucket -> token -> item ids, in order indexed
        self._members: dict[int, dict[str, None]] = {}  # bucket -> its item ids, in order indexed
        self._meta: dict[str, tuple[Terms, datetime | None]] = {}
        self._pending: dict[int, list[str]] = {}  # bucket -> ids deferred there

    def _bucket(self, when: datetime) -> int:
        return math.floor(when.timestamp() / self._width)

    def defer(self, item_id: str, when: datetime | None) -> None:
        """Index *item_id* (published *when*) only once a lookup needs its bucket."""
        if when is not None and self._load is not None:
            self._pending.setdefault(self._bucket(when), []).append(item_id)

    def _ensure(self, b: int) -> None:
        for k in (b - 1, b, b + 1):
            ids = self._pending.pop(k, None)
            if ids:
                with gcpolicy.long_lived():  # the bucket's counts and lists, kept all run
                    self._build(k, ids)

    def _build(self, k: int, deferred: list[str]) -> None:
        """Index the items deferred in bucket *k* (after those indexed there already)."""
        meta, load = self._meta, self._load
        ids = [item_id for item_id in deferred if item_id not in meta]  # not re-indexed since
        loaded = list(map(load, ids))  # type: ignore[arg-type]
        meta.update(zip(ids, loaded))
        if None in map(itemgetter(1), loaded):  # removed since deferred: noted, in no bucket (as add())
            kept = [(i, x) for i, x in zip(ids, loaded) if x[1] is not None]
            ids, loaded = [i for i, _x in kept], [x for _i, x in kept]
        raw = list(map(itemgetter(0), loaded))
        terms = list(map(str.split, raw)) if all(type(t) is str for t in raw) else list(map(_split, raw))
        members = self._members.setdefault(k, {})
        earlier = list(members)
        members.update(dict.fromkeys(ids))
        counts = self._counts.setdefault(k, Counter())
        counts.update(chain.from_iterable(terms))  # counted in C
        listed = {tok for tok, n in counts.items() if n <= POSTING_CAP}
        lists: dict[str, list[str]] = {}
        for item_id in earlier:
            for tok in listed.intersection(_split(meta[item_id][0])):
                lists.setdefault(tok, []).append(item_id)
        get = lists.get
        for item_id, hits in zip(ids, map(listed.intersection, terms)):
            for tok in hits:
                found = get(tok)
                if found is None:
                    lists[tok] = [item_id]
                else:
                    found.append(item_id)
        self._lists[k] = lists

    def add(self, item_id: str, title: Terms, when: datetime | None) -> None:
        old = self._meta.get(item_id)
        if old is not None:
            if old[1] == when and frozenset(_split(old[0])) == frozenset(_split(title)):
                return
            if old[1] is not None:  # re-indexing an updated item: out of its old bucket first
                self._remove(item_id, old[0], self._bucket(old[1]))
        self._meta[item_id] = (title, when)
        if when is None:
            return
        b = self._bucket(when)
        members, counts = self._members.get(b), self._counts.get(b)
        if members is None:
            members = self._members[b] = {}
        if counts is None:
            counts = self._counts[b] = Counter()
        members[item_id] = None
        lists = None  # a bucket still deferred lists its tokens when built
        if b not in self._pending:
            lists = self._lists.get(b)
            if lists is None:
                lists = self._lists[b] = {}
        for tok in _split(title):
            n = counts.get(tok, 0)
            counts[tok] = n + 1
            if lists is not None:
                found = lists.get(tok)
                if found is not None:
                    found.append(item_id)
                elif not n:
                    lists[tok] = [item_id]
                # else: on more than POSTING_CAP items, not listed (_relisted lists it if it drops back)

    def _remove(self, item_id: str, title: Terms, was: int) -> None:
        members = self._members.get(was)
        if members is None or members.pop(item_id, 0) is not None:
            return  # not in that bucket
        counts, lists = self._counts[was], self._lists.get(was, {})
        for tok in _split(title):
            n = counts.get(tok, 0)
            if n:
                counts[tok] = n - 1
            found = lists.get(tok)
            if found and item_id in found:
                found.remove(item_id)

    def _relisted(self, k: int, tok: str) -> list[str] | None:
        """The ids of bucket *k* with *tok*, in order indexed, when a lookup finds the token
        under the cap there but not listed (it dropped back since the bucket was built)."""
        if not self._counts[k].get(tok):
            return None
        meta = self._meta
        found = [i for i in self._members[k] if tok in _split(meta[i][0])]
        self._lists.setdefault(k, {})[tok] = found
        return found

    def terms_of(self, item_id: str) -> frozenset[str]:
        """The title tokens an indexed item was indexed with."""
        meta = self._meta.get(item_id)
        if meta is None:
            return frozenset()
        terms = meta[0]
        if type(terms) is str:
            terms = frozenset(terms.split())
            self._meta[item_id] = (terms, meta[1])
        return terms  # type: ignore[return-value]

    def when_of(self, item_id: str) -> datetime | None:
        """The publication time an indexed item was indexed with."""
        meta = self._meta.get(item_id)
        return meta[1] if meta else None

    def _around(self, b: int) -> list[Counter[str]]:
        """The token counts of bucket *b* and the two beside it (built first; kept, so that a
        count read later sees later additions)."""
        if self._pending:
            self._ensure(b)
        counts = self._counts
        found = [counts.get(b - 1), counts.get(b), counts.get(b + 1)]
        if None in found:
            found = [c if c is not None else counts.setdefault(k, Counter()) for k, c in zip((b - 1, b, b + 1), found)]
        return found

    def frequencies(self, when: datetime) -> Callable[[str], int]:
        """How many indexed items around *when* (its bucket and the two beside) have a token,
        as a function of the token (the bucket found once)."""
        c0, c1, c2 = self._around(self._bucket(when))
        g0, g1, g2 = c0.get, c1.get, c2.get

        def count(token: str) -> int:
            return g0(token, 0) + g1(token, 0) + g2(token, 0)
        return count

    def sharing(self, title: frozenset[str], when: datetime | None, reach: Callable[[str], int],
                least: int = 2) -> list[str]:
        """Ids of indexed items that share *least* telling tokens with *title* (fewer if it has fewer).

        *reach(token)* is the number of items around *when* up to which a token is telling
        enough to count: only such tokens are probed, each as long as it is on at most
        POSTING_CAP items; a commoner telling token is not probed, and an item may share it
        unseen, so one token fewer is then asked. Of the items found, at most
        MAX_CANDIDATES are returned: those sharing the most probed tokens, then those
        sharing the rarest (the order does not depend on set order).
        """
        if when is None or not title:
            return []
        b = self._bucket(when)
        c0, c1, c2 = self._around(b)
        g0, g1, g2 = c0.get, c1.get, c2.get
        lists = self._lists
        l0, l1, l2 = lists.get(b - 1, _NONE), lists.get(b, _NONE), lists.get(b + 1, _NONE)
        probes: list[Probe] = []
        unseen = 0
        for tok in title:
            most = reach(tok)
            if not most:
                continue  # too common a word to tell, even on one item
            n = g0(tok, 0) + g1(tok, 0) + g2(tok, 0)
            if not n or n > most:
                continue  # a word no item has, or too common here
            if n > POSTING_CAP:
                unseen += 1
            else:
                before, here, after = l0.get(tok), l1.get(tok), l2.get(tok)
                if before is None and g0(tok):  # not listed: back under the cap since built
                    before = self._relisted(b - 1, tok)
                if here is None and g1(tok):
                    here = self._relisted(b, tok)
                if after is None and g2(tok):
                    after = self._relisted(b + 1, tok)
                probes.append((n, tok, before, here, after))
        need = max(1, min(least, len(title)) - unseen)
        if len(probes) < need:
            return []
        pool = _pooled(probes)
        if need == 1 and len(probes) == 1:
            return pool[:MAX_CANDIDATES]  # one token: its items, each once
        counts = Counter(pool)
        found = [cid for cid, k in counts.items() if k >= need] if need > 1 else list(counts)
        if len(found) > MAX_CANDIDATES:
            return heapq.nlargest(MAX_CANDIDATES, found, key=counts.__getitem__)
        return found


def _pooled(probes: list[Probe]) -> list[str]:
    """The item ids of *probes*, one entry per shared token, rarest token first: among items
    sharing as many tokens, those sharing the rarer ones come first. Sorted, so that the
    choice does not depend on set order."""
    probes.sort()
    pool: list[str] = []
    for _n, _tok, *lists in probes:
        for ids in lists:
            if ids:
                pool += ids
    return pool
