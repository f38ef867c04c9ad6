"""Records for the publish/site/serve/websub tests, built directly (no other stage needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from aggregator.records import (
    Config, Enclosure, FeedState, Item, Match, Merge, Settings, Snapshot, SourceRef, Topic,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=1)
BASE = "http://feeds.example.org/out/"
SRC = "https://news.example/rss"
SRC2 = "https://other.example/feed.atom"


def config(out: Path, *, hub: str | None = None, topics: tuple[Topic, ...] | None = None,
           max_items: int = 100) -> Config:
    s = Settings(config_path=out / "feeds.yaml", store=out / "store.json", output_dir=out / "output",
                 base_url=BASE, title="Baltic Watch", websub_hub=hub, max_items=max_items)
    if topics is None:
        topics = (
            Topic("nato", "NATO", "News about NATO & the alliance", keywords=("NATO",)),
            Topic("empty", "Nothing here", "A topic with no items", max_items=5),
        )
    return Config(path=s.config_path, settings=s, topics=topics, sources=())


def ref(i: int, feed: str = SRC, name: str = "Example News") -> SourceRef:
    host = feed.split("/")[2]
    return SourceRef(feed_url=feed, name=name, link=f"https://{host}/a/{i}",
                     feed_title=name, feed_link=f"https://{host}/")


def item(i: int, **kw) -> Item:
    """Item i: published T0 - i hours; even ones are in topic 'nato'."""
    fields = dict(
        id=f"item{i:02d}", keys=(f"k{i}",), canonical_url=f"https://news.example/a/{i}",
        link=f"https://news.example/a/{i}", title=f"Headline {i}",
        summary=f"<p>Summary {i}</p>", published=T0 - timedelta(hours=i), first_seen=T0,
        categories=("Defence",), sources=(ref(i),),
        topics=("nato",) if i % 2 == 0 else (),
        reasons=(Match("nato", "keyword", "NATO", "title", "NATO"),) if i % 2 == 0 else (),
    )
    fields.update(kw)
    return Item(**fields)


def feeds() -> dict[str, FeedState]:
    return {
        SRC: FeedState(url=SRC, title="Example News", link="https://news.example/",
                       feed_id="https://news.example/rss", updated=T0),
        SRC2: FeedState(url=SRC2, title="Other", link="https://other.example/",
                        feed_id="tag:other.example,2024:feed", updated=T0 - timedelta(days=1)),
    }


def snapshot(n: int = 8, extra: tuple[Item, ...] = ()) -> Snapshot:
    """n plain items, item 0 rich (two sources, authors, enclosures, merge), plus *extra*."""
    items = {}
    for i in range(n):
        it = item(i)
        if i == 0:
            it = item(0, authors=("Jane Doe", "Kalle Kask"), content="<p>Full <b>text</b></p>",
                      categories=("Defence", "defence", "Baltic"),
                      enclosures=(Enclosure("https://news.example/a/0.mp3", "audio/mpeg", 1234),
                                  Enclosure("https://news.example/a/0.jpg", "image/jpeg", None)),
                      sources=(ref(0), ref(0, SRC2, "Other")),
                      merges=(Merge("k0b", "same canonical link", T0),))
        if i == 1:
            it = item(1, enclosures=(Enclosure("https://news.example/a/1.ogg", "audio/ogg", None),))
        items[it.id] = it
    for it in extra:
        items[it.id] = it
    return Snapshot(items=items, feeds=feeds())
