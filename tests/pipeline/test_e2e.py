"""End to end through the CLI: a real HTTP server on 127.0.0.1, a real store (a TinyDB file, and a
PostgreSQL database: the tests that take ``setup`` run over both), real output read back."""

from __future__ import annotations

from paths import ROOT
import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from clihelpers import FEEDS, SLUGS, invoke, serve_fixtures, write_config
from feedserver import FeedServer


def outputs(tmp_path: Path) -> dict[str, Path]:
    out = tmp_path / "output"
    files = {f"{slug}.{ext}": out / f"{slug}.{ext}" for slug in SLUGS for ext in ("rss", "atom", "json")}
    files["index.html"] = out / "index.html"
    files["feeds.opml"] = out / "feeds.opml"
    return files


def titles(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.bozo_exception)
    return [e.title for e in parsed.entries]


@pytest.fixture
def setup(tmp_path: Path, server: FeedServer, store_setting: str):
    urls = serve_fixtures(server)
    return write_config(tmp_path, list(urls.values()), store=store_setting), urls


def backend_class(config: Path) -> type:
    """The store class the config selects (TinyDB's Store or PgStore), for spying on it."""
    from aggregator import config as configuration
    from aggregator.store import open_store

    return type(open_store(configuration.load(config).settings.store))


def test_run_publishes_topics_and_survives_broken_feeds(tmp_path: Path, setup, server: FeedServer) -> None:
    config, urls = setup
    result = invoke(config, "run")
    assert result.exit_code == 0, result.output
    # One line per failed feed on stderr, naming it; a one-line summary on stdout.
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3, result.stderr
    for key in ("error", "garbage", "unreachable"):
        assert sum(urls[key] in line for line in errors) == 1
    assert result.stdout.count("\n") == 1 and "3 fetched" in result.stdout and "3 failed" in result.stdout

    files = outputs(tmp_path)
    for name, path in files.items():
        assert path.is_file(), name
    all_titles = titles(files["all.atom"])
    assert len(all_titles) == len(set(all_titles)) == 3 + 2 + 2  # rss2 + rss1 + atom fixtures
    assert titles(files["all.rss"]) == all_titles
    nato = titles(files["nato.atom"])
    assert "NATO air policing mission rotates at Šiauliai" in nato
    assert "Estonia and Latvia sign Baltic Defence Line agreement" in titles(files["baltic-defence.rss"])
    assert "Ukraine receives Lithuanian-built drones" in titles(files["ukraine.atom"])
    assert "NATO air policing mission rotates at Šiauliai" not in titles(files["ukraine.rss"])
    jsonfeed = json.loads(files["nato.json"].read_text(encoding="utf-8"))
    assert jsonfeed["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["title"] for i in jsonfeed["items"]] == nato
    assert jsonfeed["feed_url"] == "http://feeds.test/news/nato.json"

    stats = json.loads(invoke(config, "stats", "--json").stdout)
    by_url = {s["url"]: s for s in stats["sources"]}
    assert stats["feeds"] == 6 and stats["items"] == len(all_titles)
    assert stats["topics"]["nato"] == len(nato)
    assert by_url[urls["error"]]["status"] == 500 and "500" in by_url[urls["error"]]["error"]
    assert by_url[urls["unreachable"]]["error"] and by_url[urls["unreachable"]]["items"] == 0
    assert by_url[urls["garbage"]]["error"]
    assert by_url[urls["rss2"]]["status"] == 200 and by_url[urls["rss2"]]["items"] == 3
    assert by_url[urls["rss2"]]["error"] is None


def test_second_run_gets_304s_and_rewrites_nothing(tmp_path: Path, setup, server: FeedServer) -> None:
    config, urls = setup
    assert invoke(config, "run").exit_code == 0
    store = tmp_path / "data" / "store.json"
    items_before = json.loads(invoke(config, "stats", "--json").stdout)["items"]
    files = outputs(tmp_path)
    for path in files.values():
        os.utime(path, (1_000_000_000, 1_000_000_000))  # an old mtime: any rewrite would change it
    server.requests.clear()

    result = invoke(config, "run", "--force")
    assert result.exit_code == 0, result.output
    assert "3 not modified" in result.stdout and "0 new" in result.stdout
    conditional = [h for path, h in server.requests if path == "/rss2.xml"]
    assert conditional and "if-none-match" in conditional[0]
    assert json.loads(invoke(config, "stats", "--json").stdout)["items"] == items_before
    assert store.is_file() or "postgresql://" in config.read_text()
    rewritten = [name for name, path in files.items() if path.stat().st_mtime != 1_000_000_000]
    assert rewritten == []


def test_not_due_feeds_are_not_fetched(tmp_path: Path, setup, server: FeedServer) -> None:
    config, _ = setup
    assert invoke(config, "run").exit_code == 0
    server.requests.clear()
    result = invoke(config, "run")
    assert result.exit_code == 0
    ok_paths = {"/rss2.xml", "/rss1.rdf", "/atom.xml"}
    assert not [p for p, _ in server.requests if p in ok_paths]


def test_new_items_on_the_server_are_published(tmp_path: Path, setup, server: FeedServer) -> None:
    config, _ = setup
    assert invoke(config, "run").exit_code == 0
    before = titles(outputs(tmp_path)["all.atom"])
    server.add("/rss2.xml", (FEEDS / "rss2_more.xml").read_bytes(), content_type="application/rss+xml")
    result = invoke(config, "run", "--force")
    assert result.exit_code == 0
    assert "2 new" in result.stdout
    after = titles(outputs(tmp_path)["all.atom"])
    assert len(after) == len(before) + 2
    assert "Finland opens NATO forward land forces headquarters" in titles(outputs(tmp_path)["nato.atom"])
    assert len(after) == len(set(after))


def test_config_typo_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, ["https://example.org/feed.xml"])
    path.write_text(path.read_text().replace("    keywords: [Ukraine", "    keyword: [Ukraine"))
    result = invoke(path, "run")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and f"{path}:18:" in line and "did you mean 'keywords'" in line


