"""The parser processes tag what they parse (pipeline.prepare): the same reasons as tagging in
this process, looked up by the merger instead of worked out again, and never a lost feed when
the step fails."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle
import sys
from datetime import datetime, timezone

import pytest

from paths import ROOT
from aggregator import config as configuration
from aggregator import pipeline, tag
from aggregator.parse import ParseJob, ParsePool, parse_job
from aggregator.parse import pool as pool_mod
from aggregator.pipeline.prepare import TagTexts
from aggregator.records import Match
from clihelpers import write_config
from feedserver import FeedServer

sys.path.insert(0, str(ROOT))
from benchmarks import synth  # noqa: E402  (realistic 50-item feeds, a third of them topical)

EPOCH = datetime(2026, 11, 1, tzinfo=timezone.utc)
TOPICS = configuration.load(ROOT / "feeds.yaml").topics
RULES = tag.Rules.compile(TOPICS)


def job(i: int) -> ParseJob:
    return ParseJob(synth.feed_bytes(3, i, 0, EPOCH), f"https://s{i}.example/feed", {}, f"https://s{i}.example/feed")


def expected(parsed) -> tuple:
    return tuple(RULES.text_reasons(tag.text_of(e)) for e in parsed.entries)


def test_the_step_gives_each_entry_the_reasons_tagging_here_gives() -> None:
    parsed = parse_job(job(1))
    step = pickle.loads(pickle.dumps(TagTexts(TOPICS)))  # as a forkserver's worker gets it
    prepared = step(parsed)
    assert prepared.text_reasons == expected(parsed)
    assert len(prepared.text_reasons) == len(parsed.entries) == 50
    assert any(prepared.text_reasons) and not all(prepared.text_reasons)
    assert prepared.entries == parsed.entries
    assert pickle.loads(pickle.dumps(step))._rules is None  # the compiled rules never travel


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_the_pool_runs_the_step_on_what_it_parses_and_not_here(monkeypatch, method: str) -> None:
    # forkserver: the step reaches its processes pickled (topics only) and compiles there
    monkeypatch.setattr(pool_mod, "_context", lambda: multiprocessing.get_context(method))
    with ParsePool(workers=2, prepare=TagTexts(TOPICS)) as pool:
        pooled = [pool.submit(job(i)) for i in range(4)]
        here = pool.submit(job(5), here=True)
        results = [f.result() for f in pooled]
    for r in results:
        assert r.text_reasons == expected(r) and r.text_reasons
    assert here.result().text_reasons == ()


class _Broken:
    def __call__(self, parsed):
        raise RuntimeError("boom")


def test_a_failing_step_leaves_the_feed_as_parsed() -> None:
    with ParsePool(workers=2, prepare=_Broken()) as pool:
        got = pool.submit(job(2)).result()
    assert got == parse_job(job(2))


def test_remembered_reasons_are_what_tag_gives() -> None:
    rules = tag.Rules.compile(TOPICS, remember=True)
    entry = parse_job(job(1)).entries[0]
    made_up = (Match("nato", "keyword", "NATO", "title", "NATO"),)
    rules.remember([(tag.text_of(entry), made_up)])
    from aggregator.records import Item
    item = Item(id="x", keys=("k",), canonical_url=None, link=None, title=entry.title, summary=entry.summary, content=entry.content,
                categories=entry.categories, first_seen=EPOCH)
    assert rules.tag(item).reasons == made_up  # looked up, not worked out
    plain = tag.Rules.compile(TOPICS)
    plain.remember([(tag.text_of(entry), made_up)])  # without remember=True: nothing kept
    assert plain.tag(item).reasons == RULES.tag(item).reasons


def test_a_cold_poll_tags_no_text_in_this_process(tmp_path, server: FeedServer, monkeypatch) -> None:
    here: list[int] = []
    real = tag.Rules.text_reasons
    me = os.getpid()

    def counting(self, text):
        if os.getpid() == me:  # a forked parser process appends to its own copy
            here.append(1)
        return real(self, text)

    monkeypatch.setattr(tag.Rules, "text_reasons", counting)
    urls = [server.add(f"/f{i}.xml", synth.feed_bytes(3, i, 0, EPOCH), content_type="application/xml")
            for i in range(10)]
    conf = configuration.replace_settings(
        configuration.load(write_config(tmp_path, urls)), parse_workers=2)
    conf = dataclasses.replace(conf, topics=TOPICS)  # the shipped rules: a third of these items match
    report = pipeline.poll(conf, force=True)
    assert report.new_items > 400
    assert here == []
    stored = pipeline.session  # the items carry the same topics as tagging here would give
    with stored(conf) as (_store, snap):
        tagged = [i for i in snap.items.values() if i.topics]
        assert len(tagged) > 100
        assert all(i.reasons == RULES.tag(i).reasons for i in snap.items.values())
