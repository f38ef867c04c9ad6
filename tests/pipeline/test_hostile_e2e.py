"""Hostile bodies through the whole pipeline: the run completes, nothing is read from disk or network,
and nothing unsafe reaches the published files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
from lxml import etree

from aggregator import config as configuration
from aggregator import pipeline
from feedserver import FeedServer

SECRET = "TOP-SECRET-MARKER-e2e-41c7"
NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def rss(items: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel><title>Hostile</title>'
            f"<link>https://hostile.example/</link><description>d</description>{items}</channel></rss>").encode()


def bodies(secret: Path, server: FeedServer) -> dict[str, bytes]:
    laughs = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    future = (NOW + timedelta(days=400)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return {
        "laughs": rss('<item><title>NATO &l9;</title><guid>l</guid></item>',
                      f'<!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>'),
        "xxe": rss('<item><title>NATO &x;</title><guid>x</guid></item>',
                   f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'),
        "remote-dtd": rss('<item><title>NATO</title><guid>d</guid></item>',
                          f'<!DOCTYPE rss SYSTEM "{server.url("/evil.dtd")}">'),
        "path": str(secret).encode(),
        "url": server.url("/secret").encode(),
        "bad-utf8": rss("<item><title>NATO \xff\xfe drills</title><guid>u</guid></item>").replace(b"\xc3\xbf", b"\xff"),
        "nul": rss("<item><title>NATO\x00 and \x07 Estonia</title><guid>n</guid></item>"),
        "huge-title": rss(f"<item><title>NATO {'x' * 10_000_000}</title><guid>h</guid></item>"),
        "bare-items": rss("<item></item><item><description>NATO only a description</description></item>"),
        "dates": rss("<item><title>NATO year 9999</title><guid>y</guid><pubDate>Fri, 31 Dec 9999 23:59:59 GMT"
                     "</pubDate></item><item><title>NATO 1900</title><guid>o</guid>"
                     "<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>"
                     f"<item><title>NATO from the future</title><guid>f</guid><pubDate>{future}</pubDate></item>"),
        "script": rss('<item><title>NATO &lt;script&gt;alert(1)&lt;/script&gt;</title><guid>s</guid>'
                      '<link>javascript:alert(1)</link><description>&lt;p onclick="x()"&gt;NATO'
                      '&lt;script&gt;steal()&lt;/script&gt;&lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;'
                      '&lt;a href="javascript:alert(2)"&gt;x&lt;/a&gt;&lt;/p&gt;</description></item>'),
    }


def test_hostile_bodies_through_the_whole_pipeline(tmp_path: Path, server: FeedServer) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    server.add("/evil.dtd", f'<!ENTITY leak "{SECRET}">'.encode())
    server.add("/secret", rss(f"<item><title>{SECRET}</title></item>"))
    urls = {name: server.add(f"/h/{name}", body) for name, body in bodies(secret, server).items()}
    feeds = "\n".join(f"  - url: {u}" for u in urls.values())
    (tmp_path / "feeds.yaml").write_text(
        f"topics:\n  nato: {{title: NATO, keywords: [NATO]}}\nfeeds:\n{feeds}\n", encoding="utf-8")
    conf = configuration.load(tmp_path / "feeds.yaml")
    server.hits.clear()

    report = pipeline.run(conf, force=True, now=NOW)

    by_url = {o.url: o for o in report.outcomes}
    assert by_url[urls["path"]].status == by_url[urls["url"]].status == "failed"
    assert server.hits["/secret"] == 0 and server.hits["/evil.dtd"] == 0  # nothing fetched on a body's say-so
    out = tmp_path / "output"
    published = b"".join(p.read_bytes() for p in out.iterdir() if p.is_file())
    assert SECRET.encode() not in published
    for bad in (b"<script", b"javascript:", b"onclick", b"<iframe", b"\x00", b"lollollol"):
        assert bad not in published.lower(), bad
    assert len(published) < 5_000_000  # the 10 MB title was capped
    for path in out.iterdir():
        if path.suffix in (".rss", ".atom"):
            etree.fromstring(path.read_bytes())
            assert not feedparser.parse(path.read_bytes()).bozo
        elif path.suffix == ".json":
            json.loads(path.read_bytes())
    nato = feedparser.parse((out / "nato.atom").read_bytes())
    titles = [e.title for e in nato.entries]
    assert any(t.startswith("NATO and") and "Estonia" in t for t in titles)  # NUL and BEL removed
    assert "NATO from the future" in titles
    for entry in nato.entries:  # no date in the output is absurd, and none is after the run
        when = datetime(*entry.updated_parsed[:6], tzinfo=timezone.utc)
        assert datetime(1990, 1, 1, tzinfo=timezone.utc) <= when <= NOW
