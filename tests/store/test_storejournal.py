"""The journal: a run that changes a few items writes only those, beside an items file it leaves alone.

``<store>.journal.json`` holds the items new or changed since ``<store>`` was written,
the ids removed since, and the tombstones; it names the items file it completes (its
``generation``). Past JOURNAL_SHARE of the items, a save rewrites the items file and
removes the journal. Killed in between, the journal names an older items file and is
ignored: the new items file already holds everything.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.store import Store
from aggregator.store.files import journal_path
from aggregator.store.store import JOURNAL_SHARE
from tests.store.test_store import make_item, make_snapshot, saved

N = 40  # items in the store; JOURNAL_SHARE of them is 5


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "store.json"
    saved(path, make_snapshot(N, rich=False))
    return path


def _change(path: Path, n_changed: int, *, delete: int | None = None) -> dict:
    """Load, retitle *n_changed* items (and delete one), save; the items as they should be."""
    store = Store(path)
    snap = store.load()
    items = snap.items
    for k in range(n_changed):
        item = items[make_item(k).id]
        items[item.id] = dataclasses.replace(item, title=f"{item.title}, updated")
    if delete is not None:
        del items[make_item(delete).id]
    store.save(snap)
    return dict(items)


def test_a_small_change_goes_to_the_journal_and_leaves_the_items_file_alone(path: Path) -> None:
    before = path.read_bytes()
    want = _change(path, 2, delete=30)
    assert path.read_bytes() == before
    journal = orjson.loads(journal_path(path).read_bytes())  # a TinyDB file like the others
    meta = journal["meta"]["1"]
    assert meta["base"] == orjson.loads(before)["meta"]["1"]["generation"]
    assert meta["deleted"] == [make_item(30).id] and len(journal["items"]) == 2
    back = Store(path).load()
    assert dict(back.items) == want and make_item(30).id not in back.items
    assert back.items[make_item(1).id].title == "Item 1, updated"
    assert list(back.items)[:3] == [make_item(k).id for k in range(3)]  # order kept


def test_journals_add_up_then_the_items_file_is_rewritten(path: Path) -> None:
    before = path.read_bytes()
    _change(path, 2)
    _change(path, 3)  # five of forty: still within JOURNAL_SHARE
    assert path.read_bytes() == before and len(orjson.loads(journal_path(path).read_bytes())["items"]) == 3
    want = _change(path, int(N * JOURNAL_SHARE) + 1)
    assert path.read_bytes() != before and not journal_path(path).exists()
    assert not journal_path(path).with_name("store.journal.json.bak").exists()
    assert dict(Store(path).load().items) == want


def test_a_journal_for_an_older_items_file_is_ignored(path: Path) -> None:
    _change(path, 1)
    old_journal = journal_path(path).read_bytes()
    want = _change(path, N)  # rewrites the items file, removes the journal
    journal_path(path).write_bytes(old_journal)  # as if killed before the removal
    back = Store(path).load()
    assert dict(back.items) == want
    assert "ignored (written for an older items file)" in Store(path).check()


def test_a_damaged_journal_is_a_corrupt_store_and_restore_takes_its_backup(path: Path) -> None:
    _change(path, 1)
    _change(path, 2)  # the first journal is now the .bak
    journal_path(path).write_bytes(b'{"meta": {"1": ')
    store = Store(path)
    snap = store.load()
    with pytest.raises(errors.StoreCorrupt, match=r"store\.journal\.json.*store\.journal\.json\.bak"):
        snap.items
    with pytest.raises(errors.StoreCorrupt):
        store.save(snap)
    assert "store.journal.json: DOES NOT LOAD" in Store(path).check()
    message = Store(path).restore()
    assert "restored" in message and "store.journal.json" in message
    back = Store(path).load()
    assert back.items[make_item(0).id].title == "Item 0, updated" and len(back.items) == N


def test_a_damaged_item_in_the_journal_names_the_journal(path: Path) -> None:
    _change(path, 1)
    data = journal_path(path).read_bytes()
    journal_path(path).write_bytes(data.replace(b'"title":"Item 0, updated"', b'"title":0'))
    snap = Store(path).load()
    with pytest.raises(errors.StoreCorrupt, match=rf"store\.journal\.json: journal: item {make_item(0).id}"):
        snap.items[make_item(0).id]


def test_check_counts_the_journal_in(path: Path, tmp_path: Path) -> None:
    _change(path, 2, delete=39)
    verdict = Store(path).check()
    assert f"ok, schema 3, {N - 1} items" in verdict and "2 items changed since in store.journal.json" in verdict


def test_assigning_every_item_rewrites_the_items_file(path: Path) -> None:
    store = Store(path)
    snap = store.load()
    snap.items = {make_item(0).id: make_item(0)}
    store.save(snap)
    assert not journal_path(path).exists() and list(Store(path).load().items) == [make_item(0).id]


def test_a_store_copied_without_its_journal_still_loads(path: Path, tmp_path: Path) -> None:
    before = dict(Store(path).load().items)
    _change(path, 1)
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("store.json", "store.feeds.json"):
        shutil.copy(path.with_name(name), copy / name)
    assert dict(Store(copy / "store.json").load().items) == before  # the items file alone: as it was written


def test_a_table_read_from_another_items_file_is_written_whole(path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "store.json"
    saved(other, make_snapshot(3, rich=False))
    foreign = Store(other).load().items  # read from another store's items file
    store = Store(path)
    snap = store.load()
    snap.items  # this store has read its own items file (and knows its generation)
    snap.items = foreign
    store.save(snap)
    assert not journal_path(path).exists()  # a journal would complete the wrong file
    assert dict(Store(path).load().items) == dict(Store(other).load().items)
