"""Near-duplicate detection: cheap text fingerprints and a time-bucketed inverted index.

Pure and standard-library only. Two stories are near duplicates when their titles
share almost all their words *and* their title + summary text shares almost all
its word 3-shingles (see :func:`similar`). Both figures are overlap coefficients
(|A∩B| / min(|A|, |B|)) once both sides are long enough, Jaccard below that: an
agency headline with ", officials say" appended, or a summary cut after its first
sentence, is still the same story, while a two-word title never wins on overlap.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .records import NearDupSettings
from .text import plain_text

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
COMMON_POSTING = 1500  # a token on more items than this (in the window) is not probed
# The same wire copy (text overlap this high, over this many shingles) lets a headline
# differ a little more: "anti-personnel mines" edited to "anti-personnel landmines".
STRONG_TEXT = 0.9
STRONG_TEXT_SHINGLES = 15
TITLE_SLACK = 0.2  # a token on more items than this (per time bucket) is not probed


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(_POSSESSIVE.sub(r"\1", text))


def title_tokens(title: str) -> frozenset[str]:
    """The distinctive words of a headline: case-folded, possessives and stop words dropped."""
    return frozenset(w for w in _words(title) if w not in _STOP and (len(w) > 1 or w.isdigit()))


def text_shingles(title: str, html: str) -> frozenset[str]:
    """Word 3-shingles of the title followed by the plain text of *html* (first TEXT_WORDS words)."""
    words = _words(title + " " + plain_text(html, limit=TEXT_WORDS * 12))[:TEXT_WORDS]
    if len(words) < 3:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i:i + 3]) for i in range(len(words) - 2))


def resemblance(a: frozenset[str], b: frozenset[str], min_overlap: int) -> float:
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


def similar(title_a: frozenset[str], when_a: datetime | None, text_a: Callable[[], frozenset[str]],
            title_b: frozenset[str], when_b: datetime | None, text_b: Callable[[], frozenset[str]],
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


class NearDupIndex:
    """Title token -> item ids, bucketed by publication time so lookups stay small.

    Buckets are ``window_hours`` wide, so any two items inside the window sit in the
    same or adjacent buckets. A lookup probes the entry's rarest tokens there; it
    probes enough of them that any item reaching the title threshold shares one
    (prefix filtering), skipping only tokens too common to be worth probing.
    *text_of(item_id)* supplies an indexed item's shingles on demand.
    """

    def __init__(self, settings: NearDupSettings, text_of: Callable[[str], frozenset[str]]):
        self.settings = settings
        self._text_of = text_of
        self._width = max(settings.window_hours, 1.0) * 3600
        self._postings: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._meta: dict[str, tuple[frozenset[str], datetime | None]] = {}

    def _bucket(self, when: datetime) -> int:
        return math.floor(when.timestamp() / self._width)

    def add(self, item_id: str, title: frozenset[str], when: datetime | None) -> None:
        old = self._meta.get(item_id)
        if old is not None and old[1] is not None:  # re-indexing an updated item
            b = self._bucket(old[1])
            for tok in old[0]:
                ids = self._postings.get((b, tok))
                if ids and item_id in ids:
                    ids.remove(item_id)
        self._meta[item_id] = (title, when)
        if when is None:
            return
        b = self._bucket(when)
        for tok in title:
            self._postings[(b, tok)].append(item_id)

    def candidates(self, title: frozenset[str], when: datetime | None) -> list[str]:
        """Ids of indexed items that may reach the title threshold against *title*."""
        if when is None or not title:
            return []
        b = self._bucket(when)
        lists = {tok: [ids for k in (b - 1, b, b + 1) if (ids := self._postings.get((k, tok)))]
                 for tok in title}
        # An item at overlap >= floor shares at least `need` of these tokens. Count, for
        # every item, how many it shares among the tokens probed (all but the very common
        # ones); an item can have missed at most the skipped ones.
        floor = max(self.settings.title_similarity - TITLE_SLACK, 0.0)
        need = max(1, math.ceil(floor * min(MIN_OVERLAP_TOKENS, len(title))))
        found: Counter[str] = Counter()
        skipped = 0
        for ls in lists.values():
            if sum(map(len, ls)) > COMMON_POSTING:
                skipped += 1
                continue
            for ids in ls:
                found.update(ids)
        least = max(1, need - skipped)
        return [cid for cid, n in found.items() if n >= least]

    def best(self, title: frozenset[str], when: datetime | None, text: Callable[[], frozenset[str]],
             accept: Callable[[str], bool] = lambda _id: True) -> tuple[str, Verdict] | None:
        """The most similar indexed item that *accept* allows and that passes the thresholds."""
        best: tuple[str, Verdict] | None = None
        floor = self.settings.title_similarity - TITLE_SLACK
        for cid in self.candidates(title, when):
            ctitle, cwhen = self._meta[cid]
            # The cheap title test first: it rejects nearly every candidate.
            if resemblance(title, ctitle, MIN_OVERLAP_TOKENS) < floor or not accept(cid):
                continue
            v = similar(title, when, text, ctitle, cwhen, lambda c=cid: self._text_of(c),
                        self.settings)
            if v and (best is None or (v.text, v.title) > (best[1].text, best[1].title)):
                best = (cid, v)
        return best
