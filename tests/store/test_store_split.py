"""Schema 3: feed states in ``<store>.feeds.json``, items read on first access, items written first.

A session that touches no item never reads nor writes the items file; a save killed (or
failing) between its two writes leaves new items with old feed states, never the reverse;
a schema 2 single file migrates to the two files.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.records import FeedState, Snapshot
from aggregator.store import SCHEMA_VERSION, Store
from aggregator.store.files import OrjsonStorage, feeds_path, journal_path
from tests.store.test_store import DATA, NOW, leftovers, make_item, make_snapshot, saved

FEED = "https://a.example/rss"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "store.json"


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """Every file the store reads, in order."""
    seen: list[Path] = []
    # read(), the whole-file readers and the header-only reader (open_fd) each call one of these
    real_read, real_open = OrjsonStorage.read_bytes, OrjsonStorage.open_fd

    def spy_read(self):
        seen.append(self.path)
        return real_read(self)

    def spy_open(self):
        seen.append(self.path)
        return real_open(self)

    monkeypatch.setattr(OrjsonStorage, "read_bytes", spy_read)
    monkeypatch.setattr(OrjsonStorage, "open_fd", spy_open)
    return seen


@pytest.mark.parametrize("name, sidecar", [
    ("aggregator.json", "aggregator.feeds.json"),
    ("store", "store.feeds"),
    ("my.store.json", "my.store.feeds.json"),
])
def test_feeds_file_name(name: str, sidecar: str) -> None:
    assert feeds_path(Path("/d") / name) == Path("/d") / sidecar
    assert Store(Path("/d") / name).feeds_backup == Path("/d") / (sidecar + ".bak")


# ----------------------------------------------------------------------------- Snapshot


def test_snapshot_built_in_memory_is_loaded_and_empty_by_default() -> None:
    snap = Snapshot(feeds={FEED: FeedState(FEED)})
    assert (snap.items, snap.tombstones, snap.meta, snap.items_loaded) == ({}, {}, {}, True)
    assert Snapshot(items={"a": make_item(1)}) == Snapshot(items={"a": make_item(1)}) != Snapshot()


def test_lazy_snapshot_reads_once_on_first_access_and_assignment_wins() -> None:
    calls = []

    def lazy():
        calls.append(1)
        return {"x": make_item(1)}, {"k": NOW}

    snap = Snapshot(feeds={}, lazy=lazy)
    assert not snap.items_loaded and calls == [] and "not loaded" in repr(snap)
    snap.items = {}  # assigned: the items are not read, the tombstones still are, on access
    assert snap.items_loaded and calls == []
    assert snap.tombstones == {"k": NOW} and snap.items == {} and calls == [1]
    snap.tombstones
    assert calls == [1]


def test_lazy_snapshot_whose_read_fails_stays_unloaded() -> None:
    def broken():
        raise errors.StoreCorrupt("/s.json", "not valid JSON")

    snap = Snapshot(lazy=broken)
    for _ in range(2):
        with pytest.raises(errors.StoreCorrupt):
            snap.items
    assert not snap.items_loaded


# ----------------------------------------------------------------------------- lazy items


def test_a_session_touching_no_item_never_reads_the_items_file(path: Path, reads: list[Path]) -> None:
    saved(path, make_snapshot(3))
    saved(path, make_snapshot(3))
    before = {p.name: (p.read_bytes(), p.stat().st_ino) for p in (path, path.with_name("store.json.bak"))}
    reads.clear()
    store = Store(path)
    with store.lock():
        snap = store.load()
        state = snap.feeds[FEED]
        snap.feeds[FEED] = dataclasses.replace(state, last_status=304, error_count=0)
        store.save(snap)
    assert reads == [feeds_path(path)]  # the feeds file only, once
    assert {p.name: (p.read_bytes(), p.stat().st_ino) for p in (path, path.with_name("store.json.bak"))} == before
    back = Store(path).load()
    assert back.feeds[FEED].last_status == 304 and len(back.items) == 3


def test_a_corrupt_items_file_does_not_stop_a_no_change_session_and_raises_at_first_access(path: Path) -> None:
    saved(path, make_snapshot(3))
    saved(path, make_snapshot(3))
    path.write_bytes(b'{"items": {"1": ')
    store = Store(path)
    snap = store.load()
    snap.feeds[FEED] = dataclasses.replace(snap.feeds[FEED], etag='"new"')
    store.save(snap)
    assert path.read_bytes() == b'{"items": {"1": '  # byte-identical: never opened for writing
    assert Store(path).load().feeds[FEED].etag == '"new"'
    sidecar = feeds_path(path).read_bytes()
    with pytest.raises(errors.StoreCorrupt) as info:
        snap.items
    message = str(info.value)
    assert message.startswith(f"{path}: not valid JSON") and "store.json.bak" in message and "\n" not in message
    assert info.value.backup == path.with_name("store.json.bak")
    with pytest.raises(errors.StoreCorrupt):  # the run ends: nothing more is saved
        store.save(snap)
    assert feeds_path(path).read_bytes() == sidecar and path.read_bytes() == b'{"items": {"1": '


def test_items_read_or_assigned_are_written(path: Path, reads: list[Path]) -> None:
    saved(path, make_snapshot(3))
    store = Store(path)
    snap = store.load()
    snap.items = {make_item(9).id: make_item(9)}  # assigned unread: the tombstones are read to be kept
    store.save(snap)
    back = Store(path).load()
    assert list(back.items) == [make_item(9).id] and back.tombstones == make_snapshot().tombstones
    reads.clear()
    snap = store.load()
    snap.items  # read only: written back (cheaper than comparing), and nothing else read
    store.save(snap)
    assert reads == [feeds_path(path), path, journal_path(path)]  # the journal looked for, and absent
    assert path.with_name("store.json.bak").exists()
    assert journal_path(path).exists()  # no change since the items file: an empty journal, not a rewrite


def test_a_missing_items_file_beside_a_feeds_file_is_corrupt(path: Path) -> None:
    saved(path, make_snapshot(2))
    saved(path, make_snapshot(3))
    path.unlink()
    snap = Store(path).load()
    with pytest.raises(errors.StoreCorrupt, match="missing, but its feeds file store.feeds.json exists"):
        snap.items
    assert "DOES NOT LOAD: missing" in Store(path).check()
    message = Store(path).restore(now=NOW)
    assert message.startswith(f"restored {path} from store.json.bak (schema {SCHEMA_VERSION}, 2 items")
    assert len(Store(path).load().items) == 2


# ----------------------------------------------------------------------------- the feeds file

SIDE_CORRUPTIONS = {
    "truncated": lambda good: good[: len(good) // 2],
    "not json": lambda good: b"<rss/>",
    "no meta": lambda good: b'{"feeds": {}}',
    "feeds not a table": lambda good: b'{"meta": {"1": {"schema_version": 3}}, "feeds": [1]}',
    "feed without url": lambda good: b'{"meta": {"1": {"schema_version": 3}}, "feeds": {"1": {"etag": "x"}}}',
    "future schema": lambda good: b'{"meta": {"1": {"schema_version": 99}}}',
}


@pytest.mark.parametrize("kind", SIDE_CORRUPTIONS)
def test_a_corrupt_feeds_file_is_reported_at_load_and_nothing_is_saved(path: Path, kind: str) -> None:
    saved(path, make_snapshot(2))
    saved(path, make_snapshot(3))
    side = feeds_path(path)
    bad = SIDE_CORRUPTIONS[kind](side.read_bytes())
    side.write_bytes(bad)
    items = path.read_bytes()
    store = Store(path)
    with pytest.raises(errors.StoreCorrupt) as info:
        store.load()
    assert str(info.value).startswith(f"{side}: ") and info.value.backup == side.with_name("store.feeds.json.bak")
    for attempt in (store, Store(path)):  # a Store that never loaded it refuses too
        with pytest.raises(errors.StoreCorrupt):
            attempt.save(make_snapshot(4))
    assert side.read_bytes() == bad and path.read_bytes() == items and leftovers(path.parent) == []
    verdict = Store(path).check()
    assert verdict.startswith(f"{side}: DOES NOT LOAD") and "backup store.feeds.json.bak ok, " in verdict
    with pytest.raises(errors.StoreCorrupt) as strict:
        Store(path).check(strict=True)
    assert strict.value.path == side and strict.value.exit_code == 3
    assert "restored" in Store(path).restore(now=NOW)
    assert len(Store(path).load().items) == 3  # the items file was fine and stays as it was
    assert path.read_bytes() == items


def test_the_feeds_file_takes_the_items_files_permissions(path: Path) -> None:
    path.parent.mkdir(parents=True)
    shutil.copy(DATA / "store_v2.json", path)
    path.chmod(0o640)
    store = Store(path)
    store.save(store.load())
    assert (path.stat().st_mode & 0o777, feeds_path(path).stat().st_mode & 0o777) == (0o640, 0o640)


def test_lock_removes_stale_temp_files_of_both_files(path: Path) -> None:
    path.parent.mkdir(parents=True)
    for name in (".store.json.abc.tmp", ".store.feeds.json.def.tmp", ".store.feeds.json.x.tmp.bak"):
        (path.parent / name).write_text("half a save")
    with Store(path).lock():
        assert leftovers(path.parent) == []


# ----------------------------------------------------------------------------- write order


def test_items_are_written_before_feeds(path: Path, monkeypatch) -> None:
    saved(path, make_snapshot(1))
    replaced: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(Path(dst).name), real(src, dst)))
    Store(path).save(make_snapshot(2))
    assert replaced == ["store.json.bak", "store.json", "store.feeds.json.bak", "store.feeds.json"]


def test_a_save_failing_between_its_two_writes_keeps_new_items_with_old_feed_states(path: Path, monkeypatch) -> None:
    old = make_snapshot(2)
    saved(path, old)
    new = make_snapshot(3)
    new.feeds[FEED] = dataclasses.replace(new.feeds[FEED], etag='"v2"', item_hashes=("h1", "h2", "h3"))
    real = os.replace

    def fail_feeds(src, dst):
        if Path(dst) == feeds_path(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", fail_feeds)
    with pytest.raises(errors.StoreError) as info:
        Store(path).save(new)
    monkeypatch.undo()
    assert str(info.value).startswith(f"{feeds_path(path)}: could not save (No space left on device)")
    assert leftovers(path.parent) == []
    back = Store(path).load()  # consistent: new items, old feed states (re-fetched next run)
    assert back.feeds == old.feeds and back.items == new.items
    assert back.tombstones == new.tombstones


# ----------------------------------------------------------------------------- schema 2


def test_migrates_a_schema_2_single_file_to_two_files(path: Path, reads: list[Path]) -> None:
    path.parent.mkdir(parents=True)
    shutil.copy(DATA / "store_v2.json", path)
    v2 = path.read_bytes()
    store = Store(path)
    assert "schema 2 on disk, migrated on the next save" in store.check()
    reads.clear()
    snap = store.load()
    assert reads == [feeds_path(path), path]  # no feeds file yet: everything from the one file, now
    assert snap.items_loaded and snap.meta["migrated_from"] == 2
    assert len(snap.items) == 3 and len(snap.feeds) == 2
    assert snap.tombstones == {"guid:https://news.err.ee/rss 1609000000": datetime(2024, 1, 10, tzinfo=timezone.utc)}
    v1 = Store(DATA / "store_v1.json").load()  # the same store, one schema older
    assert snap.items == v1.items and snap.feeds == v1.feeds
    assert snap.feeds["https://www.lsm.lv/rss/?lang=en"].error_count == 2

    store.save(snap)
    items, feeds = orjson.loads(path.read_bytes()), orjson.loads(feeds_path(path).read_bytes())
    assert set(items) == {"meta", "items", "tombstones", "heads"} and set(feeds) == {"meta", "feeds"}
    assert items["meta"]["1"]["schema_version"] == feeds["meta"]["1"]["schema_version"] == SCHEMA_VERSION == 3
    assert "migrated_from" not in feeds["meta"]["1"]
    assert path.with_name("store.json.bak").read_bytes() == v2  # the schema 2 file is kept
    assert not feeds_path(path).with_name("store.feeds.json.bak").exists()  # nothing to keep yet

    again = Store(path).load()
    assert not again.items_loaded and again.feeds == snap.feeds and "migrated_from" not in again.meta
    assert again.items == snap.items and again.tombstones == snap.tombstones
    verdict = Store(path).check()
    assert verdict.startswith(f"{path}: ok, schema 3, 3 items, 2 feeds, 1 tombstones")
    assert "feed states in store.feeds.json" in verdict and "on disk" not in verdict


def test_a_migration_killed_between_its_writes_keeps_the_items(path: Path, monkeypatch) -> None:
    """Items written as schema 3, no feeds file yet: the feed states are lost (every feed is
    re-fetched and re-parsed, dedup finds its items stored), the items are not."""
    path.parent.mkdir(parents=True)
    shutil.copy(DATA / "store_v2.json", path)
    store = Store(path)
    snap = store.load()
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error"))
                        if Path(dst) == feeds_path(path) else real(src, dst))
    with pytest.raises(errors.StoreError):
        store.save(snap)
    monkeypatch.undo()
    back = Store(path).load()
    assert back.items == snap.items and back.feeds == {}
    assert Store(path).check().startswith(f"{path}: ok, schema 3, 3 items, ")


def test_the_saved_time_is_the_same_in_both_files(path: Path) -> None:
    store = Store(path, clock=lambda: NOW + timedelta(minutes=5))
    with store.lock():
        store.save(make_snapshot(1))
    metas = [orjson.loads(p.read_bytes())["meta"]["1"] for p in (path, feeds_path(path))]
    assert [m["saved_at"] for m in metas] == ["2024-03-01T12:05:00+00:00"] * 2
    assert all(m["note"] == "kept" for m in metas)