def test_offline_shipped_config_writes_valid_empty_feeds(tmp_path: Path) -> None:
    """What a newcomer gets offline: every feed unreachable, valid empty topic feeds."""
    root = ROOT
    text = (root / "feeds.yaml").read_text(encoding="utf-8")
    # Point every feed at a closed local port, as an offline machine would see them.
    import re

    text = re.sub(r"url: https?://\S+", lambda m: f"url: http://127.0.0.1:9/{abs(hash(m.group()))}", text)
    text = text.replace("settings:", "settings:\n  timeout: 3", 1) if "timeout:" not in text else text
    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(text, encoding="utf-8")
    result = invoke(cfg, "run")
    assert result.exit_code == 0, result.output
    assert len(result.stderr.strip().splitlines()) >= 10
    for slug in ("nato", "baltic-defence", "ukraine", "all"):
        parsed = feedparser.parse((tmp_path / "output" / f"{slug}.atom").read_bytes())
        assert not parsed.bozo and parsed.feed.title and parsed.entries == []
    stats = json.loads(invoke(cfg, "stats", "--json").stdout)
    assert all(s["error"] for s in stats["sources"])


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    path = write_config(tmp_path, ["https://example.org/feed.xml"])
    proc = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(path), "check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "3 topics" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "aggregator", "--config", str(tmp_path / "missing.yaml"), "run"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not found" in proc.stderr


def test_a_run_where_nothing_changed_never_reads_the_items(tmp_path: Path, setup, server: FeedServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Every feed 304 (or failing): the items file is not even read, the output stays as it was,
    and the health feed and metrics are still current."""
    config, urls = setup
    Store = backend_class(config)
    assert invoke(config, "run").exit_code == 0
    files = outputs(tmp_path)
    for path in files.values():
        os.utime(path, (1_000_000_000, 1_000_000_000))
    reads = []
    real = Store._load_items
    monkeypatch.setattr(Store, "_load_items", lambda self: reads.append(1) or real(self))
    server.add("/broken", b"still broken, differently", status=503, content_type="text/plain")

    result = invoke(config, "run", "--force")
    assert result.exit_code == 0 and "3 not modified" in result.stdout
    assert reads == []
    assert [n for n, p in files.items() if p.stat().st_mtime != 1_000_000_000] == []
    health = feedparser.parse((tmp_path / "output" / "health.atom").read_bytes())
    assert any("HTTP 503" in e.title for e in health.entries)  # the new error, without the items
    metrics = (tmp_path / "output" / "metrics.prom").read_text()
    assert "aggregator_items_total 7" in metrics

    # And a change is picked up again: the items are read, the new items published.
    server.add("/rss2.xml", (FEEDS / "rss2_more.xml").read_bytes(), content_type="application/rss+xml")
    assert "2 new" in invoke(config, "run", "--force").stdout
    assert reads == [1]


def test_same_bytes_without_conditional_get_cost_only_a_hash(tmp_path: Path, server: FeedServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that ignores If-None-Match but sends the same bytes: no parse, no item change."""
    from aggregator.parse import feeds as parse

    url = server.add("/plain.xml", (FEEDS / "rss2.xml").read_bytes(), conditional=False,
                     content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert "1 fetched" in invoke(config, "run").stdout
    before = json.loads(invoke(config, "stats", "--json").stdout)
    calls = []
    real = parse.parse
    monkeypatch.setattr(parse, "parse", lambda *a, **k: calls.append(1) or real(*a, **k))

    result = invoke(config, "run", "--force")
    assert "1 unchanged" in result.stdout and "0 new, 0 updated" in result.stdout
    assert calls == []
    after = json.loads(invoke(config, "stats", "--json").stdout)
    assert after["items"] == before["items"] == 3 and after["topics"] == before["topics"]
    # The spy does see parsing: new bytes are parsed.
    server.add("/plain.xml", (FEEDS / "rss2_more.xml").read_bytes(), conditional=False)
    assert "2 new" in invoke(config, "run", "--force").stdout and calls == [1]


def test_a_feed_whose_only_change_is_its_build_date_reads_no_item(tmp_path: Path, server: FeedServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Many feeds rewrite <lastBuildDate> on every request: the items are all known, so the run
    neither parses them again nor reads the store's items."""
    from aggregator.store import Store

    body = (FEEDS / "rss2.xml").read_bytes()
    url = server.add("/built.xml", body, content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert "3 new" in invoke(config, "run").stdout
    reads = []
    real = Store._load_items
    monkeypatch.setattr(Store, "_load_items", lambda self: reads.append(1) or real(self))
    server.add("/built.xml", body.replace(b"Tue, 04 Jun 2024 09:30:00 +0300", b"Wed, 05 Jun 2024 10:00:00 +0300"),
               content_type="application/rss+xml")
    result = invoke(config, "run", "--force")
    assert "1 fetched" in result.stdout and "0 new, 0 updated" in result.stdout
    assert reads == []
