"""Near-duplicate detection: cheap text fingerprints and a time-bucketed inverted index.

Pure and standard-library only. Two stories are near duplicates when their titles
share almost all their words *and* their title + summary text shares almost all
its word 3-shingles (see :func:`similar`). Both figures are overlap coefficients
(|A∩B| / min(|A|, |B|)) once both sides are long enough, Jaccard below that: an
agency headline with ", officials say" appended, or a summary cut after its first
sentence, is still the same story, while a two-word title never wins on overlap.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .. import gcpolicy
from ..records import NearDupSettings
from ..text import plain_text

_WORD = re.compile(r"\w+")
_POSSESSIVE = re.compile(r"(\w)['’ʼ]s\b")
# Words too common in headlines to say anything about which story it is.
_STOP = frozenset("""
a an the and or but of in on at to for from by with as is are was were be been has have had
it its this that these those after over into amid says say said will would could not no new
how why what who when where than then also more up out about against
""".split())
TEXT_WORDS = 400  # words of title + summary fingerprinted; bounds the cost of long content
MIN_OVERLAP_TOKENS = 4  # below this, a set's overlap coefficient is too easy to max out
MIN_OVERLAP_SHINGLES = 8
# A token on more items than this (in the three buckets probed) is too common to tell
# stories apart, and is not probed: this bounds the work per entry whatever the store size.
POSTING_CAP = 64
MAX_CANDIDATES = 16  # compared in full per entry, at most
# The same wire copy (text overlap this high, over this many shingles) lets a headline
# differ a little more: "anti-personnel mines" edited to "anti-personnel landmines".
STRONG_TEXT = 0.9
STRONG_TEXT_SHINGLES = 15
TITLE_SLACK = 0.2  # how far short of title_similarity the same wire copy may fall


Shingles = frozenset[tuple[str, ...]]  # word 3-grams of a text


def _words(text: str) -> list[str]:
    if text.isascii():  # NFKC leaves ASCII as it is, and casefold is lower there
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
    if "'" in text or not text.isascii():
        text = _POSSESSIVE.sub(r"\1", text)
    return _WORD.findall(text)


@functools.lru_cache(maxsize=1 << 17)  # a new item's title is tokenised for dedup, then for the store
def title_tokens(title: str) -> frozenset[str]:
    """The distinctive words of a headline: case-folded, possessives and stop words dropped."""
    words = set(_words(title))
    words -= _STOP
    if min(map(len, words), default=2) == 1:
        words = {w for w in words if len(w) > 1 or w.isdigit()}
    return frozenset(words)


def text_shingles(title: str, html: str) -> Shingles:
    """Word 3-shingles of the title followed by the plain text of *html* (first TEXT_WORDS words)."""
    words = _words(title + " " + plain_text(html, limit=TEXT_WORDS * 12))[:TEXT_WORDS]
    if len(words) < 3:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(zip(words, words[1:], words[2:]))  # built in C: no joined strings


def resemblance(a: frozenset, b: frozenset, min_overlap: int) -> float:
    """Overlap coefficient when both sets have at least *min_overlap* members, else Jaccard."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    if min(len(a), len(b)) >= min_overlap:
        return common / min(len(a), len(b))
    return common / len(a | b)


@dataclass(frozen=True)
class Verdict:
    title: float
    text: float
    hours: float

    def reason(self, other_id: str) -> str:
        return (f"near duplicate of {other_id}: title {self.title:.2f}, text {self.text:.2f}, "
                f"published {self.hours:.1f}h apart")


def similar(title_a: frozenset[str], when_a: datetime | None, text_a: Callable[[], Shingles],
            title_b: frozenset[str], when_b: datetime | None, text_b: Callable[[], Shingles],
            settings: NearDupSettings) -> Verdict | None:
    """A Verdict if a and b are the same story under *settings*, else None.

    Titles must reach ``title_similarity`` and texts ``text_similarity``; a title up to
    TITLE_SLACK short of its threshold passes only when the texts are the same wire copy.

    The text shingles are passed as thunks: they cost far more than the title test
    that rejects almost every candidate, so they are built only when needed.
    """
    if when_a is None or when_b is None:
        return None  # no way to tell a republication from next year's story of the same name
    hours = abs((when_a - when_b).total_seconds()) / 3600
    if hours > settings.window_hours:
        return None
    t = resemblance(title_a, title_b, MIN_OVERLAP_TOKENS)
    if t < settings.title_similarity - TITLE_SLACK:
        return None
    ta, tb = text_a(), text_b()
    x = resemblance(ta, tb, MIN_OVERLAP_SHINGLES)
    if x < settings.text_similarity:
        return None
    if t < settings.title_similarity and not (
            x >= max(STRONG_TEXT, settings.text_similarity)
            and min(len(ta), len(tb)) >= STRONG_TEXT_SHINGLES):
        return None
    return Verdict(t, x, hours)


Probe = tuple[int, str, "list[str] | None", "list[str] | None", "list[str] | None"]  # n, token, its lists


