"""Crash safety and overlapping runs, with real `aggregator run` subprocesses against a local server.

SIGKILL at random moments (fetching, saving, publishing), over both store backends: afterwards
the store loads, holds every item it held before (TinyDB: of the last completed save;
PostgreSQL: of every committed feed), holds no feed state without the items of the body it
describes (no half-stored feed), and every file in output/ is a complete, valid feed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from backends import stored
from feedserver import FeedServer

N_FEEDS = 24
# SIGKILLs per backend (about 1.8 s each); CRASH_KILLS overrides both: CRASH_KILLS=40 checks the
# PostgreSQL store's "forty kill -9s lose nothing committed" (about 70 s), too long for every CI run.
KILLS = {"tinydb": 20, "postgresql": 20}


def rss(feed: int, n_items: int) -> bytes:
    items = "".join(
        f"<item><title>NATO and Estonia story number {feed * 1000 + i}</title>"
        f"<link>https://news{feed}.example/story/{i}</link><guid>f{feed}-{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jun 2026 {i % 24:02d}:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;Report {feed * 1000 + i}: {'Ukraine and the Baltic states. ' * 20}&lt;/p&gt;"
        "</description></item>"
        for i in range(n_items)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>https://news{feed}.example/</link><description>d</description>{items}</channel></rss>").encode()


def write_config(tmp_path: Path, server: FeedServer, lock_timeout: float = 0,
                 store: str = "data/store.json") -> Path:
    feeds = "\n".join(f"  - url: {server.url(f'/f{i}.xml')}" for i in range(N_FEEDS))
    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(f"""\
settings:
  store: "{store}"
  output_dir: output
  timeout: 10
  lock_timeout: {lock_timeout}
topics:
  nato: {{title: NATO, keywords: [NATO]}}
  baltic-defence: {{title: Baltic defence, keywords: [Estonia]}}
  ukraine: {{title: Ukraine, keywords: [Ukraine]}}
feeds:
{feeds}
""", encoding="utf-8")
    return cfg


def start_run(cfg: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "-q", "run", "--force", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_request(server: FeedServer, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while server.hits[path] == 0:
        assert time.monotonic() < deadline, f"no request for {path}"
        time.sleep(0.02)


def check_outputs(out: Path) -> int:
    """Every published file is complete and valid. Returns how many topic feeds were checked."""
    checked = 0
    for path in out.iterdir():
        if path.name == ".aggregator-manifest.json":  # the publisher's own list: whole, too
            assert isinstance(json.loads(path.read_text(encoding="utf-8"))["files"], list)
        elif path.name.startswith("."):
            continue  # a temp file of the run killed mid-write: the next run removes it
        elif path.suffix in (".rss", ".atom"):
            etree.fromstring(path.read_bytes())  # well-formed, complete XML
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.bozo_exception)
            checked += path.stem != "health"
        elif path.suffix == ".json":
            assert json.loads(path.read_text(encoding="utf-8"))["version"].startswith("https://jsonfeed.org/")
            checked += 1
        elif path.suffix in (".html", ".opml"):
            assert path.read_text(encoding="utf-8").rstrip().endswith(("</html>", "</opml>")), path
    return checked


def no_half_stored_feed(snapshot) -> None:
    """A feed state remembers the raw items of the body it parsed (item_hashes): the store
    holds at least as many items of that feed (its feeds only ever grow here)."""
    per_feed: dict[str, int] = {}
    for item in snapshot.items.values():
        for url in item.feed_urls:
            per_feed[url] = per_feed.get(url, 0) + 1
    for url, state in snapshot.feeds.items():
        assert per_feed.get(url, 0) >= len(state.item_hashes), f"{url}: state saved without its items"


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path, server: FeedServer, store_setting: str,
                                                 request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["store_setting"]
    kills = int(os.environ.get("CRASH_KILLS") or KILLS[backend])
    rng = random.Random(20261129)
    sizes = [5] * N_FEEDS
    for i in range(N_FEEDS):
        server.add(f"/f{i}.xml", rss(i, sizes[i]))
    cfg = write_config(tmp_path, server, store=store_setting)
    location = store_setting if "://" in store_setting else tmp_path / store_setting

    started = time.monotonic()
    assert start_run(cfg).wait(timeout=120) == 0
    duration = time.monotonic() - started
    saved = set(stored(location).items)
    assert len(saved) == 5 * N_FEEDS

    survived = 0
    for kill in range(kills):
        for i in rng.sample(range(N_FEEDS), 6):  # new items, so every run has something to save
            sizes[i] += 2
            server.add(f"/f{i}.xml", rss(i, sizes[i]))
        proc = start_run(cfg)
        time.sleep(rng.uniform(0.05, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        snapshot = stored(location)  # raises StoreCorrupt if the kill broke the store
        ids = set(snapshot.items)
        assert saved <= ids, f"kill {kill}: lost {len(saved - ids)} items"
        no_half_stored_feed(snapshot)
        saved = ids
        assert check_outputs(tmp_path / "output") >= 12
        survived += 1

    # A run after all those kills completes and publishes everything, with no temporary files left over.
    last = start_run(cfg)
    _out, err = last.communicate(timeout=120)
    assert last.returncode == 0, err
    final = stored(location)
    assert len(final.items) == sum(sizes)
    no_half_stored_feed(final)
    assert check_outputs(tmp_path / "output") == 12
    leftovers = [p.name for p in (tmp_path / "output").iterdir()
                 if (p.name.startswith(".") and p.name != ".aggregator-manifest.json") or ".tmp" in p.name]
    assert leftovers == []
    print(f"\n{survived} SIGKILLs survived, {len(final.items)} items intact")


def test_overlapping_runs_never_interleave(tmp_path: Path, server: FeedServer) -> None:
    """The second of two overlapping runs exits with code 4 and a clear message; the first completes."""

    def slow(req) -> None:  # holds the first run inside its lock for a while
        time.sleep(5)  # long enough for the second process to start up, even on a busy machine
        body = rss(0, 3)
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    for i in range(N_FEEDS):
        server.add(f"/f{i}.xml", slow if i == 0 else rss(i, 2))
    cfg = write_config(tmp_path, server)
    first = start_run(cfg)
    wait_for_request(server, "/f0.xml")  # the first run holds the lock from before it fetches
    second = start_run(cfg)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 4, err
    assert b"locked by another aggregator run" in err and err.count(b"\n") == 1
    assert first.wait(timeout=60) == 0

    # With a lock_timeout long enough, the second run waits for the first instead.
    cfg = write_config(tmp_path, server, lock_timeout=30)
    server.hits.clear()
    first = start_run(cfg)
    wait_for_request(server, "/f0.xml")
    second = start_run(cfg)
    assert second.wait(timeout=90) == 0 and first.wait(timeout=60) == 0
