"""How much a word says about which story it is (``wordfreq``), and its stem (Snowball).

Both libraries load on first use, so a run that merges nothing new never pays for them.
wordfreq's "small" English list (29,000 words, ~12 MB in memory, ~1 s to load) is
enough: a word it does not list is rare, which is all the matcher needs to know.
"""

from __future__ import annotations

import functools
import math
from typing import Iterable

# Zipf frequency (log10 per billion words) at and above which a word weighs nothing:
# "the" is 7.7, "says" 5.6, "russia" 4.9, "estonia" 3.5, "expels" is not listed.
CEILING = 6.0
MAX_WEIGHT = 4.5


@functools.lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict
    return get_frequency_dict("en", wordlist="small")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: the Snowball stemmers, in C
    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=1 << 16)
def rarity(word: str) -> float:
    """0 for the commonest words, up to MAX_WEIGHT for words English rarely uses."""
    return _weigh(_frequencies().get(word))


def commonest(words: Iterable[str]) -> float:
    """The rarity of the commonest of *words* ("vaccine" of vaccin, vaccine, vaccins...)."""
    get = _frequencies().get
    return _weigh(max((get(w) or 0.0 for w in words), default=0.0))


def _weigh(freq: float | None) -> float:
    zipf = math.log10(freq * 1e9) if freq else 0.0
    return max(0.0, min(MAX_WEIGHT, CEILING - zipf))


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)
