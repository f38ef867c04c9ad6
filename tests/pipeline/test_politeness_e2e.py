"""A server's wishes bind every run, --force included: Retry-After and 410, end to end.

Real HTTP on loopback: one server on 127.0.0.1 (the host that answers 429 or 410) and one
on 127.0.0.2 (another host, polled as usual), the CLI through click's runner, a real store.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from clihelpers import FEEDS, invoke
from feedserver import FeedServer
from hostile import gone, too_many

RSS = (FEEDS / "rss2.xml").read_bytes()
ATOM = (FEEDS / "atom.xml").read_bytes()


def write(tmp_path: Path, *urls: str) -> Path:
    feeds = "\n".join(f"  - url: {u}" for u in urls)
    path = tmp_path / "feeds.yaml"
    path.write_text(f"""\
settings:
  store: data/store.json
  output_dir: output
  base_url: http://feeds.test/
  timeout: 5
  parse_workers: 1
  per_host: 1          # one request at a time per host: the 429 arrives before the host's next feed
topics:
  nato: {{title: NATO, keywords: [NATO]}}
feeds:
{feeds}
""", encoding="utf-8")
    return path


@pytest.fixture
def other_host():
    with FeedServer(host="127.0.0.2") as s:
        yield s


def host_requests(server: FeedServer) -> int:
    return sum(server.hits.values())


def test_a_host_that_answered_429_is_asked_once_by_a_run_and_two_forced_runs(tmp_path, server, other_host):
    limited = server.add("/limited.xml", too_many("3600"))
    same_host = server.add("/same-host.xml", RSS, content_type="application/rss+xml")
    elsewhere = other_host.add("/other.xml", ATOM, content_type="application/atom+xml")
    config = write(tmp_path, limited, same_host, elsewhere)
    before = datetime.now(timezone.utc)

    first = invoke(config, "run")
    assert first.exit_code == 0, first.output
    # The answer is said once, on stderr, in the run that got it.
    assert first.stderr.count("\n") == 1 and limited in first.stderr and "HTTP 429" in first.stderr
    assert "0 failed, 2 deferred" in first.stdout
    for _ in range(2):
        forced = invoke(config, "run", "--force")
        assert forced.exit_code == 0, forced.output
        assert forced.stderr == "" and "0 failed, 2 deferred" in forced.stdout

    assert host_requests(server) == 1 and server.hits["/limited.xml"] == 1  # the Done-when of issue 15
    assert other_host.hits["/other.xml"] == 3  # the other host is polled as usual

    stats = json.loads(invoke(config, "stats", "--json").stdout)
    by_url = {s["url"]: s for s in stats["sources"]}
    assert (stats["failing"], stats["deferred"], stats["gone"]) == (0, 2, 0)
    for url in (limited, same_host):
        s = by_url[url]
        assert s["state"] == "deferred" and s["deferred_reason"] == "host answered 429"
        until = datetime.fromisoformat(s["deferred_until"])  # RFC 3339
        assert timedelta(minutes=59) < until - before < timedelta(minutes=61)
        assert s["next_poll"] == s["deferred_until"]
        assert s["standing"] == f"deferred until {until:%H:%M} UTC: host answered 429" or until.date() != before.date()
    assert by_url[elsewhere]["state"] == "ok" and by_url[elsewhere]["deferred_until"] is None

    health = invoke(config, "stats", "--health")
    assert health.exit_code == 0 and "OK: 0/3 feeds failing" in health.stdout and "2 deferred" in health.stdout
    text = invoke(config, "stats").stdout
    assert len(re.findall(r"deferred until \d\d:\d\d UTC: host answered 429|deferred until \d{4}-", text)) == 2

    listed = invoke(config, "feeds", "list").stdout.splitlines()
    assert [line.endswith("(deferred until " + f"{until:%H:%M} UTC: host answered 429)") for line in listed] == [
        True, True, False] or until.date() != before.date()

    # health.atom: one entry per deferred feed, the same entry run after run
    feed = tmp_path / "output" / "health.atom"
    entries = feedparser.parse(feed.read_bytes()).entries
    assert sorted(e.title for e in entries) == [f"Deferred: {limited} (host answered 429)",
                                                f"Deferred: {same_host} (host answered 429)"]
    data = feed.read_bytes()
    assert invoke(config, "run", "--force").exit_code == 0
    assert feed.read_bytes() == data and host_requests(server) == 1


def test_a_feed_added_while_its_host_waits_waits_too(tmp_path, server, other_host):
    limited = server.add("/limited.xml", too_many("3600"))
    config = write(tmp_path, limited)
    assert invoke(config, "run").exit_code == 0
    newcomer = server.add("/new.xml", RSS, content_type="application/rss+xml")
    config = write(tmp_path, limited, newcomer)
    result = invoke(config, "run", "--force")
    assert result.exit_code == 0 and "0 fetched" in result.stdout and "2 deferred" in result.stdout
    assert host_requests(server) == 1


def test_a_gone_feed_is_never_asked_again_until_reset(tmp_path, server, other_host):
    dead = server.add("/dead.xml", gone())
    alive = other_host.add("/other.xml", ATOM, content_type="application/atom+xml")
    config = write(tmp_path, dead, alive)
    first = invoke(config, "run")
    assert first.exit_code == 0 and "410" in first.stderr
    forced = invoke(config, "run", "--force")
    assert forced.exit_code == 0 and forced.stderr == "" and "1 gone" in forced.stdout
    assert server.hits["/dead.xml"] == 1

    stats = json.loads(invoke(config, "stats", "--json").stdout)
    s = next(s for s in stats["sources"] if s["url"] == dead)
    assert (s["state"], s["gone"], s["next_poll"], stats["failing"], stats["gone"]) == ("gone", True, None, 0, 1)
    text = invoke(config, "stats").stdout
    row = next(line for line in text.splitlines() if "dead.xml" in line)
    assert "never (gone)" in row and " now " not in f" {row} "
    assert "(gone (HTTP 410)" in next(line for line in invoke(config, "feeds", "list").stdout.splitlines()
                                      if line.startswith(dead))
    assert invoke(config, "stats", "--health").exit_code == 0

    reset = invoke(config, "feeds", "reset", dead)
    assert reset.exit_code == 0 and reset.stdout == f"reset {dead}: polled at the next run\n"
    assert invoke(config, "run").exit_code == 0
    assert server.hits["/dead.xml"] == 2  # asked again, once


def test_reset_keeps_a_hosts_retry_after(tmp_path, server, other_host):
    limited = server.add("/limited.xml", too_many("3600"))
    config = write(tmp_path, limited)
    assert invoke(config, "run").exit_code == 0
    reset = invoke(config, "feeds", "reset", limited)
    assert reset.exit_code == 0 and "still deferred until" in reset.stdout and "host answered 429" in reset.stdout
    assert invoke(config, "run", "--force").exit_code == 0
    assert server.hits["/limited.xml"] == 1
    unknown = invoke(config, "feeds", "reset", "https://nowhere.example/feed")
    assert unknown.exit_code == 2 and "no feed https://nowhere.example/feed in the config" in unknown.stderr


def test_removing_and_adding_a_gone_feed_again_starts_it_afresh(tmp_path, server, other_host):
    dead = server.add("/dead.xml", gone())
    alive = other_host.add("/other.xml", ATOM, content_type="application/atom+xml")
    config = write(tmp_path, alive, dead)
    assert invoke(config, "run").exit_code == 0
    assert invoke(config, "feeds", "remove", dead).exit_code == 0
    server.add("/dead.xml", RSS, content_type="application/rss+xml")  # the publisher brought it back
    added = invoke(config, "feeds", "add", dead)
    assert added.exit_code == 0, added.output
    assert f"{dead}: its stored state (gone or failing) is reset" in added.stdout
    assert server.hits["/dead.xml"] == 2  # the run's 410, and feeds add's own check
    result = invoke(config, "run")
    assert result.exit_code == 0 and "1 fetched" in result.stdout and server.hits["/dead.xml"] == 3
