"""Nothing is left behind, whatever the traffic: removed topics' files go, items age out of the feeds
and the store when no feed changed, and a broken store is never silent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import feedparser

from aggregator import config as configuration
from aggregator import pipeline
from aggregator.store import Store
from clihelpers import FEEDS, invoke, write_config
from feedserver import FeedServer
from hostile import rss

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def feed(*stories: tuple[str, datetime]) -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>https://news.example/{t.replace(' ', '-')}</link>"
        f"<guid>{t}</guid><pubDate>{format_datetime(d)}</pubDate><description>{t}</description></item>"
        for t, d in stories)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><link>https://news.example/</link>'
            f"<description>d</description>{body}</channel></rss>").encode()


def titles(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return [e.title for e in parsed.entries]


# ----------------------------------------------------------------------------- removed topics


def test_a_removed_topic_leaves_no_file_behind_and_nothing_else_is_touched(tmp_path: Path, server: FeedServer):
    url = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    out = tmp_path / "output"
    manifest = json.loads((out / ".aggregator-manifest.json").read_text())
    assert {"ukraine.rss", "ukraine.atom", "ukraine.json", "index.html", "feeds.opml"} <= set(manifest["files"])
    # Files the aggregator did not write, one even named like a feed of ours.
    (out / "notes.txt").write_text("the operator's own")
    (out / "sport.rss").write_text("<rss/>")

    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  ukraine:\n    title: Ukraine\n    keywords: [Ukraine, Ukrainian, Kyiv]\n", ""),
                      encoding="utf-8")
    assert configuration.load(config).topic("ukraine") is None
    result = invoke(config, "run")  # the feed is not even due: no item changed
    assert result.exit_code == 0, result.output
    assert "1 not due" in result.stdout and "3 removed" in result.stdout
    assert not any((out / f"ukraine.{ext}").exists() for ext in ("rss", "atom", "json"))
    assert (out / "notes.txt").read_text() == "the operator's own" and (out / "sport.rss").read_text() == "<rss/>"
    index, opml = (out / "index.html").read_text(), (out / "feeds.opml").read_text()
    for name in ("topic-ukraine", "ukraine.rss", "ukraine.atom", "ukraine.json", ">Ukraine<"):
        assert name not in index and name not in opml
    assert "topic-nato" in index and "nato.rss" in opml
    assert "ukraine.rss" not in json.loads((out / ".aggregator-manifest.json").read_text())["files"]

    # The publish command does the same.
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  baltic-defence:\n    title: Baltic defence\n", "  baltic:\n    title: Baltic defence\n"), encoding="utf-8")
    published = invoke(config, "publish")
    assert published.exit_code == 0, published.output
    assert not (out / "baltic-defence.rss").exists() and (out / "baltic.rss").exists()
    assert "topic-baltic-defence" not in (out / "index.html").read_text()
    assert "topic-baltic" in (out / "index.html").read_text()


def test_a_second_run_with_nothing_new_reads_no_item(tmp_path: Path, server: FeedServer, monkeypatch):
    """The manifest is current: the no-change run stays a feeds-file-only run."""
    url = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    conf = configuration.load(write_config(tmp_path, [url]))
    pipeline.run(conf)
    reads = []
    real = Store._read_items
    monkeypatch.setattr(Store, "_read_items", lambda self: reads.append(1) or real(self))
    report = pipeline.run(conf, force=True)
    assert report.count("not_modified") == 1 and report.publish.written == () and reads == []


# ----------------------------------------------------------------------------- retention without traffic


def test_items_age_out_of_the_feeds_and_the_store_when_no_feed_changed(tmp_path: Path, server: FeedServer):
    url = server.add("/feed.xml", feed(("NATO story fresh", NOW - timedelta(hours=1)),
                                       ("NATO story older", NOW - timedelta(days=2)),
                                       ("Harbour story", NOW - timedelta(days=5))))
    (tmp_path / "feeds.yaml").write_text(f"""\
settings: {{retention_days: 10, max_items: 2}}
topics:
  nato: {{title: NATO, keywords: [NATO], max_age_days: 3}}
feeds:
  - url: {url}
