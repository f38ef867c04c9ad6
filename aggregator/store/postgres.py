"""The PostgreSQL store: one database that several pollers, on one host or many, share.

What keeps them apart (the locks are advisory locks: the server drops those of a
poller that dies, even by ``kill -9``, with its connection):

* **Claims.** A run polls only the due feeds whose lock it takes with
  ``pg_try_advisory_lock`` (one per feed, held until the run ends) and whose state no
  other poller wrote since this run loaded it: so no feed is fetched twice in a round.
* **One transaction per feed.** A polled feed's new and changed items and its new state
  are committed together, under the *merge lock* (held for that transaction only, a few
  milliseconds). A ``kill -9`` loses nothing committed and leaves no half-stored feed.
* **Catching up.** Inside that transaction, before merging, the poller reads what other
  pollers committed since it last looked (every change carries a ``seq`` drawn under the
  merge lock, so their order is the commit order) and applies it to its snapshot and
  dedup index: merges see every item stored before them, whichever poller stored it.
  Identity keys are UNIQUE in ``item_keys``, and a row is updated only at the ``seq`` it
  was read at: a writer that skipped the lock would fail, never store an item twice.
* **Publishing** takes a session advisory lock, so one process at a time writes an output
  folder; ``meta`` remembers per folder the last change published there.

The schema and its migrations are in :mod:`.pgschema`, the statements of a transaction in
:mod:`.pgwrite`, the items in memory in :mod:`.pgitems`, ``store check`` and copying a
whole store in :mod:`.pgadmin`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import weakref
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

import psycopg

from .. import errors, gcpolicy
from ..records import FeedState, Item, Settings, Snapshot
from ..text import hide_password
from . import pgadmin, pgschema, pgwrite
from .pgschema import MERGE, NAMESPACE, PUBLISH
from .pgitems import HEAD_COLUMNS, PgItems, decode_feed, decode_item, head_of_row
from .protocol import NO_CHANGES, Changes, Counts
from .retention import apply_prune

LOCK_WAIT = "300s"  # longest wait for the merge or publish lock, then StoreLocked


_OPEN: weakref.WeakSet[PgStore] = weakref.WeakSet()  # stores whose connection is open


def _release_in_child() -> None:
    """In a forked child (a parse worker): point the inherited database socket at /dev/null.

    The child never uses it, but holding it open would keep the server from seeing the
    parent die: a poller killed by ``kill -9`` would leave its backend, and its claims and
    merge lock, alive for as long as its orphaned workers. The fd number stays valid, so
    nothing else can be written to it by mistake.
    """
    for store in list(_OPEN):
        conn = store._conn
        if conn is None:
            continue
        try:
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, conn.pgconn.socket)
            os.close(null)
        except (OSError, psycopg.Error):
            pass


os.register_at_fork(after_in_child=_release_in_child)


def feed_lock(key: str) -> int:
    """The advisory lock of one feed: 64 bits of its key's hash (one-key locks never meet two-key ones)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "big", signed=True)


