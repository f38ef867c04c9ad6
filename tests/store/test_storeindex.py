"""The heads index says where each item line is: a run reads the header, then only the lines it uses.

Counted for real: the bytes the store reads from the items file (``os.pread``), the items
it decodes (``ItemTable.decoded``). A file written before the index said where the lines
are (``tests/data/store_v3_lines``, written by the previous release) is read whole once and
written in this layout by the next save; a header the index does not vouch for is read
whole too; an item line that is not where the index says is a corrupt store, named.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import orjson
import pytest

from paths import DATA
from aggregator import errors
from aggregator.dedup import TOKENS_VERSION
from aggregator.store import Store
from aggregator.store.files import journal_path
from aggregator.store.format import decode_items
from aggregator.store.lines import ItemTable, looks_whole, open_lines
from tests.store.test_store import make_item, make_snapshot, saved

BIG = "<p>" + "Estonia and NATO. " * 1_000 + "</p>"  # about 18 KB per item


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "store.json"


@pytest.fixture
def preads(monkeypatch) -> list[int]:
    """The size of every os.pread, in order."""
    sizes: list[int] = []
    real = os.pread

    def spy(fd: int, n: int, offset: int) -> bytes:
        sizes.append(n)
        return real(fd, n, offset)

    monkeypatch.setattr(os, "pread", spy)
    return sizes


def _big_snapshot(n: int):
    snap = make_snapshot(n, rich=False)
    snap.items = {k: dataclasses.replace(i, summary=BIG) for k, i in snap.items.items()}
    return snap


def test_a_load_reads_the_header_and_then_only_the_lines_it_uses(path: Path, preads: list[int]) -> None:
    saved(path, _big_snapshot(200))
    size = path.stat().st_size
    assert size > 200 * 18_000
    preads.clear()
    store = Store(path)
    snap = store.load()
    assert len(snap.items) == 200 and isinstance(snap.items, ItemTable) and snap.items.decoded == 0
    header = sum(preads)
    assert header < 100_000  # the meta, tombstones and heads lines, and the ends of the items: not 3.6 MB
    one = snap.items[make_item(7).id]
    assert one.summary == BIG and snap.items.decoded == 1
    assert 18_000 < sum(preads) - header < 20_000  # that one item's line, nothing around it
    store.verify(snap)  # the items were read: nothing more to check


def test_a_rewrite_copies_the_untouched_lines_in_blocks_without_decoding_them(path: Path, preads: list[int]) -> None:
    saved(path, _big_snapshot(200))
    store = Store(path)
    snap = store.load()
    items = snap.items
    for k in range(0, 200, 5):  # a fifth of them: more than a journal takes, the items file is rewritten
        item = items[make_item(k).id]
        items[item.id] = dataclasses.replace(item, title=f"{item.title}, updated")
    preads.clear()
    store.save(snap)
    assert items.decoded == 40 and not journal_path(path).exists()
    assert len(preads) < 10 and max(preads) <= 1 << 21  # a few blocks, never the whole file
    back = Store(path).load().items
    assert [back[make_item(k).id].title for k in (0, 1, 5)] == ["Item 0, updated", "Item 1", "Item 5, updated"]
    assert all(back[i].summary == BIG for i in back)


@pytest.mark.parametrize("tokens_current", [True, False], ids=["lines found by scanning", "tokens of version 2"])
def test_a_store_written_before_the_index_said_where_the_lines_are_loads_and_is_rewritten(
        tmp_path: Path, tokens_current: bool) -> None:
    """The previous release's files, with their journal: read whole (by scanning the lines, or,
    their index terms being of another version, parsed whole), the journal applied either way,
    and the next save writes the items file anew in this layout, the journal folded in."""
    folder = tmp_path / "state"
    shutil.copytree(DATA / "store_v3_lines", folder)
    path = folder / "store.json"
    if tokens_current:  # say they are current, so the line reader (not the whole parse) reads it
        for file in (path, journal_path(path)):
            file.write_bytes(file.read_bytes().replace(b'"title_tokens":2', b'"title_tokens":%d' % TOKENS_VERSION))
    old = path.read_bytes()
    assert b'],"at":[' not in old and open_lines(os.open(path, os.O_RDONLY)) is None  # the previous layout
    whole, _tombs, _meta = decode_items(orjson.loads(old))
    journal = orjson.loads(journal_path(path).read_bytes())
    want = {k: v for k, v in whole.items() if k not in journal["meta"]["1"]["deleted"]}
    want.update(decode_items(journal)[0])
    assert len(want) == 23 and want != whole
    store = Store(path)
    snap = store.load()
    store.verify(snap)
    assert snap.items_loaded is not tokens_current  # the previous layout passes the cheap check as it did
    assert dict(snap.items) == want  # the journal applied
    assert snap.items[make_item(1).id].title == "Item 1, updated"
    store.save(snap)  # nothing changed this run: written anew all the same, not journalled again
    assert not journal_path(path).exists()
    assert open_lines(os.open(path, os.O_RDONLY)) is not None and looks_whole(path.read_bytes())
    assert dict(Store(path).load().items) == want
    assert "ok, schema 3, 23 items" in Store(path).check()


def test_an_emptied_journal_tombstone_list_is_the_tombstones(path: Path) -> None:
    saved(path, make_snapshot(30, rich=False))  # with one tombstone
    store = Store(path)
    snap = store.load()
    assert snap.tombstones
    snap.tombstones.clear()  # retention forgot it: saved in the journal (one change in 30)
    snap.items[make_item(0).id] = dataclasses.replace(snap.items[make_item(0).id], title="Item 0, updated")
    store.save(snap)
    assert journal_path(path).exists()
    assert Store(path).load().tombstones == {}  # not the items file's, brought back


def test_a_meta_index_out_of_bounds_is_read_whole(path: Path) -> None:
    saved(path, make_snapshot(5, rich=False))
    data = path.read_bytes()
    for field, bad in ((b'"header":', b'"header":99999999999,"x":'), (b'"last_at":', b'"last_at":-5,"x":')):
        damaged = data.replace(field, bad, 1)  # the meta line is not under the CRC
        path.write_bytes(damaged)
        assert open_lines(os.open(path, os.O_RDONLY)) is None
        assert dict(Store(path).load().items) == make_snapshot(5, rich=False).items


def test_a_header_the_index_does_not_vouch_for_is_read_whole(path: Path) -> None:
    saved(path, make_snapshot(5, rich=False))
    data = path.read_bytes()
    damaged = data.replace(b'"Item 3",', b'"Item 8",', 1)  # in the heads line: its CRC no longer matches
    assert damaged != data
    path.write_bytes(damaged)
    assert open_lines(os.open(path, os.O_RDONLY)) is None and not looks_whole(damaged)
    snap = Store(path).load()
    assert dict(snap.items) == make_snapshot(5, rich=False).items  # the lines found by reading them all


def test_an_item_line_moved_behind_the_stores_back_is_a_corrupt_store(path: Path) -> None:
    saved(path, make_snapshot(5, rich=False))
    saved(path, make_snapshot(5, rich=False))  # and a good backup
    data = path.read_bytes()
    # Item 2's line grows by four bytes and item 3's shrinks by four: the header, the first and
    # last lines and the file's size are as the index says, items 2 and 3 are not.
    damaged = (data.replace(b'"title":"Item 2"', b'"title":"Item 2 and"', 1)
               .replace(b'"summary":"<p>summary</p>","content"', b'"summary":"<p>sum</p>","content"', 4)
               .replace(b'"summary":"<p>sum</p>","content"', b'"summary":"<p>summary</p>","content"', 3))
    assert len(damaged) == len(data) and looks_whole(damaged)
    path.write_bytes(damaged)
    store = Store(path)
    snap = store.load()
    assert snap.items[make_item(1).id] == make_item(1)
    with pytest.raises(errors.StoreCorrupt, match=rf"store\.json: items: item {make_item(2).id}: its line is not "
                                                  "where the heads index says"):
        for k in range(5):
            snap.items[make_item(k).id]
    with pytest.raises(errors.StoreCorrupt):
        store.save(snap)
    assert path.read_bytes() == damaged  # nothing written over it
    # store check agrees with the run, so store restore acts
    with pytest.raises(errors.StoreCorrupt, match="DOES NOT LOAD: items: item .*its line is not where"):
        Store(path).check(strict=True)
    assert "restored" in Store(path).restore()
    assert dict(Store(path).load().items) == make_snapshot(5, rich=False).items


def test_only_the_items_used_last_stay_records_the_changed_others_encoded(path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ItemTable, "HOT", 3)
    saved(path, make_snapshot(10, rich=False))
    store = Store(path)
    snap = store.load()
    table = snap.items
    changed = {}
    for k in range(6):  # six changed: three stay records, three are kept as their documents
        item = dataclasses.replace(table[make_item(k).id], title=f"Item {k}, changed")
        table[item.id] = changed[item.id] = item
    assert len(table._items) == 3 and len(table._encoded) == 3 and table.decoded == 6
    assert table[make_item(0).id] == changed[make_item(0).id]  # decoded again, equal
    for k in range(6, 10):
        table[make_item(k).id]  # read, unchanged: let go once cold, nothing encoded
    assert len(table._items) == 3 and set(table._encoded) <= set(changed) and table.decoded == 10
    store.save(snap)
    back = dict(Store(path).load().items)
    assert back == {**make_snapshot(10, rich=False).items, **changed}
