"""``aggregator eval``: the matcher and the topic rules scored on labelled sets, as the pipeline runs them.

Each merge set's reports go through ``dedup.ItemIndex.upsert`` one by one, in order of
publication, one feed per outlet: the same normalisation, candidate index, vetoes and
thresholds as a real run (the config's ``near_duplicates`` settings). Two reports are
merged when they end in one item. Tagging cases go through ``tag.Rules.tag`` with the
config's topics. Nothing is read from or written to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path

from .. import config as configuration, dedup, tag
from ..config import MergeSet, TagCase
from ..records import Config, Entry, Item, NearDupSettings, SourceRef

SPLITS = ("dev", "heldout")


@dataclass(frozen=True)
class MergeScore:
    name: str
    possible: int  # same-story pairs
    merged: int  # of them, merged
    false: int  # merged pairs that are not one story
    lookalikes: int  # pairs labelled look-alike (or, on a busy day, every other pair)
    false_lookalikes: int  # of them, merged
    missed: tuple[tuple[str, str], ...] = ()  # titles of same-story pairs left apart
    wrong: tuple[tuple[str, str], ...] = ()  # titles of pairs merged that should not be

    @property
    def recall(self) -> float:
        return self.merged / self.possible if self.possible else 1.0

    @property
    def false_share(self) -> float:
        return self.false_lookalikes / self.lookalikes if self.lookalikes else 0.0


@dataclass(frozen=True)
class TopicScore:
    slug: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class TagScore:
    cases: int
    topics: tuple[TopicScore, ...]
    wrong: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = field(default=())  # title, expected, got


def merge_items(mset: MergeSet, settings: NearDupSettings) -> dict[str, Item]:
    """Report ref -> the item it ended in, after upserting every report in order of publication."""
    index = dedup.ItemIndex({}, {}, settings)
    first = min((r.published for r in mset.reports if r.published), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    order = sorted(mset.reports, key=lambda r: (r.published or first, r.ref))
    out: dict[str, Item] = {}
    for r in order:
        feed = f"https://{r.source}.eval.invalid/feed"
        entry = Entry(guid=f"{mset.name}:{r.ref}", link=r.link, title=r.title, summary=r.summary,
                      published=r.published)
        now = (r.published or first) + timedelta(minutes=5)
        item, _status = index.upsert(entry, SourceRef(feed_url=feed, name=r.source), now)
        if item is None:  # only tombstones refuse an entry, and there are none here
            raise RuntimeError(f"{r.ref} was not stored")
        out[r.ref] = item
    return out


def score_merges(mset: MergeSet, settings: NearDupSettings) -> MergeScore:
    items = merge_items(mset, settings)
    titles = {r.ref: r.title for r in mset.reports}
    merged_pairs = {frozenset(p) for p in combinations(sorted(items), 2) if items[p[0]].id == items[p[1]].id}
    same = mset.same
    alike = mset.lookalikes
    n = len(mset.reports)
    lookalikes = len(alike) if alike is not None else n * (n - 1) // 2 - len(same)
    false = merged_pairs - same
    false_alike = len(false & alike) if alike is not None else len(false)

    def named(pairs):
        return tuple(sorted(tuple(titles[r] for r in sorted(p)) for p in pairs))
    return MergeScore(mset.name, len(same), len(same & merged_pairs), len(false), lookalikes, false_alike,
                      named(same - merged_pairs), named(false))


def score_tags(config: Config, cases: list[TagCase]) -> TagScore:
    rules = tag.Rules.compile(config.topics, ())
    slugs = [t.slug for t in config.topics]
    counts = {s: [0, 0, 0] for s in slugs}
    wrong = []
    for case in cases:
        item = Item(id="eval", keys=(), canonical_url=None, link=None, title=case.title, summary=case.summary)
        got = frozenset(rules.tag(item).topics)
        for s in slugs:
            if s in got and s in case.topics:
                counts[s][0] += 1
            elif s in got:
                counts[s][1] += 1
            elif s in case.topics:
                counts[s][2] += 1
        if got != case.topics:
            wrong.append((case.title, tuple(sorted(case.topics)), tuple(sorted(got))))
    return TagScore(len(cases), tuple(TopicScore(s, *counts[s]) for s in slugs), tuple(wrong))


def evaluate(config: Config, data: Path, split: str = "dev") -> tuple[list[MergeScore], TagScore | None]:
    """Score every merge set and the tagging set of *split* found in *data*."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    scores = []
    for kind in configuration.MERGE_KINDS:
        for path in split_files(data, kind, split):
            scored = score_merges(configuration.load_merge_set(path), config.settings.near_duplicates)
            scores.append(replace(scored, name=path.stem.replace(f"_{split}", "")))
    cases = [c for path in split_files(data, "tagging", split) for c in configuration.load_tag_cases(path)]
    return scores, (score_tags(config, cases) if cases else None)


def split_files(data: Path, kind: str, split: str) -> list[Path]:
    """``KIND_SPLIT.yaml`` first, then its companions ``KIND_SPLIT-NAME.yaml`` (for example the
    dev split's ``-retired`` files: a former held-out split, scored once, then worked on)."""
    main = data / f"{kind}_{split}.yaml"
    return [main] * main.exists() + sorted(data.glob(f"{kind}_{split}-*.yaml"))


def evaluation_data(split: str, merges: list[MergeScore], tags: TagScore | None, details: bool = False) -> dict:
    """What ``aggregator eval --json`` prints."""
    out: dict = {"split": split, "merging": {}, "tagging": None}
    for m in merges:
        row = {"recall": round(m.recall, 4), "merged_pairs": m.merged, "possible_pairs": m.possible,
               "false_merges": m.false, "lookalike_pairs": m.lookalikes, "lookalikes_merged": m.false_lookalikes,
               "false_share": round(m.false_share, 4)}
        if details:
            row.update(missed=[list(p) for p in m.missed], wrong=[list(p) for p in m.wrong])
        out["merging"][m.name] = row
    if tags is not None:
        out["tagging"] = {"cases": tags.cases, "topics": {
            t.slug: {"precision": round(t.precision, 4), "recall": round(t.recall, 4), "f1": round(t.f1, 4),
                     "tp": t.tp, "fp": t.fp, "fn": t.fn} for t in tags.topics}}
        if details:
            out["tagging"]["wrong"] = [{"title": t, "expected": list(e), "got": list(g)} for t, e, g in tags.wrong]
    return out
