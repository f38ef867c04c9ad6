"""A regex's needed literals: never wrong (a text the regex matches always passes), and useful.

Tables for what is found, then hypothesis: random texts made of the words the patterns
look for, case changes and the characters IGNORECASE treats specially (ı, İ, ſ, K), against
every regex of the shipped feeds.yaml and a few tricky ones. A wrong requirement would
hide a topic from an item, so the property is the test that matters.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paths import ROOT
from aggregator import config as configuration
from aggregator.tag import Rules
from aggregator.tag.literals import can_match, lowered, needed

SHIPPED = [rx for topic in configuration.load(ROOT / "feeds.yaml").topics
           for rx in (*topic.regex, *(p[1:-1] for p in (*topic.exclude, *topic.require)
                                      if len(p) > 1 and p.startswith("/") and p.endswith("/")))]
TRICKY = [r"\bRussia(?:n|'s|’s)?\s+(?:war|invasion)\b", r"(?:abc)+x?", r"ab|cd", r"a(?:bc|)d", r"x*yz{0,2}",
          r"(?-i:NATO)", r"(?=nato)\w+", r"(?!nato)\w+", r"(a)\1b", r"\d{2,} troops", r"[Ss]is",
          r"kiss", r"ﬁre", r"İstanbul", r"straße", r"(?:war){2}", r"(?>ab)c"]


@pytest.mark.parametrize("pattern, expected", [
    (r"\bsanctions?\b[^.]{0,40}\bRussia", [{"sanction"}, {"russia"}]),
    (r"\bRussia(?:n|'s)?\s+(?:war|invasion)\b", [{"russia"}, {"war", "invasion"}]),
    (r"\bballoons?\b|\bBelarus\w*", [{"balloon", "belarus"}]),
    (r"(?:abc)+", [{"abc"}]),  # a group repeated at least once
    (r"(?:abc)*xy", [{"xy"}]),  # one that may be absent needs nothing
    (r"ab|\w+", None),  # a branch that needs nothing
    (r"\d+", None),
    (r"(?!nato)\w+", None),  # a look-ahead that must fail needs nothing
    (r"İstanbul", [{"stanbul"}]),  # only ASCII counts
    (r"a.b", None),  # one letter is not worth a test
    (r"(", None),  # not a regex: no requirement, the regex engine reports it
])
def test_what_a_pattern_needs(pattern: str, expected: list[set[str]] | None) -> None:
    found = needed(pattern)
    assert (None if found is None else [set(one) for one in found]) == expected


@pytest.mark.parametrize("pattern, text", [
    (r"\bsanctions?\b", "New ſanctions"),  # IGNORECASE: s is ſ
    ("kiss", "KİSS"),  # İ matches i, though its full lowercase is two characters
    ("kiss", "Kıss"),  # and ı matches i
    ("kelvin", "\u212aELVIN"),  # the Kelvin sign's lowercase is k
    (r"(?-i:NATO) summit", "NATO SUMMIT"),
])
def test_the_characters_ignorecase_treats_specially_still_pass(pattern: str, text: str) -> None:
    assert re.search(pattern, text, re.IGNORECASE)
    assert can_match(needed(pattern), lowered(text))


def test_every_shipped_regex_but_few_needs_a_word() -> None:
    """The point of it: the shipped patterns are almost all ruled out by a substring test."""
    assert SHIPPED
    known = [rx for rx in SHIPPED if needed(rx)]
    assert len(known) >= 0.8 * len(SHIPPED)


WORDS = ["nato", "NATO", "Russia", "russian", "RUSSIA'S", "sanctions", "war", "invasion", "defence", "defense",
         "minister", "ministry", "of", "army", "cables", "damaged", "balloon", "Belarus", "anti-war", "155 mm",
         "2 x 3 mm", "abc", "x", "yz", "kiss", "KİSS", "Kıss", "Kiſs", "ſanctions", "Rußland", "straße", "STRASSE",
         "fire", "ﬁre", "İstanbul", "istanbul", "’s", "'s", ".", ",", "troops", "12", "a", "b", "d", "cd"]
TEXTS = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, pattern=st.sampled_from(SHIPPED + TRICKY))
def test_a_text_the_regex_matches_always_passes(text: str, pattern: str) -> None:
    if re.search(pattern, text, re.IGNORECASE):
        assert can_match(needed(pattern), lowered(text)), (pattern, text)


FAST = Rules.compile(configuration.load(ROOT / "feeds.yaml").topics)
SLOW = Rules.compile(configuration.load(ROOT / "feeds.yaml").topics)
for _rules in SLOW.topics:
    for _matcher in (_rules.include, _rules.exclude, _rules.require):
        _matcher._needs = [None] * len(_matcher.regexes)  # every regex runs


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_tagging_is_the_same_with_and_without_the_test(text: str) -> None:
    assert any(m._needs != [None] * len(m.regexes) for r in FAST.topics for m in (r.include, r.require))
    assert FAST.judge_text(text) == SLOW.judge_text(text)
