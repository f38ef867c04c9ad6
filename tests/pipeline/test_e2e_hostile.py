"""A run over 50 healthy feeds and 10 hostile ones finishes within its deadline and publishes the healthy ones.

The whole pipeline runs in process with an injected transport (LoopbackTransport) that sends every
fake host name to the real local server, so per-host limits apply as they would on the internet.
"""

from __future__ import annotations

import time
from pathlib import Path

import feedparser

from aggregator import config as configuration
from aggregator import pipeline
from feedserver import FeedServer
from hostile import LoopbackTransport, install_catalogue, rss

HOSTILE = ["drip", "error500", "429-seconds", "503", "gone", "gzip-bomb", "oversized", "html", "empty", "loop"]


def make_config(tmp_path: Path, urls: list[str]) -> Path:
    feeds = "\n".join(f"  - url: {u}" for u in urls)
    path = tmp_path / "feeds.yaml"
    path.write_text(f"""\
settings: {{timeout: 2, concurrency: 16, parse_workers: 2}}
topics:
  nato: {{title: NATO, keywords: [NATO]}}
feeds:
{feeds}
""", encoding="utf-8")
    return path


def test_fifty_healthy_and_ten_hostile_feeds(tmp_path: Path, server: FeedServer) -> None:
    healthy = []
    for i in range(50):
        server.add(f"/ok{i}.xml", rss(f"NATO feed {i}", items=3, link=f"https://ok{i}.test/story/"))
        healthy.append(f"http://ok{i}.test/ok{i}.xml")
    catalogue = install_catalogue(server)
    hostile = [url.replace(f"127.0.0.1:{server.port}", f"bad{j}.test") for j, url in
               enumerate(catalogue[name] for name in HOSTILE)]
    transport = LoopbackTransport(server.port)

    # Baseline in the same run: the healthy feeds alone.
    (tmp_path / "base").mkdir()
    base_cfg = configuration.load(make_config(tmp_path / "base", healthy))
    started = time.monotonic()
    pipeline.run(base_cfg, transport=transport, force=True)
    baseline = time.monotonic() - started

    conf = configuration.load(make_config(tmp_path, healthy + hostile))
    started = time.monotonic()
    report = pipeline.run(conf, transport=transport, force=True)
    elapsed = time.monotonic() - started
    print(f"\n50 healthy: {baseline:.2f}s; 50 healthy + 10 hostile: {elapsed:.2f}s "
          f"(x{elapsed / baseline:.1f}; the drip is held to its 2 s deadline)")

    assert elapsed < 20, "hostile servers held the run past its deadline"
    by_url = {o.url: o for o in report.outcomes}
    assert all(by_url[u].status == "fetched" and by_url[u].new == 3 for u in healthy)
    assert all(by_url[u].status in ("failed", "deferred") and by_url[u].error for u in hostile), \
        [(u, by_url[u]) for u in hostile if by_url[u].status not in ("failed", "deferred")]
    errors = " ".join(by_url[u].error or "" for u in hostile)
    for words in ("no complete response within 2s", "HTTP 500", "410", "redirect loop", "not a feed",
                  "over the 10000000-byte limit", "empty body", "retry after"):
        assert words.lower() in errors.lower(), words
    published = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert len(published.entries) == 100  # settings.max_items, all from healthy feeds
    nato = feedparser.parse((tmp_path / "output" / "nato.atom").read_bytes())
    assert {e.title.split(" item ")[0] for e in nato.entries} <= {f"NATO feed {i}" for i in range(50)}
