"""The run's report tells new, updated and merged items apart: the summary line and ``run --json``."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import FEEDS, invoke, write_config
from feedserver import FeedServer

# A second source carrying one story of rss2.xml (the same link), and one story of its own.
OTHER = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Other desk</title><link>https://other.example/</link><description>d</description>
<item><title>Air policing rotation arrives in Lithuania</title>
<link>https://baltic-defence.example/news/2024/06/air-policing?utm_source=other</link>
<guid isPermaLink="false">other-1</guid><pubDate>Mon, 03 Jun 2024 15:00:00 GMT</pubDate>
<description>Fighters of the NATO rotation landed.</description></item>
<item><title>Riga harbour reopens</title><link>https://other.example/riga</link><guid>other-2</guid>
<pubDate>Mon, 03 Jun 2024 16:00:00 GMT</pubDate><description>Ships again.</description></item>
</channel></rss>"""


def test_merged_reports_are_counted_apart(tmp_path: Path, server: FeedServer) -> None:
    first = server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml")
    second = server.add("/other.xml", OTHER, content_type="application/rss+xml")
    config = write_config(tmp_path, [first, second])

    result = invoke(config, "run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["new_items"], report["updated_items"], report["merged_items"]) == (4, 0, 1)
    by_url = {s["url"]: s for s in report["sources"]}
    assert (by_url[first]["new"], by_url[first]["merged"]) == (3, 0)
    assert (by_url[second]["new"], by_url[second]["updated"], by_url[second]["merged"]) == (1, 0, 1)
    assert report["outcomes"]["fetched"] == 2 and report["files_written"]

    # The one-line summary says the same; an edited story of the first source is "updated".
    server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes().replace(
        b"Four fighters from the new rotation", b"Four fighters of the new rotation"),
        content_type="application/rss+xml")
    again = invoke(config, "run", "--force")
    assert again.exit_code == 0, again.output
    assert "; 0 new, 1 updated, 0 merged items;" in again.stdout


def test_an_entry_under_a_new_guid_and_link_stays_one_item(tmp_path: Path, server: FeedServer) -> None:
    import feedparser

    body = (FEEDS / "rss2.xml").read_bytes()
    url = server.add("/rss2.xml", body, content_type="application/rss+xml")
    config = write_config(tmp_path, [url])
    assert invoke(config, "run").exit_code == 0
    # The site moved to a new CMS: the air policing story has a new guid and a new address.
    moved = body.replace(b"<link>https://baltic-defence.example/news/2024/06/air-policing</link>",
                         b"<link>https://baltic-defence.example/2024/06/03/nato-air-policing</link>").replace(
                         b"<guid>https://baltic-defence.example/news/2024/06/air-policing</guid>",
                         b"<guid isPermaLink=\"false\">cms2-5512</guid>")
    assert moved.count(b"cms2-5512") == 1 and b"2024/06/03/nato-air-policing" in moved
    server.add("/rss2.xml", moved, content_type="application/rss+xml")
    result = invoke(config, "run", "--force")
    assert result.exit_code == 0, result.output
    assert "; 0 new, 1 updated, 0 merged items;" in result.stdout
    stats = json.loads(invoke(config, "stats", "--json").stdout)
    assert stats["items"] == 3
    entries = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    air = [e for e in entries if e.title == "NATO air policing mission rotates at Šiauliai"]
    assert [e.link for e in air] == ["https://baltic-defence.example/2024/06/03/nato-air-policing"]
    explained = invoke(config, "explain", "https://baltic-defence.example/news/2024/06/air-policing")  # the old link
    assert explained.exit_code == 0 and "its guid and link changed" in explained.stdout
