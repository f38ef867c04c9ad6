"""De-duplication through the pipeline, over both store backends: the same story from two feeds
(same link, or a near-duplicate title and text) is one item crediting both, and a second run
with edited and new entries updates in place, never storing a story twice."""

from __future__ import annotations

from pathlib import Path

from aggregator import config as configuration
from aggregator import pipeline
from backends import stored
from feedserver import FeedServer


def rss(title: str, items: list[tuple[str, str, str, str]]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{guid}</guid>"
                   f"<pubDate>Mon, 01 Jun 2026 {hour}:00:00 GMT</pubDate><description>{t}. The full report on "
                   f"the exercise follows with details.</description></item>" for guid, t, link, hour in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>https://x.example/</link>'
            f"<description>d</description>{body}</channel></rss>").encode()


WIRE = ("NATO allies open a new air defence exercise over the Baltic Sea region",
        "https://wire.example/2026/06/nato-baltic-air-defence")


def test_one_story_from_two_feeds_is_one_item(tmp_path: Path, server: FeedServer, store_setting: str) -> None:
    a = server.add("/a.xml", rss("A", [("a1", WIRE[0], WIRE[1] + "?utm_source=a", "08"),
                                       ("a2", "Estonia orders more HIMARS launchers for its army", "https://a.example/2", "09")]))
    b = server.add("/b.xml", rss("B", [("b1", WIRE[0], WIRE[1], "08"),  # the same link, tracking dropped
                                       ("b2", "Estonia orders more HIMARS launchers for its army!",  # near duplicate
                                        "https://b.example/other-path", "09"),
                                       ("b3", "Ukraine receives drones", "https://b.example/3", "10")]))
    (tmp_path / "feeds.yaml").write_text(f"""\
settings: {{store: "{store_setting}"}}
topics:
  nato: {{title: NATO, keywords: [NATO]}}
feeds:
  - url: {a}
  - url: {b}
""", encoding="utf-8")
    conf = configuration.load(tmp_path / "feeds.yaml")
    report = pipeline.run(conf, force=True)
    assert report.new_items == 3
    snap = stored(conf.settings.store)
    by_title = {i.title.rstrip("!"): i for i in snap.items.values()}
    assert len(snap.items) == 3
    wire = by_title[WIRE[0]]
    assert [r.feed_url for r in wire.sources] == [a, b] and "same canonical link" in wire.merges[0].reason
    himars = by_title["Estonia orders more HIMARS launchers for its army"]
    assert [r.feed_url for r in himars.sources] == [a, b] and "near duplicate" in himars.merges[0].reason

    # Edited and new entries: the edit updates its item in place, the new one is added, nothing twice.
    server.add("/a.xml", rss("A", [("a1", WIRE[0] + " (updated)", WIRE[1], "08"),
                                   ("a3", "Latvia hosts a NATO summit", "https://a.example/3", "11")]))
    report = pipeline.run(conf, force=True)
    assert (report.new_items, report.updated_items) == (1, 1)
    snap = stored(conf.settings.store)
    assert len(snap.items) == 4
    assert snap.items[wire.id].title == WIRE[0] + " (updated)"
    keys = [k for i in snap.items.values() for k in i.keys]
    assert len(keys) == len(set(keys))
