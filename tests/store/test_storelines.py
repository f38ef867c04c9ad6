"""The items file one document per line: items decoded on demand, untouched ones saved as read.

What a run may skip must be skipped for real (counted: ``ItemTable.decoded``), and what it
writes must read back equal, whether an item went through as bytes or as a record.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.records import Snapshot
from aggregator.dedup import TOKENS_VERSION, index_terms as title_tokens  # the terms the index keys on
from aggregator.store import Store
from aggregator.store.format import NotAStore
from aggregator.store.lines import ItemHead, ItemTable, head_of, head_of_row, read_lines, row_of, write_lines
from tests.store.test_store import NOW, make_item, make_snapshot, saved


def _dumps(value: object) -> bytes:
    return orjson.dumps(value)


def _file(items: dict, tombstones: dict | None = None, meta: dict | None = None) -> bytes:
    table = items if isinstance(items, ItemTable) else ItemTable(items)
    return b"".join(write_lines(meta or {"schema_version": 3}, tombstones or {}, table, _dumps))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "store.json"


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("rich", [False, True])
def test_round_trip_is_valid_json_and_gives_the_same_items(n: int, rich: bool) -> None:
    items = {i.id: i for i in (make_item(k, rich=rich) for k in range(n))}
    tombstones = {"guid:x 9": NOW - timedelta(days=2)}
    data = _file(items, tombstones)
    whole = orjson.loads(data)  # the same document for any JSON reader (and TinyDB)
    assert [doc["id"] for doc in whole["items"].values()] == list(items)
    meta, tombs, table = read_lines(data)
    assert meta == {"schema_version": 3, "title_tokens": TOKENS_VERSION} and tombs == tombstones
    assert table.decoded == 0 and list(table) == list(items)
    heads = table.heads()
    for item in items.values():
        head = heads[item.id]
        assert head._replace(tokens=None) == head_of(item)
        assert head.tokens == " ".join(sorted(title_tokens(item.title)))
    assert dict(table) == items  # decoded on access, equal to what went in
    assert table.decoded == n


def test_untouched_items_are_written_back_byte_for_byte_without_decoding() -> None:
    items = {i.id: i for i in (make_item(k, rich=True) for k in range(4))}
    data = _file(items)
    _meta, _tombs, table = read_lines(data)
    changed = dataclasses.replace(make_item(1, rich=True), title="Changed headline")
    table[changed.id] = changed
    del table[make_item(2).id]
    table[make_item(7).id] = make_item(7)
    again = _file(table)
    assert table.decoded == 2  # the two assigned: the others went back as bytes
    old_lines, new_lines = data.split(b"\n"), again.split(b"\n")
    assert new_lines[4] == old_lines[4]  # item 0, untouched: its line as read
    assert new_lines[6].rstrip(b",") == old_lines[7].replace(b'"4":', b'"3":').rstrip(b",")  # item 3: renumbered only
    _m, _t, back = read_lines(again)
    assert list(back) == [make_item(0).id, changed.id, make_item(3).id, make_item(7).id]
    assert back[changed.id] == changed and back.heads()[changed.id].title == "Changed headline"


def test_heads_follow_assignments_and_deletions() -> None:
    table = ItemTable({make_item(0).id: make_item(0)})
    table[make_item(1).id] = make_item(1)
    del table[make_item(0).id]
    assert list(table.heads()) == [make_item(1).id] and len(table) == 1
    assert make_item(0).id not in table and make_item(1).id in table


def test_snapshot_heads_are_the_items_themselves_for_a_plain_dict() -> None:
    snap = make_snapshot(2)
    assert snap.heads() is snap.items
    table_snap = Snapshot(items=ItemTable(snap.items))
    assert list(table_snap.heads()) == list(snap.items)
    assert all(isinstance(h, ItemHead) for h in table_snap.heads().values())


def _row(**changes: object) -> list:
    names = ["id", "keys", "title", "published", "updated", "first_seen", "topics", "feeds", "tokens"]
    row = dict(zip(names, orjson.loads(orjson.dumps(row_of(head_of(make_item(1)))))))
    return list({**row, **changes}.values())


def test_a_head_survives_its_row() -> None:
    head = head_of(make_item(1, rich=True))
    assert head_of_row(orjson.loads(orjson.dumps(row_of(head)))) == head._replace(
        tokens=" ".join(sorted(title_tokens(head.title))))


@pytest.mark.parametrize("row", [
    _row(id=""), _row(id=5), _row(title=None), _row(tokens=["a"]), _row(published="yesterday"),
    _row(keys="guid:x"), _row(topics={"nato": 1}), _row(feeds=None),
    _row()[:-1],  # a field short
])
def test_a_bad_row_is_refused_and_the_file_is_read_whole(row: list) -> None:
    with pytest.raises((TypeError, ValueError)):
        head_of_row(row)
    data = _file({make_item(1).id: make_item(1)})
    lines = data.split(b"\n")
    lines[2] = b'"heads":{"1":{"rows":' + orjson.dumps([row]) + b"}},"
    assert read_lines(b"\n".join(lines)) is None


def test_heads_that_do_not_match_the_items_make_the_file_read_whole() -> None:
    data = _file({i.id: i for i in (make_item(k) for k in range(3))})
    lines = data.split(b"\n")
    swapped = b"\n".join([*lines[:4], lines[5], lines[4], *lines[6:]])
    assert orjson.loads(swapped)  # still valid JSON
    assert read_lines(swapped) is None  # item 1's line where item 0's head says it is
    assert read_lines(data.replace(lines[6] + b"\n", b"").replace(lines[5], lines[5].rstrip(b","))) is None


@pytest.mark.parametrize("data", [
    b'{"meta":{"1":{}},"items":{}}',  # one line: the schema 3 whole-file layout
    b"",
    b'{"meta":{"1":{"schema_version":3}},\n"tombstones":{},\n"heads":{"1":{"rows":[]}},\n"items":{\n}}\n',  # no tokens
])
def test_other_layouts_are_left_to_the_whole_file_parser(data: bytes) -> None:
    assert read_lines(data) is None


def test_a_line_whose_document_has_another_id_is_damaged() -> None:
    data = _file({make_item(0).id: make_item(0)})
    lines = data.split(b"\n")
    lines[4] = lines[4].replace(b'"keys":["guid', b'"keys":["x').replace(b'"id":"guid', b'"id":"guid', 1)
    _m, _t, table = read_lines(b"\n".join(lines))
    assert table[make_item(0).id].keys[0].startswith("x")  # the id is checked at load; the rest when used
    broken = data.replace(b'"canonical_url":"https://a.example/0"', b'"canonical_url":"https://a.example/0","id":"other"')
    _m, _t, table = read_lines(broken)
    with pytest.raises(NotAStore, match="its document says id 'other'"):
        table[make_item(0).id]


def test_tokens_of_another_version_make_the_file_read_whole() -> None:
    data = _file({make_item(0).id: make_item(0)})
    assert read_lines(data.replace(b'"title_tokens":%d' % TOKENS_VERSION, b'"title_tokens":0')) is None


def test_a_damaged_line_is_found_when_its_item_is_used() -> None:
    data = _file({i.id: i for i in (make_item(k) for k in range(3))})
    damaged = data.replace(b'"title":"Item 1"', b'"title":17')
    _meta, _tombs, table = read_lines(damaged)  # located, not parsed
    assert table[make_item(0).id] == make_item(0)
    with pytest.raises(NotAStore, match=f"items: item {make_item(1).id}: Item.title is 17, not a string"):
        table[make_item(1).id]


# ----------------------------------------------------------------------------- through the Store


def test_store_reads_a_whole_file_store_and_rewrites_it_in_lines(path: Path) -> None:
    snap = make_snapshot(3)
    path.parent.mkdir(parents=True)
    saved(path, snap)
    whole = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps(whole))  # one line, as schema 3 stores were written before
    store = Store(path)
    back = store.load()
    assert back.items == snap.items and back.tombstones == snap.tombstones
    store.save(back)
    assert read_lines(path.read_bytes()) is not None
    assert Store(path).load().items == snap.items


def test_a_run_that_changes_one_item_decodes_only_that_one(path: Path) -> None:
    snap = make_snapshot(50, rich=False)
    saved(path, snap)
    store = Store(path)
    loaded = store.load()
    items = loaded.items
    assert isinstance(items, ItemTable) and items.decoded == 0
    one = make_item(7)
    items[one.id] = dataclasses.replace(items[one.id], title="Item 7, updated")
    store.save(loaded)
    assert items.decoded == 1
    back = Store(path).load().items
    assert back[one.id].title == "Item 7, updated"
    assert {k: v for k, v in back.items() if k != one.id} == {k: v for k, v in snap.items.items() if k != one.id}


def test_a_line_damaged_on_disk_is_a_corrupt_store_and_nothing_is_saved(path: Path) -> None:
    saved(path, make_snapshot(3, rich=False))
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"title":"Item 1"', b'"title":[1]'))
    store = Store(path)
    snap = store.load()
    assert len(snap.items) == 3  # located
    with pytest.raises(errors.StoreCorrupt, match=rf"store\.json: items: item {make_item(1).id}: Item.title"):
        snap.items[make_item(1).id]
    before = path.read_bytes()
    with pytest.raises(errors.StoreCorrupt):
        store.save(snap)
    assert path.read_bytes() == before


def test_save_streams_in_bounded_writes(path: Path, monkeypatch) -> None:
    saved(path, make_snapshot(1))
    big = {i.id: i for i in (dataclasses.replace(make_item(k), summary="x" * 20_000) for k in range(200))}
    sizes: list[int] = []
    real = os.write

    def spy(fd: int, data: bytes) -> int:
        sizes.append(len(data))
        return real(fd, data)

    monkeypatch.setattr(os, "write", spy)
    store = Store(path)
    snap = store.load()
    snap.items = big
    store.save(snap)
    assert sum(sizes) > 4_000_000 and max(sizes) < 1_100_000  # never the whole file in one buffer


# ----------------------------------------------------------------------------- a warm poll, end to end


def test_a_warm_poll_over_http_decodes_only_the_items_it_merges_and_publishes(tmp_path: Path, server) -> None:
    from aggregator import config as configuration
    from aggregator import publish as publisher
    from aggregator import pipeline
    from clihelpers import write_config
    from tests.pipeline.test_crash import rss

    urls = [server.add(f"/f{i}.xml", rss(i, 30), content_type="application/rss+xml") for i in range(6)]
    cfg = configuration.load(write_config(tmp_path, urls))
    cfg = configuration.replace_settings(cfg, max_items=5)
    pipeline.run(cfg, force=True)
    server.add("/f2.xml", rss(2, 31), content_type="application/rss+xml")  # one new entry
    with pipeline.session(cfg) as (store, snap):
        report = pipeline.poll_snapshot(cfg, snap, now=pipeline.utcnow(), force=True)
        assert report.new_items == 1 and isinstance(snap.items, ItemTable) and len(snap.items) == 181
        merged = snap.items.decoded
        store.save(snap)
        publisher.publish(cfg, snap, now=pipeline.utcnow(), topics=set(report.changed_topics))
        published = snap.items.decoded
    # The new item, plus near-duplicate candidates compared in full; then each topic's 5 newest.
    assert merged <= 1 + 16 and published <= merged + 5 * (len(cfg.topics) + 1)
    assert len(pipeline.load_snapshot(cfg).items) == 181


def test_get_of_an_id_the_table_lacks_decodes_nothing_and_of_one_it_has_decodes_it(path: Path) -> None:
    snap = make_snapshot(5, rich=False)
    saved(path, snap)
    items = Store(path).load().items
    assert isinstance(items, ItemTable)
    marker = object()
    assert items.get("no such id") is None and items.get("no such id", marker) is marker
    assert items.decoded == 0
    one = make_item(3)
    assert items.get(one.id) == snap.items[one.id] and items.decoded == 1
    del items[one.id]
    assert items.get(one.id, marker) is marker