""", encoding="utf-8")
    conf = configuration.load(tmp_path / "feeds.yaml")
    out, store = tmp_path / "output", Store(conf.settings.store)
    first = pipeline.run(conf, now=NOW)
    assert first.new_items == 3 and first.pruned_items == 0
    assert titles(out / "nato.atom") == ["NATO story fresh", "NATO story older"]
    assert titles(out / "all.atom") == ["NATO story fresh", "NATO story older"]

    # A day later nothing has aged out yet: the run reads no item and writes no feed.
    quiet = pipeline.run(conf, now=NOW + timedelta(days=1), force=True)
    assert quiet.count("not_modified") == 1 and quiet.publish.written == ()

    # Two days later "NATO story older" is past nato's max_age_days (3): it leaves nato's feeds,
    # though the feed answered 304.
    later = pipeline.run(conf, now=NOW + timedelta(days=2), force=True)
    assert later.count("not_modified") == 1 and later.new_items == 0
    assert titles(out / "nato.atom") == titles(out / "nato.rss") == ["NATO story fresh"]
    assert [i["title"] for i in json.loads((out / "nato.json").read_text())["items"]] == ["NATO story fresh"]
    assert titles(out / "all.atom") == ["NATO story fresh", "NATO story older"]  # "all" has no max age

    # Six days on, "Harbour story" is past retention_days (10) and outside every published window:
    # it leaves the store, again with every feed answering 304.
    pruned = pipeline.run(conf, now=NOW + timedelta(days=6), force=True)
    assert pruned.count("not_modified") == 1 and pruned.pruned_items == 1
    assert "Harbour story" not in {i.title for i in store.load().items.values()}


# ----------------------------------------------------------------------------- a broken store


def test_a_corrupt_items_file_fails_every_run_even_when_no_feed_is_due(tmp_path: Path, server: FeedServer):
    url = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    items = tmp_path / "data" / "store.json"
    data = items.read_bytes()
    feeds_before = (tmp_path / "data" / "store.feeds.json").read_bytes()
    for damaged in (data[: len(data) // 2],  # cut short
                    data.replace(b'"heads":{"1":{"rows":[[', b'"heads":{"1":{"rows":[[\x00', 1),  # heads index
                    b"",  # emptied
                    b"\x00" * len(data)):  # zeroed
        items.write_bytes(damaged)
        result = invoke(config, "run")  # the feed is not due: only the check can tell
        assert result.exit_code == 3, (damaged[:40], result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"aggregator: {items}: ")
        assert (tmp_path / "data" / "store.feeds.json").read_bytes() == feeds_before  # nothing saved
    items.write_bytes(data)
    assert invoke(config, "run").exit_code == 0


def test_a_damaged_journal_fails_the_run_too(tmp_path: Path, server: FeedServer):
    body = rss("NATO wire", items=40)
    url = server.add("/wire.xml", body, content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    server.add("/wire.xml", body.replace(b"NATO wire item 7<", b"NATO wire item 7, corrected<"),
               content_type="application/rss+xml")
    assert invoke(config, "run", "--force").exit_code == 0  # one item of 40 changed: it goes to the journal
    journal = tmp_path / "data" / "store.journal.json"
    assert journal.exists()
    journal.write_bytes(journal.read_bytes()[:-10])
    result = invoke(config, "run")
    assert result.exit_code == 3 and result.stderr.startswith(f"aggregator: {journal}: ")


def test_a_store_of_a_newer_aggregator_is_refused_by_a_run_with_nothing_due(tmp_path: Path, server: FeedServer):
    url = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    items = tmp_path / "data" / "store.json"
    items.write_bytes(items.read_bytes().replace(b'"schema_version":3', b'"schema_version":99', 1))
    result = invoke(config, "run")
    assert result.exit_code == 3 and "newer aggregator" in result.stderr


def test_a_lower_max_items_applies_at_the_next_run_though_no_feed_changed(tmp_path: Path, server: FeedServer):
    url = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    out = tmp_path / "output"
    assert len(titles(out / "all.atom")) == 3
    config.write_text(config.read_text(encoding="utf-8").replace("  parse_workers: 1\n",
                                                                 "  parse_workers: 1\n  max_items: 2\n"),
                      encoding="utf-8")
    result = invoke(config, "run", "--force")
    assert result.exit_code == 0 and "1 not modified" in result.stdout
    assert len(titles(out / "all.atom")) == len(titles(out / "all.rss")) == 2


# ----------------------------------------------------------------------------- poll, then run


def test_what_a_poll_stored_is_published_by_the_next_run_though_nothing_changed(tmp_path: Path, server: FeedServer,
                                                                                  store_setting: str):
    """``poll`` stores without rendering; the next ``run`` renders what it stored, even when every
    feed answers 304 (a run that changed nothing otherwise renders nothing), and only once."""
    url = server.add("/news.xml", feed(("NATO summit opens", NOW - timedelta(hours=3))),
                     content_type="application/rss+xml")
    config = write_config(tmp_path, [url], store=store_setting)
    assert invoke(config, "run", "--force").exit_code == 0
    nato = tmp_path / "output" / "nato.atom"
    assert titles(nato) == ["NATO summit opens"]
    server.add("/news.xml", feed(("NATO summit opens", NOW - timedelta(hours=3)),
                                 ("NATO summit ends with a pledge", NOW - timedelta(hours=1))),
               content_type="application/rss+xml")
    assert invoke(config, "poll", "--force").exit_code == 0
    assert titles(nato) == ["NATO summit opens"]  # poll renders nothing
    report = pipeline.run(configuration.load(config), force=True)  # the feed answers 304: nothing new
    assert report.count("not_modified") == 1 and "nato" in report.publish.topics_rendered
    assert sorted(titles(nato)) == ["NATO summit ends with a pledge", "NATO summit opens"]
    report = pipeline.run(configuration.load(config), force=True)
    assert report.publish is not None and report.publish.topics_rendered == ()  # once: then quiet again
