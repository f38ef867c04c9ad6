"""Topic pattern syntax and fast matching: keywords, phrases, prefix wildcards and regexes.

Keywords of every topic share one :class:`Lexicon`, indexed by their first word (or
the first three letters of a wildcard stem), so a text is scanned once, word by word,
whatever the number of keywords; each candidate is confirmed by its own anchored regex
(word boundaries, phrases, hyphens and apostrophes of any kind).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .literals import can_match, lowered, needed

PATTERN_KINDS = ("keyword", "keywords", "regex", "exclude", "require")
_WILDCARD_MIN = 3  # letters before a trailing *: "Ukr*" is fine, "U*" would match too much
_APOSTROPHES = "'’ʼ"
_HYPHENS = "-‐‑–"
_WORD_RUN = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_CANDIDATES_KEPT = 50_000  # words whose candidate keywords a Lexicon remembers (a few MB at most)


def _trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of *words* as a prefix, as a trie: each position tries only the
    branches its next character allows, whatever the number of words."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:  # a whole word ends here: longer ones need not be spelled out
            return ""
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


# ----------------------------------------------------------------------------- syntax


def _is_regex_form(pattern: str) -> bool:
    return len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/")


def _keyword_error(pattern: str) -> str | None:
    word = pattern.strip()
    if not word:
        return "empty keyword"
    if "*" in word[:-1]:
        return f"keyword {pattern!r}: '*' is allowed only at the end (a prefix wildcard)"
    if word.endswith("*") and len(word.rstrip("*")) < _WILDCARD_MIN:
        return f"keyword {pattern!r}: a wildcard needs at least {_WILDCARD_MIN} characters before '*'"
    if not re.search(r"\w", word):
        return f"keyword {pattern!r} has no letters or digits"
    if _is_regex_form(word):  # it would be matched as the literal text, slashes and all
        return f"keyword {pattern!r} is a regular expression: put it under 'regex:', without the slashes"
    return None


def _regex_error(pattern: str) -> str | None:
    if not pattern:
        return "empty regex"
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        return f"regex {pattern!r}: {e}"
    if compiled.search("") is not None:
        return f"regex {pattern!r} matches empty text, so it would match every item"
    return None


def check_pattern(kind: str, pattern: str) -> str | None:
    """An error message for a bad keyword/regex/exclude/require pattern, or None if it is fine."""
    if kind not in PATTERN_KINDS:
        return f"unknown pattern kind {kind!r} (expected one of {', '.join(PATTERN_KINDS)})"
    if not isinstance(pattern, str):
        return f"{kind} must be a string, not {type(pattern).__name__}"
    if kind == "regex":
        return _regex_error(pattern)
    if kind in ("exclude", "require") and _is_regex_form(pattern):
        return _regex_error(pattern[1:-1])
    return _keyword_error(pattern)


def keyword_regex(keyword: str) -> str:
    """The regex source for one keyword, to be matched against case-folded text."""
    word = keyword.strip().casefold()
    prefix = word.endswith("*")
    parts = []
    for ch in word.rstrip("*"):
        if ch.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif ch in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        elif ch in _HYPHENS:
            parts.append(rf"[{_HYPHENS}]\s*")
        else:
            parts.append(re.escape(ch))
    return r"(?<!\w)" + "".join(parts) + (r"\w*" if prefix else "") + r"(?!\w)"


# ----------------------------------------------------------------------------- matchers


@dataclass(frozen=True)
class Hit:
    rule: str  # "keyword" | "regex"
    pattern: str  # as written in the config
    text: str  # the words matched


@dataclass(frozen=True)
class _Keyword:
    owner: int  # the Matcher it belongs to
    pattern: str  # as written
    regex: re.Pattern
    stem: str  # for a one-word wildcard: its stem; else ""


class Lexicon:
    """Every keyword of every Matcher, indexed for one pass over a text's words."""

    def __init__(self) -> None:
        self._exact: dict[str, list[_Keyword]] = {}  # first word -> keywords
        self._stems: dict[str, list[_Keyword]] = {}  # first 3 letters of a stem -> keywords
        self._slow: list[_Keyword] = []  # keywords that start with a non-word character
        self._trigger: re.Pattern | None = None  # the words that may start a keyword; built on use
        # word -> its candidate keywords, longest first: the same few words recur in every text
        self._candidates: dict[str, tuple[_Keyword, ...]] = {}
        self.owners = 0

    def new_owner(self) -> int:
        self.owners += 1
        return self.owners

    def add(self, owner: int, keyword: str) -> None:
        self._trigger = None
        self._candidates = {}
        folded = keyword.strip().casefold()
        rx = re.compile(keyword_regex(keyword), re.IGNORECASE)
        first = _WORD_RUN.match(folded)
        if first is None:
            self._slow.append(_Keyword(owner, keyword, rx, ""))
        elif folded.endswith("*") and first.end() == len(folded) - 1:
            stem = first.group()
            self._stems.setdefault(stem[:3], []).append(_Keyword(owner, keyword, rx, stem))
        else:
            self._exact.setdefault(first.group(), []).append(_Keyword(owner, keyword, rx, ""))

    def scan(self, folded: str) -> dict[int, list[tuple[int, int, str]]]:
        """Owner -> (start, end, keyword) of its matches in the case-folded *folded*."""
        out: dict[int, list[tuple[int, int, str]]] = {}
        ends: dict[int, int] = {}  # an owner's matches never overlap
        exact, stems = self._exact, self._stems
        if self._trigger is None:
            stem_words = {k.stem for ks in stems.values() for k in ks}
            # Whole word runs that start with a keyword's first word or a wildcard's stem:
            # the regex engine skips every other word, which Python would visit one by one.
            self._trigger = re.compile(r"(?<!\w)" + _trie_regex(exact.keys() | stem_words) + r"\w*"
                                       if exact or stem_words else r"(?!)")
        known = self._candidates
        for word in self._trigger.finditer(folded):
            w = word.group()
            cands = known.get(w)
            if cands is None:
                cands = exact.get(w)
                by_stem = stems.get(w[:3])
                if by_stem:
                    cands = (cands or []) + [k for k in by_stem if w.startswith(k.stem)]
                # Longest first, so "NATO-led" is reported rather than "NATO" where both fit.
                cands = tuple(sorted(cands or (), key=lambda k: len(k.pattern), reverse=True))
                if len(known) >= _CANDIDATES_KEPT:
                    known.clear()
                known[w] = cands
            if not cands:
                continue
            start = word.start()
            done: set[int] = set()
            for k in cands:
                if k.owner in done or start < ends.get(k.owner, 0):
                    continue
                m = k.regex.match(folded, start)
                if m:
                    done.add(k.owner)
                    ends[k.owner] = m.end()
                    out.setdefault(k.owner, []).append((start, m.end(), k.pattern))
        for k in self._slow:
            for m in k.regex.finditer(folded):
                out.setdefault(k.owner, []).append((m.start(), m.end(), k.pattern))
        return out


