"""health.atom: failing sources as Atom entries, one per failure episode, valid when empty."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta

import feedparser
import pytest
from lxml import etree

from aggregator.publish import feeds as pub
from aggregator.publish.healthfeed import ENTRY_ID_PREFIX, entry_id, health_view, reason
from aggregator.records import FeedState, Snapshot, Source
from feedrules import ATOM, URN, check_atom
from pubdata import BASE, NOW, T0, config, snapshot

SITE = BASE + "index.html"
OK = "https://ok.example/feed"
DOWN = "https://down.example/feed"
GONE = "https://gone.example/feed"
NEVER = "https://never.example/feed"
LOCAL = "file:///srv/feeds/local.xml"


def sources() -> tuple[Source, ...]:
    return (Source(OK, name="Fine"), Source(DOWN, name="Down <b>&</b> Out"), Source(GONE),
            Source(NEVER, name="New"), Source(LOCAL, name="Local"))


def states() -> dict[str, FeedState]:
    return {
        OK: FeedState(url=OK, last_attempt=T0, last_success=T0, last_status=200),
        DOWN: FeedState(url=DOWN, last_attempt=T0, last_success=T0 - timedelta(hours=5),
                        last_status=500, error_count=3, next_poll=T0 + timedelta(hours=2),
                        last_error=f"{DOWN}: HTTP 500 <script>alert(1)</script>"),
        GONE: FeedState(url=GONE, title="Gone Feed", last_attempt=T0 - timedelta(hours=1),
                        last_status=410, error_count=1, gone=True,
                        last_error=f"{GONE}: HTTP 410 Gone"),
        LOCAL: FeedState(url=LOCAL, last_attempt=T0 - timedelta(hours=1), error_count=2,
                         last_error=f"{LOCAL}: not a feed", last_status=None),
        "https://removed.example/": FeedState(url="https://removed.example/", error_count=9,
                                              last_attempt=T0),
    }


def cfg(tmp_path, srcs=None, **kw):
    c = config(tmp_path, **kw)
    return dataclasses.replace(c, sources=sources() if srcs is None else srcs)


@pytest.mark.parametrize("state, expect", [
    (FeedState(url="u", last_status=500, error_count=1), "HTTP 500"),
    (FeedState(url="u", last_status=404, error_count=2), "HTTP 404"),
    (FeedState(url="u", last_status=410, error_count=1, gone=True), "HTTP 410"),
    (FeedState(url="u", gone=True), "HTTP 410"),
    (FeedState(url="u", last_status=None, error_count=1), "no response"),
    (FeedState(url="u", last_status=200, error_count=1), "unusable body, HTTP 200"),
])
def test_reason(state, expect):
    assert reason(state) == expect


def test_entry_id_per_source_and_per_episode():
    a = FeedState(url=DOWN, last_success=T0, error_count=1, last_attempt=T0 + timedelta(hours=1))
    later = dataclasses.replace(a, error_count=4, last_attempt=T0 + timedelta(hours=9))
    recovered_then_failed = dataclasses.replace(a, last_success=T0 + timedelta(hours=10))
    assert entry_id(DOWN, a) == entry_id(DOWN, later)  # the same outage: the same entry
    assert entry_id(DOWN, a) != entry_id(DOWN, recovered_then_failed)  # a new outage
    assert entry_id(DOWN, a) != entry_id(GONE, a)
    never = FeedState(url=DOWN, error_count=1)
    assert entry_id(DOWN, never).endswith(":never")
    for eid in (entry_id(DOWN, a), entry_id(DOWN, never), entry_id(LOCAL, a)):
        assert eid.startswith(ENTRY_ID_PREFIX) and URN.match(eid)


def test_view_lists_configured_failing_sources_newest_attempt_first(tmp_path):
    view = health_view(cfg(tmp_path), states(), fallback=T0 - timedelta(days=3))
    assert [p.key for p in view.problems] == [DOWN, LOCAL, GONE]  # ties by key
    down, local, gone = view.problems
    assert down.title == "Failing: Down & Out (HTTP 500)"  # markup in a title: its text
    assert gone.title == "Gone: Gone Feed (HTTP 410)"
    assert local.title == "Failing: Local (no response)" and local.link is None
    assert down.updated == T0 and down.since == T0 - timedelta(hours=5) and down.link == DOWN
    assert view.updated == T0 and view.self_url == BASE + "health.atom"
    for words in ("HTTP 500 &lt;script&gt;", "<dt>Failed polls in a row</dt><dd>3</dd>",
                  "<dd>2024-05-01 07:00:00 UTC</dd>", "<dt>Next poll</dt><dd>2024-05-01 14:00:00 UTC</dd>"):
        assert words in down.content_html
    assert "<script" not in down.content_html
    assert "never: gone (410)" in gone.content_html and "<dt>Last success</dt><dd>never</dd>" in gone.content_html


def test_all_good_is_empty_and_dated_by_fallback(tmp_path):
    view = health_view(cfg(tmp_path, srcs=(Source(OK), Source(NEVER))), states(), fallback=T0)
    assert view.problems == () and view.updated == T0


def _publish(tmp_path, snap, **kw):
    c = cfg(tmp_path, hub=kw.pop("hub", None), **kw)
    report = pub.publish(c, snap, now=NOW)
    return c, report, (c.settings.output_dir / "health.atom")


def test_health_atom_is_valid_and_parses_back(tmp_path):
    snap = snapshot()
    snap.feeds.update(states())
    _, report, path = _publish(tmp_path, snap, hub="https://hub.example/")
    # Not in the report (so websub never pings it), hence no hub link in it either.
    assert path not in report.written + report.unchanged
    data = path.read_bytes()
    root = check_atom(data, BASE + "health.atom", SITE, hub=None)
    assert data.splitlines()[1] == b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}updated") for e in entries] == [
        "2024-05-01T12:00:00+00:00", "2024-05-01T11:00:00+00:00", "2024-05-01T11:00:00+00:00"]
    assert root.findtext(f"{ATOM}updated") == "2024-05-01T12:00:00+00:00"
    f = feedparser.parse(data)
    assert not f.bozo, f.bozo_exception
    assert [e.title for e in f.entries] == ["Failing: Down & Out (HTTP 500)",
                                            "Failing: Local (no response)", "Gone: Gone Feed (HTTP 410)"]
    assert "HTTP 500 &lt;script&gt;" in f.entries[0].content[0].value  # escaped, as text
    assert f.entries[0].link == DOWN
    assert f.feed.author == "Baltic Watch"


def test_empty_health_feed_valid_and_not_rewritten(tmp_path):
    snap = snapshot()
    _, r1, path = _publish(tmp_path, snap)
    root = check_atom(path.read_bytes(), BASE + "health.atom", SITE)
    assert root.findall(f"{ATOM}entry") == []
    # A fixed time, not now and not the items': it depends on the feed states alone.
    assert root.findtext(f"{ATOM}updated") == "2000-01-01T00:00:00+00:00"
    old = 1_000_000_000
    os.utime(path, (old, old))
    _publish(tmp_path, snap)  # the same snapshot later: bytes equal, file left alone
    assert path.stat().st_mtime == old
    snap.feeds.update(states())
    _publish(tmp_path, snap)
    assert path.stat().st_mtime != old and b"Failing: Down" in path.read_bytes()


def test_empty_store_and_no_sources(tmp_path):
    _, _, path = _publish(tmp_path, Snapshot(), srcs=None)
    check_atom(path.read_bytes(), BASE + "health.atom", SITE)
    c = cfg(tmp_path, srcs=())
    pub.publish(c, Snapshot(), now=NOW)
    assert b"<updated>2000-01-01T00:00:00+00:00</updated>" in path.read_bytes()


def test_listed_in_index_not_in_opml(tmp_path):
    c, _, _ = _publish(tmp_path, snapshot())
    out = c.settings.output_dir
    html = (out / "index.html").read_text("utf-8")
    assert ('Operator: <a href="health.atom">health.atom</a>, '
            '<a href="metrics.prom">metrics.prom</a>') in html
    opml = etree.fromstring((out / "feeds.opml").read_bytes())
    assert not [o for o in opml.iter("outline") if "health" in (o.get("xmlUrl") or "")]


def test_deferred_and_gone_feeds_are_listed_once_per_episode(tmp_path):
    deferred = FeedState(url=DOWN, last_attempt=T0, last_status=429, error_count=2, last_success=T0 - timedelta(days=1),
                         deferred_until=T0 + timedelta(hours=1), deferred_reason="host answered 429",
                         deferred_host="down.example", deferred_since=T0, next_poll=T0 + timedelta(hours=1))
    feeds = {**states(), DOWN: deferred}
    view = health_view(cfg(tmp_path), feeds)
    down = next(p for p in view.problems if p.key == DOWN)
    assert down.title == "Deferred: Down & Out (host answered 429)" and down.updated == T0
    assert "<dt>Deferred until</dt><dd>2024-05-01 13:00:00 UTC</dd>" in down.content_html
    # The host answers 429 again an hour later: the same episode, the same entry, not a new one.
    later = dataclasses.replace(deferred, last_attempt=T0 + timedelta(hours=1), deferred_until=T0 + timedelta(hours=3))
    again = next(p for p in health_view(cfg(tmp_path), {**feeds, DOWN: later}).problems if p.key == DOWN)
    assert (again.id, again.updated) == (down.id, down.updated)
    # A deferral that begins after a recovery is a new episode.
    new = dataclasses.replace(later, deferred_since=T0 + timedelta(days=1))
    assert next(p for p in health_view(cfg(tmp_path), {**feeds, DOWN: new}).problems if p.key == DOWN).id != down.id
    # A gone feed is never polled again: its entry keeps its id and time run after run.
    gone = next(p for p in view.problems if p.key == GONE)
    assert gone.updated == T0 - timedelta(hours=1) and gone.title == "Gone: Gone Feed (HTTP 410)"
