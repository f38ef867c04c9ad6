"""The PostgreSQL store against a real throwaway server: schema and migrations, what one transaction
stores, claims, catching up with another poller, conflicts, the publish lock, check and errors."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import psycopg
import pytest

from aggregator import errors
from aggregator.dedup import ItemIndex, index_terms as title_tokens
from aggregator.records import Entry, FeedState, NearDupSettings, Settings, Snapshot, SourceRef
from aggregator.store import open_store
from aggregator.store.pgschema import MERGE, NAMESPACE, PUBLISH, SCHEMA_VERSION
from aggregator.store.postgres import PgStore
from backends import stored
from tests.store.test_store import NOW, make_item, make_snapshot

FEED = "https://a.example/rss"


def filled(url: str, n: int = 3) -> Snapshot:
    snap = make_snapshot(n)
    open_store(url).fill(snap)
    return snap


def sql(url: str, query: str, *args: object) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, args or None)
        return cur.fetchall() if cur.description else []


def test_the_schema_is_built_by_migrations_once_and_a_newer_one_refused(pg_url: str) -> None:
    store = PgStore(pg_url)
    with store.lock():
        pass
    assert sql(pg_url, "SELECT value FROM meta WHERE key = 'schema_version'") == [(SCHEMA_VERSION,)]
    tables = {r[0] for r in sql(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"meta", "items", "item_keys", "item_sources", "item_topics", "tombstones", "removed", "feeds"} <= tables
    indexes = {r[0] for r in sql(pg_url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {"item_keys_pkey", "items_date", "item_topics_date", "items_seq"} <= indexes
    with store.lock():  # a second start-up finds nothing to do
        pass
    sql(pg_url, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(errors.StoreCorrupt, match="newer aggregator .schema 99"):
        with store.lock():
            pass


def test_fill_then_load_gives_back_every_record(pg_url: str) -> None:
    snap = filled(pg_url)
    back = stored(pg_url)
    assert (back.items, back.feeds, back.tombstones) == (snap.items, snap.feeds, snap.tombstones)
    assert open_store(pg_url).counts().items == 3
    store = PgStore(pg_url)
    with store.lock():
        heads = store.load().heads()
        assert [h.id for h in heads.values()] == list(snap.items)  # the order items arrived in
        title = snap.items[make_item(1).id].title
        assert heads[make_item(1).id].tokens == " ".join(sorted(title_tokens(title))) != ""
    with pytest.raises(errors.StoreError, match="already holds 3 items"):
        open_store(pg_url).fill(snap)


def test_a_transaction_stores_items_feed_state_and_deletions_together(pg_url: str) -> None:
    filled(pg_url)
    store = PgStore(pg_url)
    with store.lock():
        snap = store.load()
        new, old = make_item(7), make_item(0)
        with store.transaction(snap, feeds=[FEED]):
            snap.items[new.id] = new
            snap.items[old.id] = dataclasses.replace(old, title="Item 0, corrected", topics=("news", "baltic"))
            snap.feeds[FEED] = dataclasses.replace(snap.feeds[FEED], etag='"new"')
        with pytest.raises(RuntimeError):  # a failed block stores nothing
            with store.transaction(snap, feeds=[FEED]):
                snap.items[make_item(8).id] = make_item(8)
                raise RuntimeError("boom")
    back = stored(pg_url)
    assert set(back.items) == {make_item(n).id for n in (0, 1, 2, 7)}
    assert back.items[old.id].title == "Item 0, corrected" and back.feeds[FEED].etag == '"new"'
    assert sql(pg_url, "SELECT topic FROM item_topics WHERE item_id = %s ORDER BY topic", old.id) == [
        ("baltic",), ("news",)]
    assert sql(pg_url, "SELECT count(*) FROM item_keys WHERE item_id = %s", new.id) == [(2,)]


def test_a_claimed_feed_is_not_claimed_again_and_one_polled_since_load_is_not_polled(pg_url: str) -> None:
    first, second = PgStore(pg_url), PgStore(pg_url)
    with first.lock(), second.lock():
        a, b = first.load(), second.load()
        assert first.claim(a, FEED) is True
        assert second.claim(b, FEED) is False  # held by the first poller
        with first.transaction(a, feeds=[FEED]):
            a.feeds[FEED] = FeedState(url=FEED, etag='"polled"', last_attempt=NOW)
    with second.lock():  # a run that loaded before the first one's write
        b = second.load()
        with first.lock():
            a = first.load()
            with first.transaction(a, feeds=[FEED]):
                a.feeds[FEED] = FeedState(url=FEED, etag='"again"', last_attempt=NOW + timedelta(minutes=1))
        assert second.claim(b, FEED) is False
        assert b.feeds[FEED].etag == '"again"'  # it now holds the newer state, which it will not overwrite
        second.save(b)
    assert stored(pg_url).feeds[FEED].etag == '"again"'


def entry(title: str, link: str, guid: str) -> Entry:
    return Entry(guid=guid, link=link, title=title, summary="The same wire story, word for word.",
                 published=NOW)


def test_a_poller_catches_up_with_another_before_it_merges(pg_url: str) -> None:
    """Both load the same store; the first stores a story; the second, merging the same link from
    another feed, finds it (one item, two sources), and then sees the first one's deletion."""
    first, second = PgStore(pg_url), PgStore(pg_url)
    near = NearDupSettings()
    with first.lock(), second.lock():
        a, b = first.load(), second.load()
        index_a = ItemIndex(a.items, a.tombstones, near)
        index_b = ItemIndex(b.items, b.tombstones, near)
        with first.transaction(a, feeds=[]) as changes:
            assert not changes
            item, status = index_a.upsert(entry("Story", "https://news.example/s", "1"),
                                          SourceRef(feed_url="https://a.example/rss"), NOW)
            assert status == "new"
        with second.transaction(b) as changes:
            assert changes.changed == (item.id,) and item.id in b.items
            index_b.refresh(changes.changed, changes.removed)
            merged, status = index_b.upsert(entry("Story", "https://news.example/s", "x"),
                                            SourceRef(feed_url="https://b.example/rss"), NOW)
        assert status == "merged" and merged.id == item.id
        with first.transaction(a) as changes:  # the first poller learns of the merge
            assert changes.changed == (item.id,)
            assert [r.feed_url for r in a.items[item.id].sources] == ["https://a.example/rss", "https://b.example/rss"]
            first.prune(a, NOW + timedelta(days=400), Settings(config_path=None, store="", output_dir=None,
                                                               retention_days=30), keep=set())
        with second.transaction(b) as changes:
            assert dict(changes.removed) == {item.id: tuple(item.keys) + ("guid:https://b.example/rss x",)}
            assert item.id not in b.items and "guid:https://a.example/rss 1" in b.tombstones
            index_b.refresh(changes.changed, changes.removed)
            assert index_b.upsert(entry("Story", "https://news.example/s", "1"),
                                  SourceRef(feed_url="https://a.example/rss"), NOW)[1] == "tombstoned"
    assert stored(pg_url).items == {}


