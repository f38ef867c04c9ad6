"""``aggregator store migrate --to TARGET``: copy the whole store to the other backend, and prove it.

It spans two stages, which is why it lives in the pipeline: the store copies (``Backend.fill``
into a target that must be empty), the publisher proves the copy. After the copy, the
counts (items, their sources, feed states, tombstones) are read back from the target and
compared, and every output file is rendered from the source and from the target, at the
same moment, into two temporary folders: they must be byte for byte the same.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import config as configuration
from .. import publish as publisher
from ..errors import StoreError
from ..records import Config, Snapshot
from ..store import Counts, counts_of, open_store
from .flow import utcnow


@dataclass(frozen=True)
class Migrated:
    source: str
    target: str
    counts: Counts
    files: int  # output files rendered from both and found identical


def _whole(store) -> Snapshot:  # noqa: ANN001 - a store Backend
    with store.lock():
        snap = store.load()
        return Snapshot(items=dict(snap.items.items()), feeds=dict(snap.feeds), tombstones=dict(snap.tombstones),
                        meta=dict(snap.meta))


def _render(config: Config, snap: Snapshot, folder: Path, now: datetime) -> dict[str, bytes]:
    conf = configuration.replace_settings(config, output_dir=folder)
    publisher.publish(conf, snap, now=now)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def migrate_store(config: Config, target: str | Path, *, now: datetime | None = None) -> Migrated:
    """Copy the configured store into *target* (a postgresql:// URL or a new TinyDB file).

    Raises StoreError when the target is not empty, or when the copy does not hold what the
    source holds (the counts, or the bytes of any published file, differ).
    """
    now = now or utcnow()
    source = open_store(config.settings.store, lock_timeout=config.settings.lock_timeout)
    dest = open_store(target)
    if source.where == dest.where:
        raise StoreError(dest.where, "is the configured store itself; migrate to another one")
    whole = _whole(source)
    expected = counts_of(whole)
    dest.fill(whole)
    got = dest.counts()
    if got != expected:
        raise StoreError(dest.where, f"holds {got} after the copy, not {expected}")
    copy = _whole(dest)
    with tempfile.TemporaryDirectory(prefix="aggregator-migrate-") as tmp:
        before = _render(config, whole, Path(tmp) / "source", now)
        after = _render(config, copy, Path(tmp) / "target", now)
    differ = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if differ:
        raise StoreError(dest.where, f"the copy publishes {differ[0]} differently"
                                     + (f" (and {len(differ) - 1} more files)" if len(differ) > 1 else ""))
    return Migrated(source.where, dest.where, got, len(before))
