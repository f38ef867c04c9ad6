"""``store check`` and ``store migrate`` on the PostgreSQL store: count, verify, fill an empty one."""

from __future__ import annotations

import psycopg

from .. import errors
from ..records import Snapshot
from . import pgschema, pgwrite
from .pgitems import BATCH, PgItems, decode_feed, decode_item
from .protocol import Counts


def counts(conn: psycopg.Connection) -> Counts:
    row = conn.execute("""SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM item_sources),
                                 (SELECT count(*) FROM feeds), (SELECT count(*) FROM tombstones)""").fetchone()
    return Counts(*row)


def fill(conn: psycopg.Connection, snapshot: Snapshot, where: str) -> None:
    """Write *snapshot* whole, in one transaction, into a store that holds nothing yet."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (pgschema.NAMESPACE, pgschema.MERGE))
        held = counts(conn)
        if held.items or held.feeds or held.tombstones:
            raise errors.StoreError(where, f"already holds {held}; migrate only into an empty store")
        items = PgItems({}, {}, lambda ids: {})
        for item in snapshot.items.values():
            items[item.id] = item
        changed, _ = items.pending()
        pgwrite.write_items(conn, items, changed, [], dict(snapshot.tombstones), {})
        pgwrite.write_feeds(conn, [(state, 0) for state in snapshot.feeds.values()])
        meta = {k: v for k, v in snapshot.meta.items() if k == "item_counts"}
        pgwrite.write_meta(conn, meta)


def check(conn: psycopg.Connection, where: str, strict: bool) -> str:
    """Whether every feeds and items row decodes: a one-line verdict."""
    problems = []
    for url, doc in conn.execute("SELECT url, doc::text FROM feeds"):
        try:
            decode_feed(doc)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            problems.append(f"feeds row {url}: {exc}")
    with conn.transaction(), conn.cursor(name="check") as cur:
        cur.execute("SELECT id, doc::text FROM items ORDER BY pos")
        while rows := cur.fetchmany(BATCH):
            for item_id, doc in rows:
                try:
                    if decode_item(doc).id != item_id:
                        problems.append(f"items row {item_id}: its document names another id")
                except (TypeError, ValueError, KeyError, AttributeError) as exc:
                    problems.append(f"items row {item_id}: {exc}")
    version = pgschema.version_of(conn.execute)
    if problems:
        verdict = f"DOES NOT LOAD: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        if strict:
            raise errors.StoreCorrupt(where, verdict, hint="fix or delete those rows, or restore a backup")
        return f"{where}: {verdict}"
    held = counts(conn)
    return (f"{where}: ok, schema {version} (PostgreSQL), {held.items} items ({held.sources} sources), "
            f"{held.feeds} feeds, {held.tombstones} tombstones")