def test_a_row_changed_behind_the_lock_is_a_conflict_not_a_lost_update(pg_url: str) -> None:
    filled(pg_url)
    store = PgStore(pg_url)
    with store.lock():
        snap = store.load()
        target = snap.items[make_item(1).id]
        snap.items[target.id] = dataclasses.replace(target, title="mine")
        sql(pg_url, "UPDATE items SET seq = seq + 1000 WHERE id = %s", target.id)  # a writer that skipped the lock
        with pytest.raises(errors.StoreError, match="changed by another writer meanwhile; nothing of this batch"):
            store.save(snap)
    assert stored(pg_url).items[target.id].title == target.title


def test_an_identity_key_names_one_item_the_first_to_claim_it(pg_url: str) -> None:
    filled(pg_url, 1)
    store = PgStore(pg_url)
    with store.lock():
        snap = store.load()
        twin = dataclasses.replace(make_item(5), keys=make_item(0).keys)  # dedup's fallback when every key is taken
        with store.transaction(snap):
            snap.items[twin.id] = twin
    assert sql(pg_url, "SELECT DISTINCT item_id FROM item_keys WHERE key = ANY(%s)", list(twin.keys)) == [
        (make_item(0).id,)]


def test_only_one_process_publishes_and_a_folder_knows_what_it_missed(pg_url: str, tmp_path) -> None:
    out = tmp_path / "output"
    filled(pg_url)
    first, other = PgStore(pg_url), PgStore(pg_url)
    with first.lock():
        snap = first.load()
        len(snap.items)
        with first.publishing(snap, out) as stale:
            assert stale  # never published there
            assert sql(pg_url, "SELECT pg_try_advisory_lock(%s, %s)", NAMESPACE, PUBLISH) == [(False,)]
    with first.lock():
        snap = first.load()
        len(snap.items)
        with first.publishing(snap, out) as stale:
            assert not stale  # nothing changed since
        with other.lock():
            theirs = other.load()
            with other.transaction(theirs):
                theirs.items[make_item(9).id] = make_item(9)
        with first.publishing(snap, out) as stale:
            assert stale and make_item(9).id in snap.items  # caught up, and every topic is due
    assert sql(pg_url, "SELECT pg_try_advisory_lock(%s, %s)", NAMESPACE, MERGE) == [(True,)]


def test_check_names_a_row_that_does_not_decode(pg_url: str) -> None:
    filled(pg_url)
    store = open_store(pg_url)
    assert store.check(strict=True).endswith("ok, schema 1 (PostgreSQL), 3 items (6 sources), 1 feeds, 1 tombstones")
    bad = make_item(2).id
    sql(pg_url, """UPDATE items SET doc = '{"id": 5}' WHERE id = %s""", bad)
    assert "DOES NOT LOAD: items row " + bad in store.check()
    with pytest.raises(errors.StoreCorrupt, match=f"items row {bad}"):
        store.check(strict=True)
    with pytest.raises(errors.StoreError, match="pg_dump"):
        store.restore()


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path) -> None:
    url = f"postgresql://news:s3cret@/news?host={tmp_path}&port=5999"
    with pytest.raises(errors.StoreError) as caught:
        with open_store(url).lock():
            pass
    text = str(caught.value)
    assert "cannot connect" in text and "s3cret" not in text and "news:***@" in text and "\n" not in text
