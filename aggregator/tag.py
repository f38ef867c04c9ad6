"""Item -> topics, and why: topic rules compiled once per run.

Pattern syntax (``keywords``, ``exclude`` and ``require`` entries):

    NATO                 a whole word, any case: NATO, Nato, NATO's, NATO-led; not NATOs
    Baltic Defence Line  a phrase: any run of spaces between the words
    Україн*              a trailing * makes a prefix: Україна, України, Україні, Україну
    /\\bF-?35s?\\b/      in exclude/require, slashes make a regular expression

``regex`` entries are regular expressions (case-insensitive). Letters are matched
case-folded, and a word boundary is any non-letter/digit character of any
script, so the same rules serve English, Estonian, Latvian, Lithuanian, Ukrainian
and Russian text.

A topic holds an item when a keyword or regex matches its title, summary,
categories or content (content needs two hits: one passing mention in a long body
is not a story about the topic), no ``exclude`` pattern matches anywhere, and, if
``require`` is set, one of those matches too. A source's ``tags`` and mapped
``categories`` always apply: the operator said so.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from .records import Item, Match, Source, Topic
from .text import plain_text

CONTENT_MIN_HITS = 2
PATTERN_KINDS = ("keyword", "keywords", "regex", "exclude", "require")
_WILDCARD_MIN = 3  # letters before a trailing *: "Ukr*" is fine, "U*" would match too much
_APOSTROPHES = "'’ʼ"
_HYPHENS = "-‐‑–"


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


_WORD_RUN = re.compile(r"\w+")


class Matcher:
    """A list of patterns, compiled once: keywords (on case-folded text) and regexes.

    Keywords are found through a dict of their first words, so a text costs one pass
    over its words whatever the number of keywords; each candidate is then confirmed
    by its own anchored regex (boundaries, phrases, hyphens).
    """

    def __init__(self, keywords: Iterable[str] = (), regexes: Iterable[str] = ()):
        # Longest first, so "NATO-led" is reported rather than "NATO" where both fit.
        self.keywords = sorted(dict.fromkeys(k.strip() for k in keywords if k.strip()), key=len, reverse=True)
        self.regexes = list(dict.fromkeys(regexes))
        self._exact: dict[str, list[tuple[str, re.Pattern]]] = {}  # first word -> candidates
        self._prefix: dict[str, list[tuple[str, re.Pattern]]] = {}  # a one-word* keyword's stem
        self._stem_lengths: list[int] = []
        self._slow: list[tuple[str, re.Pattern]] = []  # keywords that start with a non-word character
        for kw in self.keywords:
            folded = kw.casefold()
            rx = re.compile(keyword_regex(kw), re.IGNORECASE)
            first = _WORD_RUN.match(folded)
            if first is None:
                self._slow.append((kw, rx))
            elif folded.endswith("*") and first.end() == len(folded) - 1:
                self._prefix.setdefault(first.group(), []).append((kw, rx))
            else:
                self._exact.setdefault(first.group(), []).append((kw, rx))
        self._stem_lengths = sorted({len(stem) for stem in self._prefix})
        self._re = [re.compile(r, re.IGNORECASE) for r in self.regexes]

    @classmethod
    def of_mixed(cls, patterns: Iterable[str]) -> "Matcher":
        """exclude/require: keywords, or /regex/ in slashes."""
        pats = list(patterns)
        return cls([p for p in pats if not _is_regex_form(p)], [p[1:-1] for p in pats if _is_regex_form(p)])

    def __bool__(self) -> bool:
        return bool(self.keywords or self.regexes)

    def _keyword_spans(self, folded: str) -> Iterator[tuple[int, int, str]]:
        end = 0
        for word in _WORD_RUN.finditer(folded):
            if word.start() < end:
                continue  # inside the previous match
            w = word.group()
            cands = list(self._exact.get(w, ()))
            for n in self._stem_lengths:
                if n > len(w):
                    break
                cands.extend(self._prefix.get(w[:n], ()))
            if not cands:
                continue
            cands.sort(key=lambda c: len(c[0]), reverse=True)
            for kw, rx in cands:
                m = rx.match(folded, word.start())
                if m:
                    end = m.end()
                    yield m.start(), m.end(), kw
                    break
        for kw, rx in self._slow:
            for m in rx.finditer(folded):
                yield m.start(), m.end(), kw

    def hits(self, text: str, folded: str | None = None) -> Iterator[Hit]:
        if not text:
            return
        if self._exact or self._prefix or self._slow:
            folded = text.casefold() if folded is None else folded
            # casefold can change lengths (ß -> ss); only then report the folded words.
            source = text if len(folded) == len(text) else folded
            for start, end, kw in self._keyword_spans(folded):
                yield Hit("keyword", kw, source[start:end])
        for pattern, rx in zip(self.regexes, self._re):
            for m in rx.finditer(text):
                if m.group(0):
                    yield Hit("regex", pattern, m.group(0))


@dataclass(frozen=True)
class Field:
    name: str  # "title" | "summary" | "content" | "categories" | "text"
    text: str
    folded: str


def item_fields(item: Item) -> tuple[Field, ...]:
    """The plain texts of an item that rules look at."""
    summary = plain_text(item.summary)
    content = plain_text(item.content)
    if content == summary:
        content = ""
    texts = [("title", item.title), ("summary", summary), ("categories", " | ".join(item.categories)),
             ("content", content)]
    return tuple(Field(n, t, t.casefold()) for n, t in texts if t)


@dataclass(frozen=True)
class TopicRules:
    slug: str
    include: Matcher
    exclude: Matcher
    require: Matcher

    @classmethod
    def of(cls, topic: Topic) -> "TopicRules":
        return cls(topic.slug, Matcher(topic.keywords, topic.regex), Matcher.of_mixed(topic.exclude),
                   Matcher.of_mixed(topic.require))

    def match(self, fields: Iterable[Field]) -> list[Match]:
        """The reasons this topic holds for these fields (empty if it does not)."""
        fields = list(fields)
        found: list[Match] = []
        for f in fields:
            hits = [Match(self.slug, h.rule, h.pattern, f.name, h.text)
                    for h in self.include.hits(f.text, f.folded)]
            if f.name == "content" and len(hits) < CONTENT_MIN_HITS:
                continue
            found.extend(hits)
        if not found:
            return []
        for f in fields:
            if next(self.exclude.hits(f.text, f.folded), None) is not None:
                return []
        if self.require:
            need = next((Match(self.slug, "require", h.pattern, f.name, h.text)
                         for f in fields for h in self.require.hits(f.text, f.folded)), None)
            if need is None:
                return []
            found.append(need)
        return _first_per_pattern(found)


def _first_per_pattern(matches: list[Match]) -> list[Match]:
    """One reason per (rule, pattern, field): enough to explain, small enough to store."""
    seen: dict[tuple[str, str, str], Match] = {}
    for m in matches:
        seen.setdefault((m.rule, m.pattern, m.field), m)
    return list(seen.values())


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rules:
    topics: tuple[TopicRules, ...]
    tags: dict[str, tuple[str, ...]]  # Source.key -> topic slugs
    categories: dict[str, dict[str, str]]  # Source.key -> case-folded feed category -> slug
    names: dict[str, str]  # Source.key -> display name

    @classmethod
    def compile(cls, topics: Iterable[Topic], sources: Iterable[Source] = ()) -> "Rules":
        """Compile every topic's patterns once; raises ValueError naming a bad pattern."""
        compiled = []
        for t in topics:
            for kind, pats in (("keyword", t.keywords), ("regex", t.regex), ("exclude", t.exclude),
                               ("require", t.require)):
                for p in pats:
                    err = check_pattern(kind, p)
                    if err:
                        raise ValueError(f"topic {t.slug}: {err}")
            compiled.append(TopicRules.of(t))
        sources = list(sources)
        return cls(
            topics=tuple(compiled),
            tags={s.key: tuple(s.tags) for s in sources},
            categories={s.key: {c.casefold().strip(): slug for c, slug in s.categories} for s in sources},
            names={s.key: s.name or s.key for s in sources},
        )

    def tag(self, item: Item) -> Item:
        """*item* with ``topics`` (sorted slugs) and ``reasons`` set afresh."""
        reasons: list[Match] = []
        for ref in item.sources:
            name = self.names.get(ref.feed_url, ref.name or ref.feed_url)
            for slug in self.tags.get(ref.feed_url, ()):
                reasons.append(Match(slug, "tag", slug, "source", name))
            mapping = self.categories.get(ref.feed_url)
            if mapping:
                for cat in item.categories:
                    slug = mapping.get(cat.casefold().strip())
                    if slug:
                        reasons.append(Match(slug, "category", cat, "categories", name))
        fields = item_fields(item)
        for rules in self.topics:
            reasons.extend(rules.match(fields))
        reasons = list(dict.fromkeys(reasons))
        topics = tuple(sorted({m.topic for m in reasons}))
        return dataclasses.replace(item, topics=topics, reasons=tuple(reasons))

    def match_text(self, text: str) -> dict[str, list[Match]]:
        """Topic slug -> reasons, for free text (``aggregator try-rules``); only topics that hold."""
        fields = (Field("text", text, text.casefold()),)
        out = {}
        for rules in self.topics:
            found = rules.match(fields)
            if found:
                out[rules.slug] = found
        return out
