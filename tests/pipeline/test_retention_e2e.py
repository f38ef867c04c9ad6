"""Retention through the pipeline, over both store backends: old items are pruned at save time,
never those still published, and a pruned item that its source still carries is not added
again (tombstones)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import feedparser

from aggregator import config as configuration
from aggregator import pipeline
from backends import stored
from feedserver import FeedServer

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def feed(old_note: str) -> bytes:
    items = [(f"NATO fresh story {i}", NOW - timedelta(hours=i + 1), "") for i in range(3)]
    items += [(f"NATO archive story {i}", NOW - timedelta(days=400 + i), old_note) for i in range(5)]
    body = "".join(
        f"<item><title>{t}</title><link>https://news.example/{t.replace(' ', '-')}</link>"
        f"<guid>{t}</guid><pubDate>{format_datetime(d)}</pubDate><description>{t} {note}</description></item>"
        for t, d, note in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><link>https://news.example/</link>'
            f"<description>d</description>{body}</channel></rss>").encode()


def test_old_items_are_pruned_and_stay_pruned(tmp_path: Path, server: FeedServer, store_setting: str) -> None:
    url = server.add("/feed.xml", feed("first edition"))
    (tmp_path / "feeds.yaml").write_text(f"""\
settings: {{retention_days: 30, max_items: 4, store: "{store_setting}"}}
topics:
  nato: {{title: NATO, keywords: [NATO], max_items: 2}}
feeds:
  - url: {url}
""", encoding="utf-8")
    conf = configuration.load(tmp_path / "feeds.yaml")
    location = conf.settings.store

    report = pipeline.run(conf, force=True, now=NOW)
    assert report.new_items == 8
    # "all" publishes the newest 4: the 3 fresh stories and the newest archive story, which is kept
    # although it is older than retention_days, because it is still inside a published window.
    assert report.pruned_items == 4
    titles = {i.title for i in stored(location).items.values()}
    assert titles == {f"NATO fresh story {i}" for i in range(3)} | {"NATO archive story 0"}
    assert len(stored(location).tombstones) >= 4

    # The source still carries the pruned stories (edited, so they are parsed again): not re-added.
    server.add("/feed.xml", feed("second edition"))
    report = pipeline.run(conf, force=True, now=NOW + timedelta(hours=1))
    assert report.new_items == 0
    assert {i.title for i in stored(location).items.values()} == titles
    published = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert [e.title for e in published.entries][:3] == [f"NATO fresh story {i}" for i in range(3)]
