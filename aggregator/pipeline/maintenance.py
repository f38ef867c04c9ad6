"""Maintenance over the stored items: retag them, find one, count them per source, split a merge."""

from __future__ import annotations

import dataclasses

from .. import dedup, tag
from ..records import Config, FeedState, Item, Snapshot, SourceRef
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
    """The store as it is, read under the lock (for stats and explain)."""
    with session(config) as (_store, snap):
        return snap


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
