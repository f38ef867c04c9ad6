"""The store: round trip, lock, corrupt files, .bak, check/restore, disk errors, migration, crashes.

The store is two files (schema 3): items at ``path``, feed states at ``feeds_path(path)``.
The lazy items, the write order and the sidecar's own checks are in test_store_split.py.
"""

from __future__ import annotations

from paths import ROOT, DATA
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.dedup import TOKENS_VERSION, index_terms as title_tokens  # the terms the index keys on
from aggregator.records import Enclosure, FeedState, Item, Match, Merge, Snapshot, SourceRef
from recordcodec import from_dict, to_dict
from aggregator.store import SCHEMA_VERSION, Store
from aggregator.store.files import feeds_path
from aggregator.store.format import decode

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CEST = timezone(timedelta(hours=2))


def make_item(n: int, *, feed: str = "https://a.example/rss", rich: bool = False) -> Item:
    base = dict(id=f"guid:{feed} {n}", keys=(f"guid:{feed} {n}", f"url:a.example/{n}"),
                canonical_url=f"https://a.example/{n}", link=f"https://a.example/{n}?utm_source=x",
                title=f"Item {n}", summary="<p>summary</p>", published=NOW - timedelta(hours=n),
                first_seen=NOW, sources=(SourceRef(feed_url=feed, name="A", seen=NOW),),
                topics=("news",), content_hash=f"{n:064x}")
    if rich:
        base.update(
            title=f"Ünïcode «{n}» — НАТО \u2028 tab\there",
            content="<p>x</p>",
            updated=datetime(2024, 2, 1, 10, 0, 0, 123456, tzinfo=CEST),  # not UTC on purpose
            authors=("Ann", "Bo"), categories=("Defence", "Eesti"),
            enclosures=(Enclosure("https://a.example/x.mp3", "audio/mpeg", 123),
                        Enclosure("https://a.example/y.jpg")),
            sources=(SourceRef(feed, "A", "https://a.example/1", "g1", "A feed", "https://a.example/", NOW),
                     SourceRef("https://b.example/atom", "B", None, None, "", None, None)),
            reasons=(Match("news", "keyword", "Baltic", "title", "Baltic"),
                     Match("news", "tag", "news", "source", "")),
            merges=(Merge("url:b.example/1", "near duplicate: title 0.93, text 0.81", NOW),
                    Merge("guid:x 2", "same canonical link")),
        )
    return Item(**base)


def make_snapshot(n: int = 3, rich: bool = True) -> Snapshot:
    items = {i.id: i for i in (make_item(k, rich=rich) for k in range(n))}
    feeds = {"https://a.example/rss": FeedState(
        url="https://a.example/rss", etag='W/"x"', last_status=200, last_attempt=NOW,
        next_poll=NOW + timedelta(hours=1), error_count=1, last_error="HTTP 503", gone=False,
        updated=datetime(2024, 3, 1, 14, 0, tzinfo=CEST))}
    return Snapshot(items=items, feeds=feeds, tombstones={"guid:x 9": NOW - timedelta(days=2)},
                    meta={"note": "kept"})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "store.json"


def saved(path: Path, snap: Snapshot) -> Store:
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(path)
    store.load()
    store.save(snap)
    return store


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".tmp.bak")))


# ----------------------------------------------------------------------------- round trip


def test_missing_file_loads_empty(path: Path) -> None:
    snap = Store(path).load()
    assert (snap.items, snap.feeds, snap.tombstones) == ({}, {}, {})
    assert not path.exists()


def test_round_trip_keeps_every_field(path: Path) -> None:
    snap = make_snapshot()
    saved(path, snap)
    back = Store(path).load()
    assert back.items == snap.items and back.feeds == snap.feeds and back.tombstones == snap.tombstones
    item = back.items[make_item(1).id]
    assert item.updated.tzinfo == timezone.utc and item.updated == make_item(1, rich=True).updated
    assert item.merges[1].at is None and item.enclosures[1].length is None
    assert back.meta["note"] == "kept" and back.meta["schema_version"] == SCHEMA_VERSION
    assert datetime.fromisoformat(back.meta["saved_at"]).tzinfo is not None


