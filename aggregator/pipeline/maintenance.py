"""Maintenance over the stored items: retag them, find one, count them per source."""

from __future__ import annotations

from .. import dedup, tag
from ..records import Config, FeedState, Item, Snapshot
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


def items_by_source(snap: Snapshot) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in snap.items.values():
        for ref in item.sources:
            counts[ref.feed_url] = counts.get(ref.feed_url, 0) + 1
    return counts


def find_item(snap: Snapshot, needle: str) -> Item | None:
    """An item by id, by link (as given or canonical) or by identity key."""
    if needle in snap.items:
        return snap.items[needle]
    canon = dedup.canonical_url(needle) if "://" in needle else None
    for item in snap.items.values():
        if needle == item.link or (canon and canon == item.canonical_url) or needle in item.keys:
            return item
        if any(needle == ref.link for ref in item.sources):
            return item
    return None