class PgStore:
    """The store in the database at *url* (``postgresql://user@host:port/db``); see the module docstring."""

    def __init__(self, url: str, lock_timeout: float = 0.0):
        self.url = url
        self.lock_timeout = lock_timeout  # unused: pollers never wait for each other's whole run
        self._conn: psycopg.Connection | None = None
        self._reset()

    def _reset(self) -> None:
        self._items: PgItems | None = None
        self._tombs: dict[str, datetime] = {}  # as stored
        self._tombs_ref: dict[str, datetime] | None = None  # the snapshot's, when it was stored
        self._revs: dict[str, int] = {}  # feed url -> rev of the row read or written
        self._states: dict[str, FeedState] = {}  # feed url -> the state as stored
        self._meta: dict[str, Any] = {}
        self._seen = self._loaded_at = 0  # highest seq applied; seq when the items were read
        self._foreign = False  # another writer's change was caught up during this run

    @property
    def where(self) -> str:
        return hide_password(self.url)

    # -- connection, errors, schema

    @contextmanager
    def _db(self) -> Iterator[None]:
        """psycopg's errors as the store's: StoreLocked for a lock wait that timed out, else StoreError."""
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise errors.StoreLocked(self.where, 300.0) from None
        except pgwrite.Conflict as exc:
            raise errors.StoreError(self.where, f"{exc}; nothing of this batch was stored, run again") from None
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise errors.StoreError(self.where, f"database error: {first}") from exc

    def _require(self) -> psycopg.Connection:
        if self._conn is None:
            raise RuntimeError("PgStore used outside lock()")
        return self._conn

    @contextmanager
    def lock(self) -> Iterator[PgStore]:
        """Connect, bring the schema up to date, and hold the connection (and its claims) for the block."""
        if self._conn is not None:  # re-entrant, like the TinyDB lock
            yield self
            return
        try:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                         application_name="aggregator")
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise errors.StoreError(self.where, f"cannot connect: {first}") from None
        _OPEN.add(self)
        try:
            with self._db():
                self._conn.execute("SET TIME ZONE 'UTC'")
                self._conn.execute(f"SET lock_timeout = '{LOCK_WAIT}'")
                self._migrate()
            yield self
        finally:
            conn, self._conn = self._conn, None
            _OPEN.discard(self)
            self._reset()
            conn.close()  # releases every advisory lock this run still holds

    def _migrate(self) -> None:
        try:
            pgschema.bring_up_to_date(self._require())
        except pgschema.NewerSchema as exc:
            raise errors.StoreCorrupt(self.where, str(exc), hint="upgrade aggregator") from None

    # -- load

    def load(self) -> Snapshot:
        """The feed states now; the item heads and tombstones at first access."""
        conn = self._require()
        self._reset()
        with self._db():
            rows = conn.execute("SELECT url, rev, doc::text FROM feeds ORDER BY url").fetchall()
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key NOT LIKE 'published:%'").fetchall())
        feeds = {}
        for url, rev, doc in rows:
            feeds[url] = self._feed(url, doc)
            self._revs[url] = rev
        self._states = dict(feeds)
        self._meta = meta
        return Snapshot(feeds=feeds, meta=dict(meta), lazy=self._load_items)

    def _feed(self, url: str, doc: str) -> FeedState:
        try:
            return decode_feed(doc)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise errors.StoreCorrupt(self.where, f"feeds row {url}: {exc}",
                                      hint="fix or delete that row (its feed is then polled afresh)") from None

    def _load_items(self) -> tuple[PgItems, dict[str, datetime]]:
        conn = self._require()
        inside = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE  # read in transaction()
        with self._db(), conn.transaction():
            if not inside:  # heads, tombstones and seq as of one moment (under the merge lock, they are)
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            with gcpolicy.long_lived():  # the heads live until the run ends
                rows = conn.execute(f"SELECT {HEAD_COLUMNS} FROM items ORDER BY pos").fetchall()
                heads, seqs = {}, {}
                for row in rows:
                    head, seq = head_of_row(row)
                    heads[head.id], seqs[head.id] = head, seq
                del rows
            tombstones = dict(conn.execute("SELECT key, at FROM tombstones").fetchall())
            self._seen = self._loaded_at = pgwrite.last_seq(conn)
        self._items = PgItems(heads, seqs, self._fetch)
        self._tombs, self._tombs_ref = dict(tombstones), tombstones
        return self._items, tombstones

    def _fetch(self, ids: list[str]) -> dict[str, Item]:
        with self._db():
            rows = self._require().execute("SELECT id, doc::text FROM items WHERE id = ANY(%s)", (ids,)).fetchall()
        found = {}
        for item_id, doc in rows:
            try:
                found[item_id] = decode_item(doc)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise errors.StoreCorrupt(self.where, f"items row {item_id}: {exc}",
                                          hint="fix or delete that row") from None
        return found

    # -- one run's writes

    @property
    def exclusive(self) -> bool:
        return False  # pollers share the database: each feed is claimed right before its request

    def claim(self, snapshot: Snapshot, key: str) -> bool:
        """Take the feed's lock (held until the run ends), unless another poller holds it or wrote the
        feed's state since this run loaded it (then the snapshot gets that state). One round trip."""
        conn = self._require()
        lock = feed_lock(key)
        with self._db():
            locked, rev = conn.execute("SELECT pg_try_advisory_lock(%s), (SELECT rev FROM feeds WHERE url = %s)",
                                       (lock, key)).fetchone()
            if not locked:
                return False
            if (rev or 0) == self._revs.get(key, 0):
                return True
            # Polled (or deferred) by another poller since this run loaded: theirs is the newer state.
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
            row = conn.execute("SELECT rev, doc::text FROM feeds WHERE url = %s", (key,)).fetchone()
        if row is not None:
            snapshot.feeds[key] = self._states[key] = self._feed(key, row[1])
            self._revs[key] = row[0]
        return False

    @contextmanager
    def transaction(self, snapshot: Snapshot, feeds: Sequence[str] = (), meta: dict[str, Any] | None = None
                    ) -> Iterator[Changes]:
        """Under the merge lock: catch up, run the block, store what it changed and *feeds*' states."""
        conn = self._require()
        with self._db():
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (NAMESPACE, MERGE))
                changes = self._catch_up(snapshot)
                yield changes
                done = self._write(snapshot, feeds, meta or {})
            self._stored(snapshot, *done)

    def _catch_up(self, snapshot: Snapshot) -> Changes:
        """Apply to the snapshot what other writers committed since it last caught up."""
        items = self._items
        if items is None or snapshot.items is not items:
            return NO_CHANGES
        heads, removed, tombs = pgwrite.read_changes(self._require(), self._seen)
        if not (heads or removed or tombs):
            return NO_CHANGES
        gone: dict[str, tuple[str, ...]] = {}
        for item_id, keys, seq in removed:
            if items.dirty(item_id):
                raise pgwrite.Conflict(f"item {item_id} was removed by another writer meanwhile")
            if items.drop(item_id) is not None:
                gone[item_id] = tuple(keys)
            self._seen = max(self._seen, seq)
        for head, seq in heads:
            if items.dirty(head.id):
                raise pgwrite.Conflict(f"item {head.id} was changed by another writer meanwhile")
            items.absorb(head, seq)
            gone.pop(head.id, None)
            self._seen = max(self._seen, seq)
        for key, at, seq in tombs:
            snapshot.tombstones[key] = self._tombs[key] = at
            self._seen = max(self._seen, seq)
        self._foreign = True
        return Changes(tuple(h.id for h, _ in heads), gone)

    def _write(self, snapshot: Snapshot, feeds: Sequence[str], meta: dict[str, Any]
               ) -> tuple[dict[str, int], list[str], int, dict[str, int], list[FeedState]]:
        conn = self._require()
        seqs: dict[str, int] = {}
        deleted: list[str] = []
        top = 0
        items = self._items
        if items is not None and snapshot.items is items:
            changed, deleted = items.pending()
            tombs = snapshot.tombstones
            old = self._tombs if tombs is not self._tombs_ref else None  # only retention replaces them
            if changed or deleted or old is not None:
                seqs, top = pgwrite.write_items(conn, items, changed, deleted,
                                                tombs if old is not None else None, old)
        states = [snapshot.feeds[k] for k in dict.fromkeys(feeds)
                  if k in snapshot.feeds and snapshot.feeds[k] is not self._states.get(k)]
        revs = pgwrite.write_feeds(conn, [(s, self._revs.get(s.url, 0)) for s in states])
        pgwrite.write_meta(conn, meta)
        return seqs, deleted, top, revs, states

    def _stored(self, snapshot: Snapshot, seqs: dict[str, int], deleted: list[str], top: int,
                revs: dict[str, int], states: list[FeedState]) -> None:
        """Committed: what is stored now is what the snapshot holds."""
        if self._items is not None and snapshot.items is self._items:
            self._items.committed(seqs, deleted)
            if snapshot.tombstones is not self._tombs_ref:
                self._tombs, self._tombs_ref = dict(snapshot.tombstones), snapshot.tombstones
        self._seen = max(self._seen, top)  # every seq below ours was caught up under the same lock
        for state in states:
            if state.url in revs:
                self._revs[state.url], self._states[state.url] = revs[state.url], state

    @staticmethod
    def prune(snapshot: Snapshot, now: datetime, settings: Settings, keep: set[str]) -> int:
        """Apply retention to *snapshot* (inside ``transaction``: its deletions are stored at its end)."""
        return apply_prune(snapshot, now, settings, keep)

    def verify(self, snapshot: Snapshot) -> None:
        """Nothing to do: ``load`` has already reached the server, checked the schema version and
        read the feed states, and the server keeps its own tables whole."""

    def save(self, snapshot: Snapshot) -> None:
        """Store what is not stored yet: the states of feeds not parsed (304s, errors), changed items
        (``retag``), the item counts."""
        feeds = [k for k, s in snapshot.feeds.items() if s is not self._states.get(k)]
        counts = snapshot.meta.get("item_counts")
        meta = {"item_counts": counts} if counts is not None and counts != self._meta.get("item_counts") else {}
        with self.transaction(snapshot, feeds, meta):
            pass
        self._meta.update(meta)

    @contextmanager
    def publishing(self, snapshot: Snapshot, output_dir: Path) -> Iterator[bool]:
        """Hold the publish lock. Yields whether changes this run has not made may be missing from
        *output_dir* (then every topic must be rendered), after catching up with them."""
        conn = self._require()
        mark_key = f"published:{socket.gethostname()}:{Path(output_dir).resolve()}"
        with self._db():
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, PUBLISH))
        try:
            with self._db():
                row = conn.execute("SELECT value FROM meta WHERE key = %s", (mark_key,)).fetchone()
                mark = row[0].get("seq") if row and isinstance(row[0], dict) else None
                if self._items is not None:
                    with conn.transaction():
                        self._catch_up(snapshot)
                    stale = mark is None or mark < self._loaded_at or self._foreign
                else:
                    stale = mark is None or mark < pgwrite.last_seq(conn)
            yield stale
            with self._db():  # the items may have been read since (to render): _seen says how far
                seen = self._seen if self._items is not None else pgwrite.last_seq(conn)
                pgwrite.write_meta(conn, {mark_key: {"seq": seen}})
        finally:
            if self._conn is not None and not self._conn.closed:
                with self._db():
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, PUBLISH))

    # -- maintenance (in .pgadmin)

    def fill(self, snapshot: Snapshot) -> None:
        with self.lock():
            with self._db():
                pgadmin.fill(self._require(), snapshot, self.where)

    def counts(self) -> Counts:
        with self.lock(), self._db():
            return pgadmin.counts(self._require())

    def check(self, strict: bool = False) -> str:
        with self.lock(), self._db():
            return pgadmin.check(self._require(), self.where, strict)

    def restore(self, now: datetime | None = None) -> str:
        raise errors.StoreError(self.where, "store restore recovers TinyDB files; restore a PostgreSQL "
                                            "store from your database backups (pg_dump, pg_restore)")
