"""The PostgreSQL store's statements inside one transaction: catch up, write a batch, write feed states.

Called by ``postgres.PgStore`` with the merge lock held (so seqs are drawn in commit
order). Every function takes the open connection; none commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import psycopg

from ..records import FeedState, Item, utc
from .table import ItemHead
from .pgitems import HEAD_COLUMNS, PgItems, encode, head_of_row, item_row

# New rows go in by COPY, the fastest bulk path (the doc as text: the server parses it as jsonb).
_COPY_ITEMS = ("COPY items (id, seq, title, tokens, published, updated, first_seen, keys, topics, feed_urls, doc) "
               "FROM STDIN")
_ITEM_TYPES = ["text", "int8", "text", "text", "timestamptz", "timestamptz", "timestamptz", "text[]", "text[]",
               "text[]", "text"]
_UPDATE_ITEM = """
UPDATE items SET seq = %s, title = %s, tokens = %s, published = %s, updated = %s, first_seen = %s,
    keys = %s, topics = %s, feed_urls = %s, doc = %s::jsonb
WHERE id = %s AND seq = %s"""


class Conflict(Exception):
    """A row changed under this poller (only a writer that bypasses the merge lock could do it)."""


def next_seqs(conn: psycopg.Connection, n: int) -> list[int]:
    if n <= 0:
        return []
    return [r[0] for r in conn.execute("SELECT nextval('change_seq') FROM generate_series(1, %s)", (n,))]


def last_seq(conn: psycopg.Connection) -> int:
    """The highest seq committed (and visible to this transaction)."""
    return conn.execute("""SELECT greatest((SELECT max(seq) FROM items), (SELECT max(seq) FROM removed),
                                           (SELECT max(seq) FROM tombstones), 0)""").fetchone()[0]


def read_changes(conn: psycopg.Connection, since: int
                 ) -> tuple[list[tuple[ItemHead, int]], list[tuple[str, list[str], int]],
                            list[tuple[str, datetime, int]]]:
    """(heads with seqs, removed (id, keys, seq), tombstones (key, at, seq)) committed after *since*."""
    heads = [head_of_row(r) for r in conn.execute(
        f"SELECT {HEAD_COLUMNS} FROM items WHERE seq > %s ORDER BY seq", (since,))]
    removed = conn.execute("SELECT item_id, keys, seq FROM removed WHERE seq > %s ORDER BY seq",
                           (since,)).fetchall()
    tombs = conn.execute("SELECT key, at, seq FROM tombstones WHERE seq > %s", (since,)).fetchall()
    return heads, removed, tombs


def write_items(conn: psycopg.Connection, items: PgItems, changed: list[Item], deleted: list[str],
                tombstones: Mapping[str, datetime] | None, old_tombstones: Mapping[str, datetime] | None
                ) -> tuple[dict[str, int], int]:
    """Store the pending batch; ({item id: its new seq}, highest seq drawn or 0).

    Raises Conflict when an updated row is not at the seq it was read at.
    """
    new_tombs = removed_tombs = []
    if tombstones is not None and old_tombstones is not None:
        new_tombs = [(k, utc(at)) for k, at in tombstones.items() if old_tombstones.get(k) != at]
        removed_tombs = [k for k in old_tombstones if k not in tombstones]
    seqs = next_seqs(conn, len(changed) + len(deleted) + (1 if new_tombs else 0))
    top = max(seqs, default=0)
    drawn = iter(seqs)
    with conn.cursor() as cur:
        if deleted:
            gone = cur.execute("DELETE FROM items WHERE id = ANY(%s) RETURNING id, keys, topics",
                               (deleted,)).fetchall()
            if gone:
                cur.executemany("INSERT INTO removed (item_id, keys, topics, seq) VALUES (%s, %s, %s, %s)",
                                [(i, k, t, next(drawn)) for i, k, t in gone])
            # Other pollers catch up within a run (minutes): a week of removals is plenty.
            cur.execute("DELETE FROM removed WHERE at < now() - interval '7 days'")
        new_rows, updates, assigned = [], [], {}
        for item in changed:
            seq = assigned[item.id] = next(drawn)
            old = items.seq(item.id)
            row = item_row(item, seq)
            if old is None:
                new_rows.append(row)
            else:
                updates.append((*row[1:], item.id, old))
        if new_rows:
            _copy(cur, _COPY_ITEMS, _ITEM_TYPES, new_rows)
        if updates:
            cur.executemany(_UPDATE_ITEM, updates)
            if cur.rowcount != len(updates):
                raise Conflict(f"{len(updates) - cur.rowcount} of the items to update were changed "
                               "by another writer meanwhile")
            ids = [u[-2] for u in updates]
            cur.execute("DELETE FROM item_sources WHERE item_id = ANY(%s)", (ids,))
            cur.execute("DELETE FROM item_topics WHERE item_id = ANY(%s)", (ids,))
        if changed:
            _side_tables(cur, changed)
        if new_tombs:
            seq = next(drawn)
            cur.execute("""INSERT INTO tombstones (key, at, seq) SELECT k, a, %s FROM unnest(%s::text[],
                           %s::timestamptz[]) AS t(k, a) ON CONFLICT (key) DO UPDATE SET at = excluded.at,
                           seq = excluded.seq""", (seq, [k for k, _ in new_tombs], [a for _, a in new_tombs]))
        if removed_tombs:
            cur.execute("DELETE FROM tombstones WHERE key = ANY(%s)", (removed_tombs,))
    return assigned, top


def _copy(cur: psycopg.Cursor, statement: str, types: list[str], rows: Iterable[tuple]) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _side_tables(cur: psycopg.Cursor, changed: list[Item]) -> None:
    """item_keys (a key taken by another item stays with it: the first item to claim a key
    keeps it, as in dedup's own index), item_sources and item_topics of *changed*."""
    keys: list[str] = []
    key_ids: list[str] = []
    for item in changed:
        for key in item.keys:
            keys.append(key)
            key_ids.append(item.id)
    if keys:
        cur.execute("""INSERT INTO item_keys (key, item_id) SELECT * FROM unnest(%s::text[], %s::text[])
                       ON CONFLICT (key) DO NOTHING""", (keys, key_ids))
    _copy(cur, "COPY item_sources (item_id, position, feed_url, guid, link, seen) FROM STDIN",
          ["text", "int4", "text", "text", "text", "timestamptz"],
          ((item.id, n, ref.feed_url, ref.guid, ref.link, utc(ref.seen))
           for item in changed for n, ref in enumerate(item.sources)))
    _copy(cur, "COPY item_topics (topic, item_id, date) FROM STDIN", ["text", "text", "timestamptz"],
          ((topic, item.id, item.date) for item in changed for topic in dict.fromkeys(item.topics)))


def write_feeds(conn: psycopg.Connection, states: Iterable[tuple[FeedState, int]]) -> dict[str, int]:
    """Store feed states, each only if its row is still at the rev it was read at (0: no row).

    Returns {url: new rev} of those written; a state whose row another poller wrote
    meanwhile is left out (theirs is newer).
    """
    rows = [(s.url, encode(s), rev + 1) for s, rev in states]
    if not rows:
        return {}
    # A row at the rev it was read at takes rev + 1; one another poller wrote meanwhile is kept.
    written = conn.execute("""
        INSERT INTO feeds AS f (url, doc, rev)
        SELECT u, d::jsonb, r FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS t(u, d, r)
        ON CONFLICT (url) DO UPDATE SET rev = excluded.rev, doc = excluded.doc WHERE f.rev = excluded.rev - 1
        RETURNING url, rev""", ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])).fetchall()
    return dict(written)


def write_meta(conn: psycopg.Connection, values: Mapping[str, Any]) -> None:
    if values:
        conn.cursor().executemany(
            "INSERT INTO meta (key, value) VALUES (%s, %s::jsonb) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, encode(v)) for k, v in values.items()])
