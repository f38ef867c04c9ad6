"""The publish builds one topic's view at a time: the same views and bytes as building them all at once,
each item's view built once and let go after its last use, only the needed items decoded."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from aggregator.publish import feeds as pub
from aggregator.publish.model import TopicView, build_views, select
from aggregator.publish.stream import TopicStream
from aggregator.records import Snapshot
from aggregator.store.lines import ItemTable, read_lines, write_lines
from pubdata import NOW, config, snapshot


@pytest.mark.parametrize("full", [None, set(), {"all"}, {"nato"}])
def test_the_stream_gives_the_views_build_views_gives(tmp_path: Path, full: set[str] | None) -> None:
    cfg, snap = config(tmp_path), snapshot(12)
    picked = select(cfg, snap.items.values(), NOW)
    full = set(picked) if full is None else full
    at_once = build_views(cfg, picked, snap.feeds, NOW, full=full)
    stream = TopicStream(cfg, picked, snap.items, snap.feeds, NOW, full)
    listing = stream.summaries()
    views = list(stream.views())
    assert [v.slug for v in views] == [s for s, v in at_once.items() if isinstance(v, TopicView)]
    assert views == [v for v in at_once.values() if isinstance(v, TopicView)]
    assert [(s.count, s.updated, s.headlines) for s in listing.values()] == \
        [(v.count, v.updated, v.headlines) for v in at_once.values()]
    assert stream._views == {}  # every item's view let go after its last use


def test_a_publish_of_one_topic_decodes_its_items_and_the_headlines_only(tmp_path: Path) -> None:
    cfg, plain = config(tmp_path, max_items=5), snapshot(30)
    pub.publish(cfg, plain, now=NOW)  # every file there
    # The same items, not decoded yet: as a store's table holds them.
    _meta, _tombs, table = read_lines(b"".join(write_lines({"schema_version": 3}, {}, ItemTable(plain.items),
                                                           orjson.dumps)))
    picked = select(cfg, table.heads().values(), NOW)
    report = pub.publish(cfg, Snapshot(items=table, feeds=plain.feeds), now=NOW, topics={"nato"})
    assert set(report.topics_rendered) == {"nato", "all"}
    needed = {h.id for s in ("nato", "all") for h in picked[s]} | {h.id for hs in picked.values() for h in hs[:5]}
    assert table.decoded == len(needed) == 7  # items 0-4 (all), 0-8 even (nato): not the 30
