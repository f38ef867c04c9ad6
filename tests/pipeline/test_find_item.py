"""find_item (``explain`` and ``unmerge`` take an id, a link or a key): by the heads when it can,
so a store of many items is not decoded to find one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from aggregator.pipeline import find_item
from aggregator.records import SourceRef
from aggregator.store import Store
from tests.store.test_store import NOW, make_item, make_snapshot, saved


@pytest.fixture
def snap(tmp_path: Path):
    path = tmp_path / "store.json"
    merged = dataclasses.replace(make_item(40), sources=(
        SourceRef(feed_url="https://a.example/rss", name="A", seen=NOW),
        SourceRef(feed_url="https://b.example/rss", name="B", seen=NOW, link="https://b.example/report-7")))
    saved(path, make_snapshot(50, rich=False))
    store = Store(path)
    loaded = store.load()
    loaded.items[merged.id] = merged  # a report of another outlet merged in: its link is no key of the item
    return loaded


@pytest.mark.parametrize("needle, n", [
    ("guid:https://a.example/rss 7", 7),  # an id
    ("https://a.example/7?utm_source=x", 7),  # its link, as published
    ("https://www.a.example/7", 7),  # a link of the same canonical form
    ("url:a.example/12", 12),  # a key
])
def test_found_by_the_heads_without_decoding_the_others(snap, needle: str, n: int) -> None:
    item = find_item(snap, needle)
    assert item is not None and item.id == make_item(n).id
    assert snap.items.decoded <= 2  # the one found (and the merged one assigned in the fixture)


def test_a_merged_reports_link_is_found_by_reading_the_items(snap) -> None:
    assert find_item(snap, "https://b.example/report-7").id == make_item(40).id
    assert find_item(snap, "https://nowhere.example/x") is None
