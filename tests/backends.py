"""Reading a store of either backend back in tests: ``stored(location)``."""

from __future__ import annotations

from pathlib import Path

from aggregator.records import Snapshot
from aggregator.store import open_store


def stored(location: str | Path) -> Snapshot:
    """Everything the store at *location* (a TinyDB file or a postgresql:// URL) holds, in memory."""
    store = open_store(location)
    with store.lock():
        snap = store.load()
        return Snapshot(items=dict(snap.items.items()), feeds=dict(snap.feeds),
                        tombstones=dict(snap.tombstones), meta=dict(snap.meta))
