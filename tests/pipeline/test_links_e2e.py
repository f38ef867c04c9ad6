"""Published links are clean (no tracking parameters, no fragment); the store keeps the source's own."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser

from clihelpers import invoke, write_config
from feedrules import check_atom, check_rss
from feedserver import FeedServer

TRACKED = "https://www.baltic-defence.example/News/2024/nato-drill/?id=7&utm_source=rss&fbclid=abc#comments"
CLEAN = "https://www.baltic-defence.example/News/2024/nato-drill/?id=7"
VIA = "https://wire.example/nato-drill?utm_campaign=x"
FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Desk</title><link>https://baltic-defence.example/</link><description>d</description>
<item><title>NATO drill in Estonia</title><link>{TRACKED.replace("&", "&amp;")}</link><guid>drill-7</guid>
<pubDate>Mon, 03 Jun 2024 15:00:00 GMT</pubDate><description>Allied troops trained near Tapa.</description></item>
</channel></rss>""".encode()
WIRE = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>d</description>
<item><title>NATO drill in Estonia</title><link>{VIA}</link><guid>w-1</guid>
<pubDate>Mon, 03 Jun 2024 15:05:00 GMT</pubDate><description>Allied troops trained near Tapa.</description></item>
</channel></rss>""".encode()


def test_published_links_are_clean_and_explain_shows_the_original(tmp_path: Path, server: FeedServer) -> None:
    config = write_config(tmp_path, [server.add("/desk.xml", FEED, content_type="application/rss+xml"),
                                     server.add("/wire.xml", WIRE, content_type="application/rss+xml")])
    assert invoke(config, "run").exit_code == 0
    out = tmp_path / "output"
    rss, atom = (out / "nato.rss").read_bytes(), (out / "nato.atom").read_bytes()
    check_rss(rss, "http://feeds.test/news/nato.rss", "http://feeds.test/news/index.html")  # still valid
    check_atom(atom, "http://feeds.test/news/nato.atom", "http://feeds.test/news/index.html")
    assert [e.link for e in feedparser.parse(rss).entries] == [CLEAN]
    entry = feedparser.parse(atom).entries[0]
    links = {(link.rel, link.href) for link in entry.links}
    assert ("alternate", CLEAN) in links and ("via", "https://wire.example/nato-drill") in links
    item = json.loads((out / "nato.json").read_text())["items"][0]
    assert item["url"] == CLEAN
    assert [s.get("link") for s in item["_aggregator"]["sources"]] == [CLEAN, "https://wire.example/nato-drill"]
    for data in (rss, atom, (out / "nato.json").read_bytes(), (out / "index.html").read_bytes()):
        assert b"utm_" not in data and b"fbclid" not in data and b"#comments" not in data

    explained = invoke(config, "explain", CLEAN)
    assert explained.exit_code == 0, explained.output
    assert f"  link:      {TRACKED}  (as its source gave it)" in explained.stdout
    assert f"  clean:     {CLEAN}  (what the feeds link to)" in explained.stdout
    assert VIA in explained.stdout  # the other source's own link, as it gave it
