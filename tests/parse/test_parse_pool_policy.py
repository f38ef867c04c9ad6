"""The parser processes only when they pay: a new feed is parsed in a process; a feed parsed before
here, until a poll has parsed KNOWN_HERE of those here (then in a process too).

Counted for real: how often the pool starts its processes (``ParsePool._pool``) in a cold
poll and in a warm one over real HTTP.
"""

from __future__ import annotations

import pytest

from paths import FEEDS
from aggregator import config as configuration
from aggregator import pipeline
from aggregator.parse import ParseJob, ParsePool, parse_job, worth_a_process
from aggregator.parse import pool as pool_mod
from aggregator.parse.pool import KNOWN_HERE
from clihelpers import write_config
from feedserver import FeedServer
from tests.pipeline.test_crash import rss

BODY = (FEEDS / "rss2.xml").read_bytes()


@pytest.mark.parametrize("skip, known_here, expected", [
    (frozenset(), 0, True),  # never parsed: feedparser sees every item (20 ms a feed), worth a process
    (frozenset({"a1b2c3d4e5f60718"}), 0, False),  # parsed before: its known items are cut out, cheap here
    (frozenset({"a1b2c3d4e5f60718"}), KNOWN_HERE - 1, False),
    # ... until a poll has parsed that many here: then many feeds changed, and this process is busy
    (frozenset({"a1b2c3d4e5f60718"}), KNOWN_HERE, True),
])
def test_worth_a_process(skip: frozenset[str], known_here: int, expected: bool) -> None:
    job = ParseJob(BODY, "https://x.example/f", {}, "https://x.example/f", skip)
    assert worth_a_process(job, known_here) is expected


def test_a_job_parsed_here_starts_no_process() -> None:
    job = ParseJob(BODY, "https://x.example/f", {}, "https://x.example/f")
    with ParsePool(workers=2) as pool:
        future = pool.submit(job, here=True)
        assert future.done() and pool._executor is None
        assert future.result() == parse_job(job)


def test_a_cold_poll_parses_in_processes_and_a_warm_one_here(tmp_path, server: FeedServer, monkeypatch) -> None:
    started: list[int] = []
    real = ParsePool._pool

    def counting(self):
        if self._executor is None:
            started.append(self.workers)
        return real(self)

    monkeypatch.setattr(ParsePool, "_pool", counting)
    urls = [server.add(f"/f{i}.xml", rss(i, 5), content_type="application/rss+xml") for i in range(10)]
    cfg = configuration.replace_settings(configuration.load(write_config(tmp_path, urls)), parse_workers=2)
    cold = pipeline.poll(cfg, force=True)
    assert cold.new_items == 50 and started == [2]  # ten new feeds: the processes start once
    for i in range(10):
        server.add(f"/f{i}.xml", rss(i, 6), content_type="application/rss+xml")  # each gains an item
    warm = pipeline.poll(cfg, force=True)
    assert warm.new_items == 10 and warm.count("fetched") == 10 and started == [2]  # none started again


def test_a_warm_poll_where_many_feeds_changed_parses_the_rest_in_processes(tmp_path, server: FeedServer,
                                                                           monkeypatch) -> None:
    started: list[int] = []
    here: list[str] = []
    real_pool, real_parse = ParsePool._pool, pool_mod.parse_job

    def counting(self):
        if self._executor is None:
            started.append(self.workers)
        return real_pool(self)

    def noting(job):
        here.append(job.key)  # a worker appends to its own copy of the list: this one counts ours
        return real_parse(job)

    monkeypatch.setattr(ParsePool, "_pool", counting)
    monkeypatch.setattr(pool_mod, "KNOWN_HERE", 3)
    urls = [server.add(f"/f{i}.xml", rss(i, 5), content_type="application/rss+xml") for i in range(10)]
    cfg = configuration.replace_settings(configuration.load(write_config(tmp_path, urls)), parse_workers=2)
    assert pipeline.poll(cfg, force=True).new_items == 50 and started == [2]
    for i in range(10):
        server.add(f"/f{i}.xml", rss(i, 6), content_type="application/rss+xml")  # each gains an item
    monkeypatch.setattr(pool_mod, "parse_job", noting)
    warm = pipeline.poll(cfg, force=True)
    assert warm.new_items == 10 and warm.count("fetched") == 10
    assert len(here) == 3 and started == [2, 2]  # three parsed here, the other seven in processes
