"""Several pollers sharing one PostgreSQL store: real `aggregator run` processes against a local server.

Two runs started together over 30 feeds of 20 items: each feed is fetched once (by one
of them), the store ends with 600 items and no duplicate, both share the work, and the
output is complete.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from backends import stored
from feedserver import FeedServer, send

N_FEEDS, N_ITEMS = 30, 20
DELAY = 0.4  # seconds per response: long enough for both runs to be fetching at once


def rss(feed: int, n_items: int) -> bytes:
    items = "".join(
        f"<item><title>NATO and Ukraine story {feed}-{i}: {'ABCDEFGHIJKLMNOPQRST'[i]} {feed * 31 + i}</title>"
        f"<link>https://news{feed}.example/story/{i}</link><guid>f{feed}-{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jun 2026 {i % 24:02d}:{feed % 60:02d}:00 GMT</pubDate>"
        f"<description>Report {feed}-{i} from the Baltic region, number {feed * 1000 + i}.</description></item>"
        for i in range(n_items))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>https://news{feed}.example/</link><description>d</description>{items}</channel></rss>").encode()


def slow(body: bytes):
    def handler(req) -> None:
        time.sleep(DELAY)
        send(req, 200, body)
    return handler


def project(tmp_path: Path, server: FeedServer, url: str) -> Path:
    feeds = "\n".join(f"  - url: {server.url(f'/f{i}.xml')}" for i in range(N_FEEDS))
    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(f"""\
settings:
  store: "{url}"
  output_dir: output
  timeout: 20
  per_host: 3
  parse_workers: 1
topics:
  nato: {{title: NATO, keywords: [NATO]}}
  baltic-defence: {{title: Baltic defence, keywords: [Baltic]}}
  ukraine: {{title: Ukraine, keywords: [Ukraine]}}
feeds:
{feeds}
""", encoding="utf-8")
    return cfg


def run(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_pollers_share_the_feeds_and_store_each_item_once(tmp_path: Path, server: FeedServer,
                                                              pg_url: str) -> None:
    for i in range(N_FEEDS):
        server.add(f"/f{i}.xml", slow(rss(i, N_ITEMS)))
    cfg = project(tmp_path, server, pg_url)

    procs = [run(cfg), run(cfg)]
    outs = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert err == "", err
    fetched = [int(re.search(r"(\d+) fetched", out).group(1)) for out, _err in outs]
    claimed = [int(m.group(1)) if (m := re.search(r"(\d+) polled by another poller", out)) else 0
               for out, _err in outs]
    assert sum(fetched) == N_FEEDS and min(fetched) > 0, outs  # both worked, on different feeds
    assert [fetched[0] + claimed[0], fetched[1] + claimed[1]] == [N_FEEDS, N_FEEDS], outs

    assert {path: n for path, n in server.hits.items()} == {f"/f{i}.xml": 1 for i in range(N_FEEDS)}
    snap = stored(pg_url)
    assert len(snap.items) == N_FEEDS * N_ITEMS
    guids = [ref.guid for item in snap.items.values() for ref in item.sources]
    assert sorted(guids) == sorted(f"f{f}-{i}" for f in range(N_FEEDS) for i in range(N_ITEMS))
    assert len({item.canonical_url for item in snap.items.values()}) == N_FEEDS * N_ITEMS
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT item_id) FROM item_keys WHERE key LIKE 'guid:%'"
                            ).fetchone()
    assert rows == (N_FEEDS * N_ITEMS, N_FEEDS * N_ITEMS)
    assert len(snap.feeds) == N_FEEDS and all(s.last_status == 200 for s in snap.feeds.values())

    # Whichever published last, the output holds every topic's newest items, each once.
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    newest = sorted(snap.items.values(), key=lambda i: (i.date, i.id), reverse=True)[:100]
    assert sorted(i["title"] for i in feed["items"]) == sorted(i.title for i in newest)

    # Nothing is due any more: a third run fetches nothing.
    server.hits.clear()
    third = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(cfg), "run"],
                           capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and f"{N_FEEDS} not due" in third.stdout, third.stdout + third.stderr
    assert sum(server.hits.values()) == 0
