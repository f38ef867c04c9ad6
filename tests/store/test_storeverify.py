"""The cheap check every run makes (``Store.verify``): the header lines and the heads index say
whether the items file loads, without reading an item line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.store import Store
from aggregator.store.format import NotAStore
from aggregator.store.lines import ItemTable, looks_whole, write_lines
from aggregator.store.retention import next_prune
from tests.store.test_store import NOW, make_item, make_snapshot


def _file(n: int = 3) -> bytes:
    items = {f"id{i}": make_item(i) for i in range(n)} if n else {}
    items = {item.id: item for item in items.values()}
    return b"".join(write_lines({"schema_version": 3}, {"k": NOW}, ItemTable(items), orjson.dumps))


GOOD = _file()
FIRST_ITEM = GOOD.index(b'"1":{"id":')


@pytest.mark.parametrize("data, whole", [
    (GOOD, True),
    (_file(0), True),  # an empty store
    (_file(1), True),
    (_file(1)[:-40] + b"}}\n", False),  # its one item line cut short
    (GOOD[:-1], False),  # cut short: the last line is not there
    (GOOD[: len(GOOD) // 2] + b"}}\n", False),  # cut in an item line, tail patched: the item lines
    (GOOD.replace(b'"rows":[[', b'"rows":[[\x00', 1), False),  # the heads index does not parse
    (GOOD.replace(b'"tombstones":{', b'"tombstonez":{', 1), False),  # framing
    (GOOD[:FIRST_ITEM] + b'"1":{"id":"other"' + GOOD[FIRST_ITEM + 16:], False),  # heads do not describe the items
    (b'{"meta":{"1":{"schema_version":3}},"items":{}}', False),  # an older layout: read whole to tell
    (b"", False),
    (b"\x00" * 200, False),
])
def test_looks_whole(data, whole):
    assert looks_whole(data) is whole


def test_a_newer_schema_is_refused_outright():
    with pytest.raises(NotAStore, match="newer aggregator"):
        looks_whole(GOOD.replace(b'"schema_version":3', b'"schema_version":9', 1))


def test_a_cut_item_line_is_not_caught_cheaply_but_at_its_read(tmp_path: Path):
    """What the check leaves out (item lines) fails later, when a run reads that item: never silently."""
    path = tmp_path / "store.json"
    store = Store(path)
    store.save(make_snapshot(3))
    data = path.read_bytes()
    start = data.index(b'"title":', data.index(b'"2":{"id":'))  # in the middle item's line
    path.write_bytes(data[:start + 7] + b"#" + data[start + 8:])
    snap = Store(path).load()
    Store(path).verify(snap)  # passes: header and heads are intact
    with pytest.raises(errors.StoreCorrupt):
        for item in snap.items.values():
            pass


def test_verify_reads_an_older_layout_whole_once(tmp_path: Path):
    path = tmp_path / "store.json"
    Store(path).save(make_snapshot(2))
    data = path.read_bytes()
    path.write_bytes(orjson.dumps(orjson.loads(data)))  # the same JSON, not one document per line
    store = Store(path)
    snap = store.load()
    store.verify(snap)
    assert snap.items_loaded and len(snap.items) == 2  # and the next save writes the line layout


@pytest.mark.parametrize("retention, keep, expect", [
    (None, set(), None),
    (10, set(), 0),  # the oldest item, item 0 of make_snapshot, dated NOW - 0 h … see below
    (10, {"all"}, None),  # every item published: nothing to prune by age
])
def test_next_prune(retention, keep, expect):
    snap = make_snapshot(3)
    items = snap.items
    keep = set(items) if keep == {"all"} else keep
    found = next_prune(items, retention, keep)
    if expect is None:
        assert found is None
    else:
        oldest = min(i.date for i in items.values())
        assert found == oldest + timedelta(days=retention)