def test_file_is_tinydb_tables_in_the_records_codec_format(path: Path) -> None:
    snap = make_snapshot(rich=False)
    saved(path, snap)
    raw = orjson.loads(path.read_bytes())
    assert set(raw) == {"meta", "items", "tombstones", "heads"}
    docs = sorted(raw["items"].values(), key=lambda d: d["id"])
    assert docs == sorted((to_dict(i) for i in snap.items.values()), key=lambda d: d["id"])
    # The heads table: in item order, what every run reads of each item, title tokens included.
    rows = raw.pop("heads")["1"]["rows"]
    assert [r[0] for r in rows] == [d["id"] for d in raw["items"].values()]
    assert [r[8] for r in rows] == [" ".join(sorted(title_tokens(d["title"]))) for d in raw["items"].values()]
    assert raw["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    assert raw["meta"]["1"]["title_tokens"] == TOKENS_VERSION
    # One document per line: the layout the store reads line by line (store/lines.py).
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 4 + len(docs) + 2 and lines[3] == b'"items":{' and lines[-2:] == [b"}}", b""]
    assert list(raw["tombstones"].values()) == [{"key": "guid:x 9", "at": "2024-02-28T12:00:00+00:00"}]
    sidecar = orjson.loads(path.with_name("store.feeds.json").read_bytes())
    assert set(sidecar) == {"meta", "feeds"} and sidecar["meta"]["1"]["schema_version"] == SCHEMA_VERSION
    assert [decode(FeedState, doc) for doc in sidecar["feeds"].values()] == list(snap.feeds.values())
    assert sidecar["meta"]["1"]["saved_at"] == raw["meta"]["1"]["saved_at"]


@pytest.mark.parametrize("item", [make_item(1), make_item(2, rich=True)])
def test_decode_matches_records_from_dict(item: Item) -> None:
    doc = {**to_dict(item), "field_from_the_future": 1}
    assert decode(Item, dict(doc)) == from_dict(Item, doc) == item


def test_100k_items_timing(path: Path) -> None:
    items = {i.id: i for i in (make_item(n, feed=f"https://f{n % 200}.example/rss") for n in range(100_000))}
    store = saved(path, Snapshot())
    t0 = time.perf_counter()
    store.save(Snapshot(items=items))
    t1 = time.perf_counter()
    back = Store(path).load()
    t2 = time.perf_counter()
    print(f"\n100,000 items: save {t1 - t0:.2f}s, load {t2 - t1:.2f}s, "
          f"file {path.stat().st_size / 1e6:.1f} MB")
    assert len(back.items) == 100_000 and back.items["guid:https://f7.example/rss 7"] == items[
        "guid:https://f7.example/rss 7"]


# ----------------------------------------------------------------------------- lock

HOLDER = textwrap.dedent("""
    import sys, time
    from aggregator.store import Store
    with Store(sys.argv[1]).lock():
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "locked"
    return child


def test_lock_times_out_when_another_process_holds_it(path: Path) -> None:
    child = hold_lock(path, 30)
    try:
        start = time.monotonic()
        with pytest.raises(errors.StoreLocked) as info:
            with Store(path, lock_timeout=0.5).lock():
                pass
        assert time.monotonic() - start >= 0.45
        assert str(path) in str(info.value) and "waited 0.5s" in str(info.value)
        with pytest.raises(errors.StoreLocked):  # 0: fail at once
            with Store(path).lock():
                pass
    finally:
        child.kill()
        child.wait()


def test_lock_waits_for_a_run_that_ends_in_time(path: Path) -> None:
    child = hold_lock(path, 0.5)
    try:
        start = time.monotonic()
        with Store(path, lock_timeout=20).lock() as store:
            assert time.monotonic() - start >= 0.3  # it waited for the holder to let go
            store.save(make_snapshot())
        assert len(Store(path).load().items) == 3
    finally:
        child.kill()
        child.wait()


def test_lock_creates_the_folder_reenters_and_removes_stale_temp_files(path: Path) -> None:
    store = Store(path)
    with store.lock():
        assert path.parent.is_dir()
        (path.parent / ".store.json.abc123.tmp").write_text("half a save")
    with store.lock():
        with store.lock():  # re-entrant: restore() takes it inside a locked run
            assert leftovers(path.parent) == []


# ----------------------------------------------------------------------------- corrupt files


def _good(path: Path) -> bytes:
    saved(path, make_snapshot())
    return path.read_bytes()


CORRUPTIONS = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "not json": lambda good: b"<?xml version='1.0'?><rss/>",
    "top level list": lambda good: b"[1, 2]",
    "items not a table": lambda good: b'{"items": [1, 2]}',
    "item not an object": lambda good: b'{"items": {"1": "x"}}',
    "item without title": lambda good: b'{"items": {"1": {"id": "a", "keys": [], "canonical_url": null,'
                                       b' "link": null}}}',
    "bad date": lambda good: good.replace(b'"published":"2024-03-01T12:00:00+00:00"', b'"published":"yesterday"', 1),
    "bad version": lambda good: b'{"meta": {"1": {"schema_version": "two"}}}',
    "future schema": lambda good: b'{"meta": {"1": {"schema_version": 99}}, "items": {}}',
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_store_is_reported_and_never_overwritten(path: Path, kind: str) -> None:
    good = _good(path)
    saved(path, make_snapshot())  # a second save leaves a good .bak
    bad = CORRUPTIONS[kind](good)
    path.write_bytes(bad)
    sidecar = feeds_path(path).read_bytes()
    store = Store(path)
    snap = store.load()  # the feed states load; the items file is read at first access
    with pytest.raises(errors.StoreCorrupt) as info:
        # An item's document is parsed when the item is used (its head, at first access).
        list(snap.items.values())
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    assert info.value.backup == path.with_name("store.json.bak") and "store.json.bak" in message
    if kind == "future schema":
        assert "newer aggregator (schema 99" in message
    with pytest.raises(errors.StoreCorrupt):
        store.save(make_snapshot())
    with pytest.raises(errors.StoreCorrupt):  # nor by a Store that never loaded it
        Store(path).save(Snapshot())
    assert path.read_bytes() == bad and leftovers(path.parent) == []
    assert feeds_path(path).read_bytes() == sidecar  # nothing at all was saved


def test_corrupt_without_backup_says_so(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{")
    with pytest.raises(errors.StoreCorrupt, match="no backup exists") as info:
        Store(path).load()
    assert info.value.backup is None


# ----------------------------------------------------------------------------- .bak, check, restore


def test_save_rotates_the_previous_file_to_bak(path: Path) -> None:
    store = saved(path, make_snapshot(1))
    assert not path.with_name("store.json.bak").exists()  # nothing to keep on the first save
    first = path.read_bytes()
    store.save(make_snapshot(2))
    assert path.with_name("store.json.bak").read_bytes() == first
    second = path.read_bytes()
    store.save(make_snapshot(3))
    assert path.with_name("store.json.bak").read_bytes() == second
    assert len(Store(path).load().items) == 3 and leftovers(path.parent) == []


def test_check_verdicts(path: Path) -> None:
    assert "no store yet" in Store(path).check()
    saved(path, make_snapshot())
    assert Store(path).check().startswith(f"{path}: ok, schema {SCHEMA_VERSION}, 3 items, 1 feeds")
    saved(path, make_snapshot())
    path.write_bytes(b"{garbage")
    verdict = Store(path).check()
    assert "DOES NOT LOAD: not valid JSON" in verdict and "backup store.json.bak ok, " in verdict
    assert "\n" not in verdict


STRICT = [
    # (case, store bytes (None: no file), backup bytes, error raised, words it holds, words it must not)
    ("corrupt, good backup", b"{garbage", "good", errors.StoreCorrupt,
     ["DOES NOT LOAD: not valid JSON", "backup store.json.bak ok, ", "the last good copy is"], []),
    ("corrupt, no backup", b"[]", None, errors.StoreCorrupt,
     ["DOES NOT LOAD: top level is a list", "no backup exists"], ["last good copy"]),
    ("corrupt, corrupt backup", b"{", b"", errors.StoreCorrupt,
     ["DOES NOT LOAD", "backup store.json.bak does not load either: not valid JSON"],
     ["last good copy", "no backup exists"]),
    ("a folder, not a file", "dir", None, errors.StoreError, ["DOES NOT LOAD: cannot read"], []),
]


@pytest.mark.parametrize("case, store, backup, error, says, never", STRICT, ids=[c[0] for c in STRICT])
def test_strict_check_raises_the_verdict(path: Path, case, store, backup, error, says, never) -> None:
    saved(path, make_snapshot())
    if backup == "good":
        saved(path, make_snapshot())
    elif backup is not None:
        path.with_name("store.json.bak").write_bytes(backup)
    if store == "dir":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(store)
    with pytest.raises(error) as info:
        Store(path).check(strict=True)
    err, message = info.value, str(info.value)
    assert isinstance(err, errors.StoreCorrupt) == (error is errors.StoreCorrupt) and err.exit_code == 3
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert all(words in message for words in says) and not any(words in message for words in never)
    if error is errors.StoreCorrupt:
        assert err.backup == (path.with_name("store.json.bak") if backup == "good" else None)
    verdict = Store(path).check()  # not strict: the same verdict, returned
    assert "DOES NOT LOAD" in verdict and says[0] in verdict


@pytest.mark.parametrize("make", ["missing", "good", "schema 1"])
def test_strict_check_returns_the_verdict_when_the_store_loads(path: Path, make: str) -> None:
    if make == "good":
        saved(path, make_snapshot())
    elif make == "schema 1":
        path.parent.mkdir(parents=True)
        shutil.copy(DATA / "store_v1.json", path)
    verdict = Store(path).check(strict=True)
    assert verdict == Store(path).check() and "DOES NOT LOAD" not in verdict


def test_restore_replaces_a_corrupt_store_with_the_backup(path: Path) -> None:
    saved(path, make_snapshot(2))
    saved(path, make_snapshot(3))  # .bak holds the 2-item store
    path.write_bytes(b'{"items": ')
    store = Store(path)
    with pytest.raises(errors.StoreCorrupt):
        store.load().items
    message = store.restore(now=NOW)
    assert "restored" in message and "2 items" in message
    assert path.with_name("store.json.corrupt-20240301T120000Z").read_bytes() == b'{"items": '
    assert path.with_name("store.json.bak").exists()
    back = store.load()
    assert len(back.items) == 2
    # the feed states are newer than the restored items: their validators are cleared, so the
    # next run re-reads every feed instead of skipping entries whose items were lost
    assert "caching validators cleared" in message
    state = back.feeds["https://a.example/rss"]
    assert (state.etag, state.body_hash, state.item_hashes) == (None, None, ())
    assert state.error_count == 1 and state.next_poll == NOW + timedelta(hours=1)  # the rest is kept
    store.save(make_snapshot(1))  # the store works again
    assert len(Store(path).load().items) == 1


def test_restore_refuses_when_there_is_nothing_good_to_restore(path: Path) -> None:
    saved(path, make_snapshot())
    with pytest.raises(errors.StoreError, match="nothing to restore"):
        Store(path).restore()
    path.write_bytes(b"x")
    with pytest.raises(errors.StoreError, match="no backup"):
        Store(path).restore()
    path.with_name("store.json.bak").write_bytes(b"[]")
    with pytest.raises(errors.StoreError, match="backup does not load either") as info:
        Store(path).restore()
    assert info.value.path.name == "store.json.bak" and path.read_bytes() == b"x"


# ----------------------------------------------------------------------------- disk errors


def _fail(err: int):
    def fail(*args, **kwargs):
        raise OSError(err, os.strerror(err))
    return fail


@pytest.mark.parametrize("target, err", [
    ("write", errno.ENOSPC), ("fsync", errno.ENOSPC), ("replace", errno.ENOSPC),
    ("mkstemp", errno.EROFS), ("mkstemp", errno.EACCES),
])
def test_disk_errors_leave_the_old_file_and_no_temp_files(path: Path, monkeypatch, target, err) -> None:
    store = saved(path, make_snapshot(2))
    store.save(make_snapshot(2))
    old, old_bak = path.read_bytes(), path.with_name("store.json.bak").read_bytes()
    module = tempfile if target == "mkstemp" else os
    monkeypatch.setattr(module, target, _fail(err))
    with pytest.raises(errors.StoreError) as info:
        store.save(make_snapshot(3))
    monkeypatch.undo()
    assert not isinstance(info.value, errors.StoreCorrupt)
    assert str(info.value).startswith(str(path)) and os.strerror(err) in str(info.value)
    assert path.read_bytes() == old and path.with_name("store.json.bak").read_bytes() == old_bak
    assert leftovers(path.parent) == []
    store.save(make_snapshot(3))  # the next attempt, with room, works
    assert len(Store(path).load().items) == 3


# ----------------------------------------------------------------------------- migration


def test_migrates_a_schema_1_store(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    shutil.copy(DATA / "store_v1.json", path)
    store = Store(path)
    assert "schema 1 on disk" in store.check()
    snap = store.load()
    assert snap.meta["migrated_from"] == 1 and len(snap.items) == 3 and len(snap.feeds) == 2
    err = snap.items["guid:https://news.err.ee/rss 1609218273"]
    assert err.keys == ("guid:https://news.err.ee/rss 1609218273",
                        "url:news.err.ee/1609218273/estonia-to-build-baltic-defence-line")
    assert err.published == datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
    assert err.updated == datetime(2024, 1, 15, 9, 0, 5, 250000, tzinfo=timezone.utc)
    assert err.topics == ("baltics", "defence") and err.reasons == () and err.merges == ()
    assert err.enclosures == (Enclosure("https://news.err.ee/img/bunker.jpg", "image/jpeg", 48213),)
    assert err.sources[0].seen == datetime(2024, 1, 15, 9, 0, 5, tzinfo=timezone.utc)
    assert err.categories == ("Defence", "Estonia") and err.authors == ("ERR News",)
    lsm = next(i for i in snap.items.values() if i.id.startswith("link:"))
    assert lsm.published is None and lsm.date == datetime(2024, 1, 16, 12, 0, tzinfo=timezone.utc)
    assert [s.feed_url for s in lsm.sources] == ["https://www.lsm.lv/rss/?lang=en", "https://news.err.ee/rss"]
    assert "guid:https://news.err.ee/rss lsm-1702" in lsm.keys and lsm.content.startswith("<p>")
    weather = next(i for i in snap.items.values() if i.id.startswith("hash:"))
    assert weather.keys == (weather.id,) and weather.link is None and weather.topics == ()
    assert weather.title == "Weather: snow storm warning for Tallinn — Ilmateenistus"
    lsm_feed = snap.feeds["https://www.lsm.lv/rss/?lang=en"]
    assert lsm_feed.error_count == 2 and lsm_feed.last_error == "HTTP 503"
    assert lsm_feed.next_poll == datetime(2024, 1, 17, 11, 0, tzinfo=timezone.utc)
    store.save(snap)  # written back as schema 3 (two files); the schema 1 file is kept as .bak
    raw = orjson.loads(path.read_bytes())
    assert raw["meta"]["1"]["schema_version"] == SCHEMA_VERSION and "migrated_from" not in raw["meta"]["1"]
    assert "feeds" not in raw and len(orjson.loads(feeds_path(path).read_bytes())["feeds"]) == 2
    assert path.with_name("store.json.bak").read_bytes() == (DATA / "store_v1.json").read_bytes()
    again = Store(path).load()
    assert again.items == snap.items and again.feeds == snap.feeds and "migrated_from" not in again.meta


def test_meta_without_version_is_schema_1(tmp_path: Path) -> None:
    raw = orjson.loads((DATA / "store_v1.json").read_bytes())
    raw["meta"] = {"1": {"created": 1705300000.0}}
    path = tmp_path / "store.json"
    path.write_bytes(orjson.dumps(raw))
    assert Store(path).load().meta["migrated_from"] == 1


# ----------------------------------------------------------------------------- crash consistency

SAVER = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from aggregator.records import FeedState, Item, Snapshot, SourceRef
    from aggregator.store import Store
    now = datetime.now(timezone.utc)
    def item(n):
        return Item(id=f"i{n}", keys=(f"i{n}",), canonical_url=None, link=f"https://a.example/{n}",
                    title=f"Item {n}", summary="<p>" + "words " * 60 + "</p>", published=now,
                    sources=(SourceRef("https://a.example/rss", seen=now),))
    store = Store(sys.argv[1])
    with store.lock():
        gen = store.load().meta.get("gen", 0)
        base = {i.id: i for i in map(item, range(2000))}
        while True:
            gen += 1
            extra = {i.id: i for i in map(item, range(-gen, 0))}
            feeds = {"https://a.example/rss": FeedState("https://a.example/rss", etag=str(gen))}
            store.save(Snapshot(items={**base, **extra}, feeds=feeds, meta={"gen": gen}))
            print(gen, flush=True)
""")


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_store(path: Path) -> None:
    rng = random.Random(5)
    path.parent.mkdir(parents=True)
    last_done = mid_save = 0
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE,
                                 text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        done = [int(child.stdout.readline())]  # in the save loop: now kill it mid-something
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        done += [int(line) for line in out.split()]
        mid_save += bool(leftovers(path.parent))  # its temp file: killed while writing
        last_done = max(last_done, *done)
        snap = Store(path).load()  # always two complete files...
        gen = snap.meta["gen"]  # the feeds file's save
        assert gen >= last_done and snap.feeds["https://a.example/rss"].etag == str(gen)
        # ...the items of the last completed save, or of the one after it (killed between its two
        # writes: items first), never older than the feed states
        items_gen = len(snap.items) - 2000
        assert items_gen in (gen, gen + 1) and set(snap.items) == {f"i{n}" for n in range(-items_gen, 2000)}
    assert mid_save >= 1  # the kills did land inside saves (12 of 20 when measured)
    with Store(path).lock():  # the next run clears what the killed ones left behind
        assert leftovers(path.parent) == []
