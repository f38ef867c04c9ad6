"""Micro-benchmark of dedup and tag alone: µs per entry at 10k, 50k and 100k entries.

    .venv/bin/python -m benchmarks.dedup_bench                         # this tree
    .venv/bin/python -m benchmarks.dedup_bench --baseline /tmp/before   # also a copy of an older
                                                                        # aggregator/ package, same run
    .venv/bin/python -m benchmarks.dedup_bench --stored 1000 10000 100000 --new 5000
                          # µs per new entry against 1k, 10k, 100k stored items, and the ratios

Entries come from ``synth.item`` (bodies, links, dates, wire stories), as the parse
stage would hand them over (sanitised HTML, safe links). Two things are added so
that near-duplicate search meets real work: each headline gets two or three words
from a Zipf-distributed vocabulary of 30,000 (names and places: real headline words
range from "Ukraine" to "Syniehubov"), and about 3 % of the stories are republished
by another feed under another link with ", officials say" appended: near duplicates
that only the title and text can merge.

Timed, per size, in one process: ``ItemIndex.upsert`` of every entry into an empty
index (new), building the next run's index from those items and upserting the same
entries again (unchanged), and ``Rules.tag`` of every item. The digest line hashes
every item's id, sources, merges, topics and reasons: equal digests mean identical
decisions. With ``--baseline DIR`` the same sizes run first in a child process whose
``aggregator`` package is imported from DIR.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from bisect import bisect
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH, so that --baseline's package wins

from aggregator.dedup.identity import ItemIndex  # noqa: E402
from aggregator.records import Entry, SourceRef, Topic  # noqa: E402
from aggregator.tag.rules import Rules  # noqa: E402
from aggregator.text import safe_uri, sanitize_html  # noqa: E402
from benchmarks import synth  # noqa: E402

SEED = 7
PER_FEED = 50
EPOCH = datetime(2025, 6, 24, tzinfo=timezone.utc)
NOW = EPOCH + timedelta(hours=1)
VOCAB = 30_000
_SYLLABLES = "ka lo mi ne ru sa te vi zo ba de fi go hu ja ko li mo nu pa ri si tu va we".split()
_CUM = list(accumulate(1 / r ** 1.05 for r in range(1, VOCAB + 1)))


def _word(rank: int) -> str:
    r = random.Random(rank)
    return "".join(r.choice(_SYLLABLES) for _ in range(2 + rank % 3)).capitalize()


def _zipf_words(rng: random.Random, n: int) -> list[str]:
    total = _CUM[-1]
    return [_word(bisect(_CUM, rng.random() * total)) for _ in range(n)]


def entries(n_feeds: int) -> list[tuple[Entry, SourceRef]]:
    """Every entry of a cold poll of *n_feeds* synthetic feeds, feed by feed."""
    per_feed: list[list[tuple[Entry, SourceRef]]] = [[] for _ in range(n_feeds)]
    for i in range(n_feeds):
        site = synth.spec(i).host_site
        ref = SourceRef(feed_url=f"{site}/feed.xml", name=f"Site {i}", seen=NOW)  # as pipeline._merge
        for k in range(PER_FEED):
            it = synth.item(SEED, i, k, EPOCH)
            rng = random.Random(i * 7919 + k)
            title = it.title if it.title.startswith("Wire story") else \
                " ".join([it.title, *_zipf_words(rng, rng.randint(2, 3))])
            e = Entry(guid=it.guid, link=safe_uri(it.link), title=title,
                      summary=sanitize_html(it.html, base=site + "/"), published=it.date,
                      categories=it.categories)
            per_feed[i].append((e, dataclasses.replace(ref, link=e.link, guid=e.guid)))
            if rng.random() < 0.03:  # republished elsewhere under another link
                j = i + 1 + rng.randrange(10)  # a nearby feed: the same share at every size
                if j >= n_feeds:
                    continue
                other = synth.spec(j).host_site
                copy = dataclasses.replace(e, guid=f"{other}/copy/{i}/{k}", link=f"{other}/world/{i}-{k}",
                                           title=e.title + ", officials say",
                                           published=e.published + timedelta(minutes=20))
                per_feed[j].append((copy, SourceRef(feed_url=f"{other}/feed.xml", name=f"Site {j}",
                                                    link=copy.link, guid=copy.guid, seen=NOW)))
    return [x for feed in per_feed for x in feed]


def topics() -> tuple[Topic, ...]:
    from aggregator.config import load
    return load(ROOT / "feeds.yaml").topics


def _timed(fn) -> float:
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(batch: list[tuple[Entry, SourceRef]], rules: Rules) -> dict:
    index = ItemIndex({}, {})
    statuses: dict[str, int] = {}

    def new() -> None:
        for e, r in batch:
            status = index.upsert(e, r, NOW)[1]
            statuses[status] = statuses.get(status, 0) + 1

    t_new = _timed(new)
    items = index.items
    again: list[ItemIndex] = []
    t_build = _timed(lambda: again.append(ItemIndex(items, {})))

    def unchanged() -> None:
        idx = again[0]
        for e, r in batch:
            idx.upsert(e, r, NOW)

    t_same = _timed(unchanged)
    tagged = []
    t_tag = _timed(lambda: tagged.extend(rules.tag(it) for it in items.values()))
    digest = hashlib.sha256()
    for it in sorted(tagged, key=lambda x: x.id):
        digest.update(repr((it.id, [s.feed_url for s in it.sources], [(m.key, m.reason) for m in it.merges],
                            it.topics, it.reasons)).encode())
    n = len(batch)
    return dict(entries=n, items=len(items), statuses=statuses, digest=digest.hexdigest()[:16],
                new_us=t_new / n * 1e6, build_us=t_build / len(items) * 1e6, unchanged_us=t_same / n * 1e6,
                tag_us=t_tag / len(items) * 1e6)


def run(sizes: list[int]) -> list[dict]:
    rules = Rules.compile(topics(), ())
    biggest = entries(max(sizes) // PER_FEED)
    out = []
    for size in sizes:
        n_feeds = size // PER_FEED
        # The first n_feeds feeds, with the copies they received from one another.
        feeds = {f"{synth.spec(i).host_site}/feed.xml" for i in range(n_feeds)}
        batch = [(e, r) for e, r in biggest if r.feed_url in feeds and
                 ("/copy/" not in (e.guid or "") or int(e.guid.split("/copy/")[1].split("/")[0]) < n_feeds)]
        out.append(dict(size=size, **measure(batch, rules)))
    return out


def stored_vs_new(stored_sizes: list[int], new: int) -> list[dict]:
    """µs per new entry upserted into an index over *stored* items (a run after many runs)."""
    feeds_new = new // PER_FEED
    most = max(stored_sizes) // PER_FEED
    everything = entries(most + feeds_new)
    fresh_feeds = {f"{synth.spec(i).host_site}/feed.xml" for i in range(most, most + feeds_new)}
    incoming = [(e, r) for e, r in everything if r.feed_url in fresh_feeds]
    out = []
    for size in stored_sizes:
        old_feeds = {f"{synth.spec(i).host_site}/feed.xml" for i in range(size // PER_FEED)}
        first = ItemIndex({}, {})
        for e, r in everything:
            if r.feed_url in old_feeds:
                first.upsert(e, r, NOW)
        items = first.items
        stored = len(items)  # before the new entries join them (the index updates items in place)
        built: list[ItemIndex] = []
        t_build = _timed(lambda: built.append(ItemIndex(items, {})))
        statuses: dict[str, int] = {}

        def upsert_new() -> None:
            for e, r in incoming:
                status = built[0].upsert(e, r, NOW)[1]
                statuses[status] = statuses.get(status, 0) + 1

        t_new = _timed(upsert_new)
        out.append(dict(stored=stored, new=len(incoming), statuses=statuses, build_ms=t_build * 1e3,
                        new_us=t_new / len(incoming) * 1e6))
    return out


def stored_table(rows: list[dict]) -> str:
    lines = ["new entries upserted into an index over N stored items (a later run): µs per new entry",
             f"{'stored':>8} {'new':>6} {'µs/new entry':>13} {'ratio':>7} {'index build ms':>15}  merged"]
    for r in rows:
        lines.append(f"{r['stored']:>8} {r['new']:>6} {r['new_us']:>13.1f} {r['new_us'] / rows[0]['new_us']:>6.2f}x "
                     f"{r['build_ms']:>15.1f}  {r['statuses'].get('merged', 0):>6}")
    return "\n".join(lines)


COLUMNS = (("new_us", "upsert new"), ("unchanged_us", "upsert unchanged"), ("build_us", "index build/item"),
           ("tag_us", "tag"))


def table(label: str, rows: list[dict]) -> str:
    lines = [f"{label}: µs per entry (tag and index build: per item)",
             f"{'size':>8} {'entries':>8} {'items':>7} " + " ".join(f"{c[1]:>17}" for c in COLUMNS)
             + "  merged  digest"]
    for r in rows:
        lines.append(f"{r['size']:>8} {r['entries']:>8} {r['items']:>7} "
                     + " ".join(f"{r[k]:>17.1f}" for k, _ in COLUMNS)
                     + f"  {r['statuses'].get('merged', 0):>6}  {r['digest']}")
    if len(rows) > 1:
        lo, hi = rows[0], rows[-1]
        lines.append(f"{'ratio':>8} {hi['size']}/{lo['size']:<10} "
                     + " ".join(f"{hi[k] / lo[k]:>16.2f}x" for k, _ in COLUMNS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--baseline", type=Path, help="a folder holding an older aggregator/ package")
    ap.add_argument("--baseline-sizes", type=int, nargs="+", help="sizes for the baseline (default: --sizes)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON only")
    ap.add_argument("--stored", type=int, nargs="+",
                    help="instead: cost per new entry against these numbers of stored items (e.g. 1000 10000 100000)")
    ap.add_argument("--new", type=int, default=5_000, help="new entries for --stored (default 5000)")
    args = ap.parse_args(argv)
    if args.stored:
        print(stored_table(stored_vs_new(sorted(args.stored), args.new)))
        return 0
    if args.json:
        print(json.dumps(run(args.sizes)))
        return 0
    if args.baseline:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(args.baseline), str(ROOT)]))
        sizes = [str(s) for s in (args.baseline_sizes or args.sizes)]
        done = subprocess.run([sys.executable, __file__, "--json", "--sizes", *sizes], env=env,
                              capture_output=True, text=True, check=True)
        before = json.loads(done.stdout)
        print(table(f"before ({args.baseline})", before) + "\n")
    after = run(args.sizes)
    print(table("after (this tree)", after))
    if args.baseline:
        same = {r["size"]: r["digest"] for r in before} == {r["size"]: r["digest"] for r in after
                                                             if r["size"] in {b["size"] for b in before}}
        print(f"\ndecisions identical (digests): {same}")
        for b in before:
            a = next((r for r in after if r["size"] == b["size"]), None)
            if a:
                print(f"speed-up at {b['size']}: " + ", ".join(
                    f"{label} {b[k] / a[k]:.1f}x" for k, label in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
