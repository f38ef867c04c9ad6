"""publish/manifest.py: which output files are ours, which are stale, when the output goes stale."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from aggregator.publish import feeds as pub
from aggregator.publish import manifest
from aggregator.publish.manifest import Manifest, expected_files, expiries, fingerprint, stale
from aggregator.publish.model import select
from aggregator.records import Topic
from pubdata import NOW, T0, config, snapshot

FEEDS_OF = lambda *slugs: {f"{s}.{x}" for s in slugs for x in ("rss", "atom", "json")}  # noqa: E731
SITE = {"feed.xsl", "index.html", "feeds.opml", "health.atom", "metrics.prom"}


def test_expected_files_are_every_topic_all_and_the_site(tmp_path):
    assert expected_files(config(tmp_path)) == FEEDS_OF("nato", "empty", "all") | SITE


@pytest.mark.parametrize("old, expected, gone", [
    (None, {"a.rss"}, []),  # no manifest: nothing is ours to remove
    (Manifest(frozenset({"a.rss", "b.rss", "b.atom"})), {"a.rss"}, ["b.atom", "b.rss"]),
    (Manifest(frozenset({"a.rss"})), {"a.rss", "c.rss"}, []),  # a new topic removes nothing
    (Manifest(frozenset()), set(), []),
])
def test_stale(old, expected, gone):
    assert stale(old, expected) == gone


@pytest.mark.parametrize("text, files", [
    ('{"version": 1, "config": "x", "files": ["a.rss", "../etc/passwd", "/abs", ".hidden", "sub/x.rss", 7, ""]}',
     {"a.rss"}),  # only plain names in output/ itself are ever ours
    ('{"version": 2, "files": ["a.rss"]}', None),  # another version: not trusted
    ('["a.rss"]', None),
    ("not json", None),
])
def test_read_trusts_only_plain_names(tmp_path, text, files):
    (tmp_path / manifest.FILE).write_text(text)
    found = manifest.read(tmp_path)
    assert (found.files if found else None) == files


def test_fingerprint_follows_what_the_files_show_not_the_rules(tmp_path):
    base = config(tmp_path)
    nato = base.topics[0]

    def with_nato(**kw):
        return dataclasses.replace(base, topics=(dataclasses.replace(nato, **kw), *base.topics[1:]))

    assert fingerprint(with_nato(keywords=("NATO", "OTAN"), line=99)) == fingerprint(base)
    for changed in (with_nato(title="N.A.T.O."), with_nato(max_items=3), with_nato(max_age_days=2),
                    dataclasses.replace(base, topics=base.topics[:1]),
                    dataclasses.replace(base, settings=dataclasses.replace(base.settings, base_url="https://x/"))):
        assert fingerprint(changed) != fingerprint(base)


def test_current_after_a_publish_and_not_after_a_config_change(tmp_path):
    c = config(tmp_path)
    out = c.settings.output_dir
    assert not manifest.current(c, out)
    pub.publish(c, snapshot(), now=NOW)
    assert manifest.current(c, out)
    assert not manifest.current(dataclasses.replace(c, topics=c.topics[:1]), out)
    (out / "empty.json").unlink()
    assert not manifest.current(c, out)


def test_a_killed_publish_still_lists_what_it_may_have_written(tmp_path, monkeypatch):
    c = config(tmp_path)
    pub.publish(c, snapshot(), now=NOW)
    more = dataclasses.replace(c, topics=(*c.topics, Topic("new", "New", keywords=("x",))))

    def killed(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(pub, "render_feeds", killed)
    with pytest.raises(KeyboardInterrupt):
        pub.publish(more, snapshot(), now=NOW)
    listed = manifest.read(c.settings.output_dir)
    assert FEEDS_OF("new") <= listed.files and listed.config == fingerprint(c)  # old fingerprint: not current


def test_expiries_are_the_oldest_published_item_plus_max_age(tmp_path):
    topics = (Topic("nato", "NATO", keywords=("NATO",), max_age_days=1),
              Topic("empty", "Empty", max_age_days=2), Topic("other", "Other"))
    c = config(tmp_path, topics=topics)
    chosen = select(c, snapshot().items.values(), NOW)
    # nato holds the even items published T0, T0-2h, …: those older than a day are already out.
    oldest = min(i.published for i in chosen["nato"])
    assert expiries(c, chosen, NOW) == {"nato": oldest + timedelta(days=1), "empty": None}
    assert oldest == T0 - timedelta(hours=6)
