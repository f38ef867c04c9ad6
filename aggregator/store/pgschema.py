"""The PostgreSQL store's schema: tables, indexes, and the migrations that build them, in order.

Every migration runs in its own transaction at start-up, under an advisory lock (two
pollers starting at once do not both migrate); ``meta.schema_version`` says how many
have run. A database written by a newer aggregator (a higher version) is refused.

Tables (one row per record; ``doc`` is the record as the TinyDB store writes it, JSON)::

    meta          key -> value (jsonb): schema_version, title_tokens, item_counts,
                  published:<host>:<output folder> (the last change published there)
    items         id, pos (order of arrival, kept on update), seq (last change), the head
                  columns (title, tokens, dates, keys, topics, feed_urls: what a run reads of
                  every item without decoding it), doc (the whole Item)
    item_keys     identity key -> item id: UNIQUE, so that no key ever names two items
    item_sources  the SourceRefs of each item (feed_url indexed: items per source)
    item_topics   (topic, date, item_id): the per-topic publish order, for SQL readers
    tombstones    key -> pruned at, with the seq of that change
    removed       items pruned, with their keys, topics and seq, for other pollers to catch up
    feeds         url -> FeedState doc, rev (bumped by every write: a claim sees another
                  poller's)

``seq`` comes from one sequence, drawn only under the merge lock (see ``postgres``), so
its order is the commit order: a poller catches up by reading the rows above the last
seq it saw.
"""

from __future__ import annotations

from typing import Any, Callable

import psycopg

from ..dedup import TOKENS_VERSION

SCHEMA_VERSION = 1

# Advisory locks: (NAMESPACE, n) two-key locks; a feed's claim is a one-key lock (never the same).
NAMESPACE = 0x61676772  # "aggr"
MERGE, PUBLISH, MIGRATE = 1, 2, 3

_V1 = """
CREATE TABLE meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE SEQUENCE change_seq;
CREATE SEQUENCE item_pos;
CREATE TABLE items (
    id text PRIMARY KEY,
    pos bigint NOT NULL DEFAULT nextval('item_pos'),
    seq bigint NOT NULL,
    title text NOT NULL,
    tokens text NOT NULL,
    published timestamptz,
    updated timestamptz,
    first_seen timestamptz,
    date timestamptz GENERATED ALWAYS AS (coalesce(published, updated, first_seen)) STORED,
    keys text[] NOT NULL,
    topics text[] NOT NULL,
    feed_urls text[] NOT NULL,
    doc jsonb NOT NULL
);
CREATE UNIQUE INDEX items_seq ON items (seq);
CREATE INDEX items_pos ON items (pos);
CREATE INDEX items_date ON items (date);
CREATE TABLE item_keys (
    key text PRIMARY KEY,
    item_id text NOT NULL REFERENCES items (id) ON DELETE CASCADE
);
CREATE INDEX item_keys_item ON item_keys (item_id);
CREATE TABLE item_sources (
    item_id text NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    position integer NOT NULL,
    feed_url text NOT NULL,
    guid text,
    link text,
    seen timestamptz,
    PRIMARY KEY (item_id, position)
);
CREATE INDEX item_sources_feed ON item_sources (feed_url);
CREATE TABLE item_topics (
    topic text NOT NULL,
    item_id text NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    date timestamptz,
    PRIMARY KEY (topic, item_id)
);
CREATE INDEX item_topics_date ON item_topics (topic, date DESC);
CREATE INDEX item_topics_item ON item_topics (item_id);
CREATE TABLE tombstones (key text PRIMARY KEY, at timestamptz NOT NULL, seq bigint NOT NULL);
CREATE INDEX tombstones_seq ON tombstones (seq);
CREATE TABLE removed (
    item_id text NOT NULL,
    keys text[] NOT NULL,
    topics text[] NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX removed_seq ON removed (seq);
CREATE TABLE feeds (url text PRIMARY KEY, rev bigint NOT NULL, doc jsonb NOT NULL);
"""

# Each entry takes the schema from its index to the next; append, never edit one that shipped.
MIGRATIONS: list[str] = [_V1]


class NewerSchema(Exception):
    """The database was written by a newer aggregator."""


def version_of(execute: Callable[..., Any]) -> int:
    """The schema version of the database (0: no tables yet)."""
    exists = execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def pending(version: int) -> list[tuple[int, str]]:
    """(version reached, SQL) of each migration still to run after *version*, in order."""
    if version > SCHEMA_VERSION:
        raise NewerSchema(f"written by a newer aggregator (schema {version}; this one reads up to "
                          f"{SCHEMA_VERSION})")
    return [(n + 1, MIGRATIONS[n]) for n in range(version, SCHEMA_VERSION)]


def bring_up_to_date(conn: psycopg.Connection) -> None:
    """Run the pending migrations, each in its own transaction, under the migrate lock; then
    recompute the title tokens if they are of another version. Raises NewerSchema."""
    from . import pgwrite
    from .table import tokens_of

    conn.execute("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, MIGRATE))
    try:
        todo = pending(version_of(conn.execute))
        for version, sql in todo:
            with conn.transaction():
                conn.execute(sql)
                pgwrite.write_meta(conn, {"schema_version": version})
        if todo:
            _fast_compression(conn)
        row = conn.execute("SELECT value FROM meta WHERE key = 'title_tokens'").fetchone()
        if row is None or row[0] != TOKENS_VERSION:  # another version (or none yet): recompute, once
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (NAMESPACE, MERGE))
                rows = conn.execute("SELECT id, title FROM items").fetchall()
                if rows:
                    conn.cursor().executemany("UPDATE items SET tokens = %s WHERE id = %s",
                                              [(tokens_of(title), i) for i, title in rows])
                pgwrite.write_meta(conn, {"title_tokens": TOKENS_VERSION})
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, MIGRATE))


def _fast_compression(conn: psycopg.Connection) -> None:
    """Item documents (2 KB and more) are compressed with lz4, not pglz: half the time of a
    feed's COPY, measured. Servers built without lz4 (or before PostgreSQL 14) keep pglz."""
    try:
        with conn.transaction():
            conn.execute("ALTER TABLE items ALTER COLUMN doc SET COMPRESSION lz4")
    except psycopg.Error:
        pass