class NearDupIndex:
    """Title token -> item ids, bucketed by publication time, so that a lookup costs the same
    whatever the number of items.

    Buckets are ``window_hours`` wide, so any two items inside the window sit in the
    same or adjacent buckets. A lookup counts, for each item, how many of the entry's
    title tokens it shares in those buckets, probing only tokens on at most
    POSTING_CAP items there: a commoner word says nothing about which story it is,
    and skipping it bounds the work per entry (issue 8), as does comparing at most
    MAX_CANDIDATES items in full (see :meth:`candidates`).

    Items come in two ways: :meth:`add` indexes one now; :meth:`defer` only notes its
    bucket, and its title is tokenised by *load(item_id)* the first time a lookup
    touches that bucket. A run that merges nothing new never tokenises the store.
    *text_of(item_id)* supplies an indexed item's shingles on demand.
    """

    def __init__(self, settings: NearDupSettings, text_of: Callable[[str], Shingles],
                 load: Callable[[str], tuple[frozenset[str], datetime | None]] | None = None):
        self.settings = settings
        self._text_of = text_of
        self._load = load
        self._width = max(settings.window_hours, 1.0) * 3600
        self._postings: dict[str, dict[int, list[str]]] = {}  # token -> bucket -> item ids
        self._meta: dict[str, tuple[frozenset[str], datetime | None]] = {}
        self._pending: dict[int, list[str]] = {}  # bucket -> ids deferred there
        floor = max(settings.title_similarity - TITLE_SLACK, 0.0)
        # An item at title overlap >= floor shares at least need[n] tokens with a title of n.
        # (The epsilon keeps float rounding from asking one token too many.)
        self._need = [max(1, math.ceil(floor * n - 1e-9)) for n in range(MIN_OVERLAP_TOKENS + 1)]
        # token -> the bucket for which it was found on more than POSTING_CAP items: skipped
        # at the cost of one lookup. Postings only grow; a removal forgets it all.
        self._common: dict[str, int] = {}

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
                self._common.clear()
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

    def frequency(self, token: str, when: datetime) -> int:
        """How many indexed items around *when* (its bucket and the two beside) have *token*."""
        return self.frequencies(when)(token)

    def frequencies(self, when: datetime) -> Callable[[str], int]:
        """:meth:`frequency` around *when*, as a function of the token (the bucket found once)."""
        b = self._bucket(when)
        if self._pending:
            self._ensure(b)
        postings = self._postings

        def count(token: str) -> int:
            by_bucket = postings.get(token)
            return _around(by_bucket, b)[0] if by_bucket else 0
        return count

    def candidates(self, title: frozenset[str], when: datetime | None) -> list[str]:
        """Ids of indexed items that share enough rare title tokens to be worth comparing.

        An item reaching the title floor shares at least ``need`` of the tokens, of which
        at most ``skipped`` are common ones not probed: so it shares ``need - skipped``
        probed ones. Of those, at most MAX_CANDIDATES are returned: those sharing the most
        tokens, then those sharing the rarest: the same story shares its rare words, while
        one name in common can match dozens of items.
        """
        if when is None or not title:
            return []
        b = self._bucket(when)
        if self._pending:
            self._ensure(b)
        postings, common = self._postings, self._common
        probes: list[Probe] = []
        skipped = 0
        for tok in title:
            if common.get(tok) == b:
                skipped += 1
                continue
            by_bucket = postings.get(tok)
            if by_bucket is None:
                continue  # a word no item has
            n, before, here, after = _around(by_bucket, b)
            if n > POSTING_CAP:
                common[tok] = b
                skipped += 1
            elif n:
                probes.append((n, tok, before, here, after))
        if not probes:
            return []
        pool = _pooled(probes)
        least = self._need[min(len(title), MIN_OVERLAP_TOKENS)] - skipped
        counts = Counter(pool)
        if len(counts) <= MAX_CANDIDATES:
            return list(counts) if least <= 1 else [cid for cid, n in counts.items() if n >= least]
        found = [cid for cid, n in counts.items() if n >= max(least, 2)]
        if len(found) > MAX_CANDIDATES:
            return heapq.nlargest(MAX_CANDIDATES, found, key=counts.__getitem__)
        if least <= 1 and len(found) < MAX_CANDIDATES:  # fill up with items sharing one token, the rarest first
            for cid, n in counts.items():
                if n == 1:
                    found.append(cid)
                    if len(found) >= MAX_CANDIDATES:
                        break
        return found

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

    def best(self, title: frozenset[str], when: datetime | None, text: Callable[[], Shingles],
             accept: Callable[[str], bool] = lambda _id: True) -> tuple[str, Verdict] | None:
        """The most similar indexed item that *accept* allows and that passes the thresholds.

        Ties (same text and title figures) go to the smallest id, whatever the order of
        the candidates.
        """
        best: tuple[str, Verdict] | None = None
        found = self.candidates(title, when)
        if not found:
            return None
        floor = self.settings.title_similarity - TITLE_SLACK
        n, need = len(title), self._need[min(len(title), MIN_OVERLAP_TOKENS)]
        ctitles = [self._meta[cid][0] for cid in found]
        # Tokens in common, counted in C for all candidates at once; below `need` none can pass.
        shared = list(map(len, map(title.intersection, ctitles)))
        for cid, ctitle, common in zip(found, ctitles, shared):
            if common < need:
                continue
            # The cheap title test first (resemblance, inlined): it rejects nearly every candidate.
            least = min(n, len(ctitle))
            t = common / least if least >= MIN_OVERLAP_TOKENS else common / (n + len(ctitle) - common)
            if t < floor or not accept(cid):
                continue
            v = similar(title, when, text, ctitle, self._meta[cid][1], lambda c=cid: self._text_of(c),
                        self.settings)
            if v and (best is None or (v.text, v.title, best[0]) > (best[1].text, best[1].title, cid)):
                best = (cid, v)
        return best



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