@dataclass
class Field:
    """One text of an item, case-folded and scanned once for every keyword of every topic."""

    name: str  # "title" | "summary" | "content" | "categories" | "text"
    text: str
    spans: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    source: str = ""  # what matched words are cut from

    @functools.cached_property
    def lowered(self) -> str:
        """The text as a regex's needed literals are looked for in it (``literals.lowered``)."""
        return lowered(self.text)

    @classmethod
    def scanned(cls, name: str, text: str, lexicon: Lexicon) -> "Field":
        folded = text.casefold()
        # casefold can change lengths (ß -> ss); only then report the folded words.
        return cls(name, text, lexicon.scan(folded), text if len(folded) == len(text) else folded)


class Matcher:
    """One list of patterns (a topic's keywords+regex, its exclude, or its require)."""

    def __init__(self, lexicon: Lexicon, keywords: Iterable[str] = (), regexes: Iterable[str] = ()):
        self.keywords = list(dict.fromkeys(k.strip() for k in keywords if k.strip()))
        self.regexes = list(dict.fromkeys(regexes))
        self.owner = lexicon.new_owner()
        for kw in self.keywords:
            lexicon.add(self.owner, kw)
        self._re = [re.compile(r, re.IGNORECASE) for r in self.regexes]
        self._needs = [needed(r) for r in self.regexes]  # what each cannot match without (literals.py)

    @classmethod
    def of_mixed(cls, lexicon: Lexicon, patterns: Iterable[str]) -> "Matcher":
        """exclude/require: keywords, or /regex/ in slashes."""
        pats = list(patterns)
        return cls(lexicon, [p for p in pats if not _is_regex_form(p)],
                   [p[1:-1] for p in pats if _is_regex_form(p)])

    def __bool__(self) -> bool:
        return bool(self.keywords or self.regexes)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The patterns as exclude/require write them: keywords, and regexes in slashes."""
        return (*self.keywords, *(f"/{r}/" for r in self.regexes))

    def hits(self, f: Field) -> Iterator[Hit]:
        for start, end, kw in f.spans.get(self.owner, ()):
            yield Hit("keyword", kw, f.source[start:end])
        for pattern, rx, needs in zip(self.regexes, self._re, self._needs):
            if needs is not None and not can_match(needs, f.lowered):
                continue  # cannot match: none of the words it needs is there
            for m in rx.finditer(f.text):
                if m.group(0):
                    yield Hit("regex", pattern, m.group(0))
