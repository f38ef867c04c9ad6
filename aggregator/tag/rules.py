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
from dataclasses import dataclass, field
from typing import Iterable

from .patterns import PATTERN_KINDS, Field, Lexicon, Matcher, check_pattern, keyword_regex
from ..records import Entry, Item, Match, Source, Topic
from ..text import plain_text

__all__ = ["Rules", "TopicRules", "Verdict", "check_pattern", "keyword_regex", "PATTERN_KINDS", "CONTENT_MIN_HITS"]
CONTENT_MIN_HITS = 2
TEXTS_REMEMBERED = 1 << 17  # texts whose reasons Rules.tag keeps for the run (a few MB of references)


Text = tuple  # (title, summary, content, categories): what the topic rules read of an item or entry


def text_of(item: Item | Entry) -> Text:
    """The part of an item (or of the entry it comes from: the same strings) the topic rules read."""
    return item.title, item.summary, item.content, item.categories


def item_fields(item: Item | Entry, lexicon: Lexicon) -> tuple[Field, ...]:
    """The plain texts of an item that rules look at, scanned once."""
    return text_fields(text_of(item), lexicon)


def text_fields(text: Text, lexicon: Lexicon) -> tuple[Field, ...]:
    title, summary, content, categories = text
    summary = plain_text(summary)
    content = plain_text(content)
    if content == summary:
        content = ""
    texts = [("title", title), ("summary", summary), ("categories", " | ".join(categories)),
             ("content", content)]
    return tuple(Field.scanned(n, t, lexicon) for n, t in texts if t)


@dataclass(frozen=True)
class TopicRules:
    slug: str
    include: Matcher
    exclude: Matcher
    require: Matcher

    @classmethod
    def of(cls, topic: Topic, lexicon: Lexicon) -> "TopicRules":
        return cls(topic.slug, Matcher(lexicon, topic.keywords, topic.regex),
                   Matcher.of_mixed(lexicon, topic.exclude), Matcher.of_mixed(lexicon, topic.require))

    def match(self, fields: Iterable[Field]) -> list[Match]:
        """The reasons this topic holds for these fields (empty if it does not)."""
        verdict = self.judge(fields)
        return list(verdict.reasons) if verdict is not None and verdict.held else []

    def judge(self, fields: Iterable[Field]) -> Verdict | None:
        """This topic's verdict on these fields: held, removed by an exclude, or withheld for
        want of a require; None when no keyword or regex matched (nothing to explain)."""
        fields = list(fields)
        found: list[Match] = []
        for f in fields:
            hits = [Match(self.slug, h.rule, h.pattern, f.name, h.text)
                    for h in self.include.hits(f)]
            if f.name == "content" and len(hits) < CONTENT_MIN_HITS:
                continue
            found.extend(hits)
        if not found:
            return None
        for f in fields:
            h = next(self.exclude.hits(f), None)
            if h is not None:
                pattern = f"/{h.pattern}/" if h.rule == "regex" else h.pattern  # as feeds.yaml writes it
                blocked = Match(self.slug, "exclude", pattern, f.name, h.text)
                return Verdict(self.slug, tuple(_first_per_pattern(found)), blocked_by=blocked)
        if self.require:
            need = next((Match(self.slug, "require", h.pattern, f.name, h.text)
                         for f in fields for h in self.require.hits(f)), None)
            if need is None:
                return Verdict(self.slug, tuple(_first_per_pattern(found)), missing=self.require.patterns)
            found.append(need)
        return Verdict(self.slug, tuple(_first_per_pattern(found)))


