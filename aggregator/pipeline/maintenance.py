"""Maintenance over the store: retag the items, find one, count them per source, split a merge
(``unmerge``); read and reset the feed states (``feeds list``, ``feeds reset``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .. import dedup, tag
from ..fetch import schedule
from ..records import Config, FeedState, Item, Snapshot, SourceRef
from ..store import Store, open_store
from .flow import session


def retag(config: Config) -> tuple[int, int]:
    """Re-apply the topic rules to every stored item. Returns (items, items whose topics changed)."""
    with session(config) as (store, snap):
        rules = tag.Rules.compile(config.topics, config.sources)
        changed = 0
        for item_id, item in list(snap.items.items()):
            tagged = rules.tag(item)
            if tagged.topics != item.topics or tagged.reasons != item.reasons:
                changed += 1
                snap.items[item_id] = tagged
        if changed:
            store.save(snap)
    return len(snap.items), changed


def load_snapshot(config: Config) -> Snapshot:
    """The whole store as it is, read under the lock, in memory (a database store is closed after)."""
    with session(config) as (_store, snap):
        return Snapshot(items=dict(snap.items.items()), feeds=snap.feeds, tombstones=dict(snap.tombstones),
                        meta=snap.meta)


def feed_state(snap: Snapshot, key: str) -> FeedState | None:
    return snap.feeds.get(key)


def feed_states(config: Config) -> dict[str, FeedState]:
    """The feed states as last saved, without the lock (every file is whole at every instant,
    so a reader never waits for a run): ``feeds list`` shows them. Raises StoreError."""
    store = open_store(config.settings.store)
    if isinstance(store, Store):
        return store.load().feeds
    with session(config) as (_store, snap):  # a database: read while connected
        return dict(snap.feeds)


def reset_feeds(config: Config, keys: Iterable[str]) -> dict[str, FeedState | None]:
    """The operator's word: each feed of *keys* is no longer gone nor backing off, and is polled
    at the next run (``schedule.reset``; a host's Retry-After still holds). Returns key -> its
    new state (None: nothing stored). Saves the feed states only, under the run lock."""
    out: dict[str, FeedState | None] = {}
    with session(config) as (store, snap):
        for key in keys:
            state = snap.feeds.get(key)
            if state is not None:
                snap.feeds[key] = schedule.reset(state)
            out[key] = snap.feeds.get(key)
        if any(out.values()):
            store.save(snap)
    return out


def items_by_source(snap: Snapshot) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in snap.items.values():
        for ref in item.sources:
            counts[ref.feed_url] = counts.get(ref.feed_url, 0) + 1
    return counts


def find_item(snap: Snapshot, needle: str) -> Item | None:
    """An item by id, by link (as given or canonical, its present link or one it had) or by identity key."""
    if needle in snap.items:
        return snap.items[needle]
    canon = dedup.canonical_url(needle) if "://" in needle else None
    key = dedup.url_key(canon) if canon else None  # also a link the item had before (a renamed entry)
    # An item's keys are in the heads: found there, no item is decoded (a store holds 100k of them).
    for head in snap.heads().values():
        if needle in head.keys or (key is not None and key in head.keys):
            return snap.items[head.id]
    for item in snap.items.values():  # by a link that is no key of it: a report merged in, say
        if needle == item.link or (canon and canon == item.canonical_url):
            return item
        if any(needle == ref.link for ref in item.sources):
            return item
    return None


def unmerge(config: Config, item_id: str, link: str) -> tuple[Item, SourceRef]:
    """Split the report of *link* off the item *item_id* (an id, link or key), for good.

    The item loses that report's credit and keys and records them as never to be merged in
    again (``Item.apart``); it is re-tagged, as its sources changed. The report's feed is
    parsed afresh on its next poll (no validators, no known items), so the report comes back
    as an item of its own. Raises LookupError with a one-line reason.
    """
    with session(config) as (store, snap):
        item = find_item(snap, item_id)
        if item is None:
            raise LookupError(f"no stored item has the id, link or key {item_id!r}")
        split, ref = dedup.split_report(item, link)
        split = tag.Rules.compile(config.topics, config.sources).tag(split)
        snap.items[split.id] = split
        state = snap.feeds.get(ref.feed_url)
        if state is not None:
            snap.feeds[ref.feed_url] = dataclasses.replace(state, etag=None, last_modified=None, body_hash=None,
                                                           item_hashes=())
        store.save(snap)
    return split, ref


def revive(config: Config, keys: Iterable[str]) -> tuple[str, ...]:
    """Feeds added to the config again: a stored state that says gone (or backing off) is the
    old entry's, so it is reset. Returns the keys reset. Raises StoreError (e.g. StoreLocked)."""
    states = feed_states(config)
    stale = [k for k in keys if (st := states.get(k)) is not None and (st.gone or st.error_count)]
    if stale:
        reset_feeds(config, stale)
    return tuple(stale)
