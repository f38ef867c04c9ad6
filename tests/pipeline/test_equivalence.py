"""The same items, topics and output bytes whether parsing runs in one process or in many, and
whether a changed feed is parsed whole or only its new items (the fast path that skips known ones)."""

from __future__ import annotations

from paths import ROOT
import dataclasses
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator import config as configuration
from aggregator import pipeline
from aggregator.store import Store
from feedserver import FeedServer

sys.path.insert(0, str(ROOT))
from benchmarks import synth  # noqa: E402  (the benchmark's realistic 60 KB, 50-item feeds)

N = 12  # enough feeds for the pipeline to start its parser processes
EPOCH = datetime(2026, 11, 1, tzinfo=timezone.utc)
T0 = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


def project(tmp: Path, server: FeedServer, workers: int) -> configuration.Config:
    tmp.mkdir()
    feeds = "\n".join(f"  - url: {server.url(f'/f{i}.xml')}\n    name: Feed {i}" for i in range(N))
    root = ROOT
    topics = (root / "feeds.yaml").read_text(encoding="utf-8").split("\ntopics:\n", 1)[1].split("\nfeeds:\n", 1)[0]
    (tmp / "feeds.yaml").write_text(
        f"settings:\n  parse_workers: {workers}\n  base_url: https://feeds.example/\n"
        f"topics:\n{topics}\nfeeds:\n{feeds}\n", encoding="utf-8")
    return configuration.load(tmp / "feeds.yaml")


def serve(server: FeedServer, version: int) -> None:
    for i in range(N):
        server.add(f"/f{i}.xml", synth.feed_bytes(7, i, version, EPOCH), content_type="application/xml")


def outputs(conf: configuration.Config) -> dict[str, bytes]:
    out = conf.settings.output_dir
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "metrics.prom"}


def two_rounds(conf: configuration.Config, server: FeedServer, forget_items: bool = False):
    serve(server, 0)
    pipeline.run(conf, force=True, now=T0)
    if forget_items:  # as if the fast path did not exist: every changed feed is parsed whole
        store = Store(conf.settings.store)
        snap = store.load()
        snap.feeds = {k: s.__class__(**{**s.__dict__, "item_hashes": ()}) for k, s in snap.feeds.items()}
        store.save(snap)
    serve(server, 1)
    report = pipeline.run(conf, force=True, now=T0 + timedelta(hours=1))
    return report, Store(conf.settings.store).load(), outputs(conf)


def test_one_process_and_many_give_the_same_store_and_bytes(tmp_path: Path, server: FeedServer) -> None:
    single = two_rounds(project(tmp_path / "one", server, workers=1), server)
    pooled = two_rounds(project(tmp_path / "many", server, workers=2), server)
    assert single[0].new_items == pooled[0].new_items > 0
    assert single[1].items == pooled[1].items
    assert {k: s.item_hashes for k, s in single[1].feeds.items()} == \
        {k: s.item_hashes for k, s in pooled[1].feeds.items()}
    assert single[2] == pooled[2]
    assert any(item.topics for item in single[1].items.values())


@pytest.mark.parametrize("workers", [1, 2])
def test_skipping_known_items_changes_nothing(tmp_path: Path, server: FeedServer, workers: int) -> None:
    fast = two_rounds(project(tmp_path / "fast", server, workers), server)
    whole = two_rounds(project(tmp_path / "whole", server, workers), server, forget_items=True)
    assert fast[0].new_items == whole[0].new_items > 0
    assert fast[1].items == whole[1].items
    assert fast[2] == whole[2]
    # The fast path really was taken: the second round's feed states kept 50 fingerprints each.
    assert all(len(s.item_hashes) == 50 for s in fast[1].feeds.values())


def test_requests_from_a_process_of_their_own_change_nothing(tmp_path: Path, server: FeedServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A large poll sends its requests from a fetch process (fetch/process.py); here N = 12 does too."""
    from aggregator.fetch import process as fetch_process

    started: list[int] = []
    real_enter = fetch_process.FetchProcess.__enter__

    def enter(self):
        started.append(len(self.jobs))
        return real_enter(self)

    monkeypatch.setattr(fetch_process.FetchProcess, "__enter__", enter)
    here = two_rounds(project(tmp_path / "here", server, workers=2), server)
    assert not started  # 12 feeds: below MIN_JOBS, the requests went out from this process
    monkeypatch.setattr(fetch_process, "MIN_JOBS", 1)
    there = two_rounds(project(tmp_path / "there", server, workers=2), server)
    assert started == [N, N]  # both rounds sent their requests from the fetch process
    assert here[0].new_items == there[0].new_items > 0
    assert [o.status for o in here[0].outcomes] == [o.status for o in there[0].outcomes]
    assert here[1].items == there[1].items
    # The same states, but for the Last-Modified the server stamped when it was given the feeds.
    assert {k: dataclasses.replace(v, last_modified=None) for k, v in here[1].feeds.items()} == \
        {k: dataclasses.replace(v, last_modified=None) for k, v in there[1].feeds.items()}
    assert all(v.etag and v.last_modified for v in there[1].feeds.values())
    assert here[2] == there[2]