@dataclass(frozen=True)
class Verdict:
    """One topic's answer for an item or a text whose keyword or regex matched."""

    topic: str
    reasons: tuple[Match, ...]  # what matched (the reasons it holds, when it does)
    blocked_by: Match | None = None  # the exclude rule that removed it: its word and field
    missing: tuple[str, ...] = ()  # the require patterns, none of which matched

    @property
    def held(self) -> bool:
        return self.blocked_by is None and not self.missing

    def why_not(self) -> str:
        """"removed by exclude 'basketball' in title ('Basketball')", or "withheld: …"; '' if held."""
        if self.blocked_by is not None:
            m = self.blocked_by
            return f"removed by exclude {m.pattern!r} in {m.field} ({m.text!r})"
        if self.missing:
            return "withheld: no require pattern matched (" + ", ".join(repr(p) for p in self.missing) + ")"
        return ""


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
    lexicon: Lexicon
    # With remember: (title, summary, content, categories) -> the topic rules' reasons. A poll tags
    # a story again when another outlet's report joins it, its text unchanged (43 % of a cold
    # poll's tagging at N = 2000); a retag meets each text once, and remembers none.
    _texts: dict[tuple, tuple[Match, ...]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def compile(cls, topics: Iterable[Topic], sources: Iterable[Source] = (), *, remember: bool = False) -> "Rules":
        """Compile every topic's patterns once; raises ValueError naming a bad pattern. *remember*:
        keep each text's reasons, for a caller that tags the same texts again."""
        compiled = []
        lexicon = Lexicon()
        for t in topics:
            for kind, pats in (("keyword", t.keywords), ("regex", t.regex), ("exclude", t.exclude),
                               ("require", t.require)):
                for p in pats:
                    err = check_pattern(kind, p)
                    if err:
                        raise ValueError(f"topic {t.slug}: {err}")
            compiled.append(TopicRules.of(t, lexicon))
        sources = list(sources)
        return cls(
            topics=tuple(compiled),
            tags={s.key: tuple(s.tags) for s in sources},
            categories={s.key: {c.casefold().strip(): slug for c, slug in s.categories} for s in sources},
            names={s.key: s.name or s.key for s in sources},
            lexicon=lexicon,
            _texts={} if remember else None,
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
        texts, text = self._texts, text_of(item)
        found = texts.get(text) if texts is not None else None
        if found is None:
            found = self.text_reasons(text)
            self.remember(((text, found),))  # kept only with *remember*
        reasons.extend(found)
        reasons = tuple(dict.fromkeys(reasons))
        topics = tuple(sorted({m.topic for m in reasons}))
        if topics == item.topics and reasons == item.reasons:
            return item  # replace() would cost more than the rest of tagging an untopical item
        return dataclasses.replace(item, topics=topics, reasons=reasons)

    def text_reasons(self, text: Text) -> tuple[Match, ...]:
        """The topic rules' reasons for one text (``text_of`` an item or an entry): all of tagging
        that is not the source's, a pure function of these four strings."""
        if not self.topics:  # a config of source tags and categories only: nothing to read
            return ()
        fields = text_fields(text, self.lexicon)
        return tuple(m for rules in self.topics for m in rules.match(fields))

    def remember(self, known: Iterable[tuple[Text, tuple[Match, ...]]]) -> None:
        """Keep these texts' reasons (from ``text_reasons``, maybe in another process: the
        parser processes tag what they parse), so ``tag`` only looks them up. Only with
        *remember*; a full memory is emptied first."""
        texts = self._texts
        if texts is None:
            return
        for text, found in known:
            if len(texts) >= TEXTS_REMEMBERED:
                texts.clear()
            texts[text] = found

    def match_text(self, text: str) -> dict[str, list[Match]]:
        """Topic slug -> reasons, for free text; only topics that hold."""
        return {slug: list(v.reasons) for slug, v in self.judge_text(text).items() if v.held}

    def judge_text(self, text: str) -> dict[str, Verdict]:
        """Topic slug -> verdict, for free text (``aggregator try-rules``): the topics that hold,
        and those an exclude removed or a require withheld."""
        return self._judge((Field.scanned("text", text, self.lexicon),))

    def judge_item(self, item: Item) -> dict[str, Verdict]:
        """Topic slug -> verdict of the topic rules on *item* as the rules are now (``explain``);
        a source's tags and categories are not rules that can be withheld, so not here."""
        return self._judge(item_fields(item, self.lexicon))

    def _judge(self, fields: tuple[Field, ...]) -> dict[str, Verdict]:
        out = {}
        for rules in self.topics:
            verdict = rules.judge(fields)
            if verdict is not None:
                out[rules.slug] = verdict
        return out
