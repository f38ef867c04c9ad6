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
from typing import Callable

from .. import gcpolicy
from ..records import NearDupSettings

# A token on more items than this (in the three buckets probed) is too common to tell
# stories apart, and is not probed: this bounds the work per entry whatever the store size.
POSTING_CAP = 64
MAX_CANDIDATES = 16  # compared in full per entry, at most
Probe = tuple[int, str, "list[str] | None", "list[str] | None", "list[str] | None"]  # n, token, its lists


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
    """

    def __init__(self, settings: NearDupSettings,
                 load: Callable[[str], tuple[frozenset[str], datetime | None]] | None = None):
        self.settings = settings
        self._load = load
        self._width = max(settings.window_hours, 1.0) * 3600
        self._postings: dict[str, dict[int, list[str]]] = {}  # token -> bucket -> item ids
        self._meta: dict[str, tuple[frozenset[str], datetime | None]] = {}
        self._pending: dict[int, list[str]] = {}  # bucket -> ids deferred there

    def _bucket(self, when: datetime) -> int:
        return math.floor(when.timestamp() / self._width)

    def defer(self, item_id: str, when: datetime | None) -> None:
        """Index *item_id* (published *when*) only once a lookup needs its bucket."""
        if when is not None and self._load is not None:
            self._pending.setdefault(self._bucket(when), []).append(item_id)

    def _ensure(self, b: int) -> None:
        meta, load, add = self._meta, self._load, self._add
        for k in (b - 1, b, b + 1):
            ids = self._pending.pop(k, None)
            if ids:
                with gcpolicy.long_lived():  # postings for every item of the bucket, kept all run
                    for item_id in ids:
                        if item_id not in meta:  # not re-indexed since
                            title, when = load(item_id)
                            add(item_id, title, when, k)  # deferred in bucket k: no need to compute it again

    def add(self, item_id: str, title: frozenset[str], when: datetime | None) -> None:
        self._add(item_id, title, when, None if when is None else self._bucket(when))

    def _add(self, item_id: str, title: frozenset[str], when: datetime | None, b: int | None) -> None:
        old = self._meta.get(item_id)
        if old is not None:
            if old == (title, when):
                return
            if old[1] is not None:  # re-indexing an updated item: out of its old bucket first
                was = self._bucket(old[1])
                for tok in old[0]:
                    ids = self._postings.get(tok, {}).get(was)
                    if ids and item_id in ids:
                        ids.remove(item_id)
        self._meta[item_id] = (title, when)
        if b is None:
            return
        postings = self._postings
        for tok in title:
            by_bucket = postings.get(tok)
            if by_bucket is None:
                postings[tok] = {b: [item_id]}
            else:
                ids = by_bucket.get(b)
                if ids is None:
                    by_bucket[b] = [item_id]
                else:
                    ids.append(item_id)

    def terms_of(self, item_id: str) -> frozenset[str]:
        """The title tokens an indexed item was indexed with."""
        meta = self._meta.get(item_id)
        return meta[0] if meta else frozenset()

    def when_of(self, item_id: str) -> datetime | None:
        """The publication time an indexed item was indexed with."""
        meta = self._meta.get(item_id)
        return meta[1] if meta else None

    def frequencies(self, when: datetime) -> Callable[[str], int]:
        """How many indexed items around *when* (its bucket and the two beside) have a token,
        as a function of the token (the bucket found once)."""
        b = self._bucket(when)
        if self._pending:
            self._ensure(b)
        postings = self._postings

        def count(token: str) -> int:
            by_bucket = postings.get(token)
            return _around(by_bucket, b)[0] if by_bucket else 0
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
        if self._pending:
            self._ensure(b)
        postings = self._postings
        probes: list[Probe] = []
        unseen = 0
        for tok in title:
            most = reach(tok)
            if not most:
                continue  # too common a word to tell, even on one item
            by_bucket = postings.get(tok)
            if by_bucket is None:
                continue  # a word no item has
            n, before, here, after = _around(by_bucket, b)
            if not n or n > most:
                continue
            if n > POSTING_CAP:
                unseen += 1
            else:
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


def _around(by_bucket: dict[int, list[str]], b: int) -> tuple[int, list[str] | None, list[str] | None,
                                                               list[str] | None]:
    """How many items of bucket *b* and the two beside it a token's postings hold, and those
    three lists (None where there are none)."""
    get = by_bucket.get
    before, here, after = get(b - 1), get(b), get(b + 1)
    return (len(before) if before else 0) + (len(here) if here else 0) + (len(after) if after else 0), \
        before, here, after


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
