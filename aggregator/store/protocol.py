"""What the pipeline needs from a store: the :class:`Backend` protocol, and the two that implement it.

Two backends keep the same records (``records.Snapshot``: items, feed states, tombstones):

* :class:`~.store.Store` (TinyDB, the default): two files on one disk, read once and
  written once per run under a file lock. Nothing is written before ``save``.
* :class:`~.postgres.PgStore` (``settings.store: postgresql://…``): tables in a
  PostgreSQL database that several pollers share. Each feed's results are committed in
  one transaction as soon as the feed is merged.

A run, as ``pipeline.flow`` drives it (every method is called in this order or not at all)::

    with store.lock():                        # TinyDB: the run lock; PostgreSQL: the connection
        snap = store.load()                   # feed states now, items on first access
        for each due feed, right before its request:
            if store.claim(snap, key): poll it    # else another poller has it
        for each polled feed, in config order:
            with store.transaction(snap, feeds=[key]) as changes:
                index.refresh(changes)        # what other pollers committed meanwhile
                ...merge the feed into snap...
        with store.transaction(snap):         # retention: store.prune(snap, now, settings, keep)
            store.prune(...)
        store.save(snap)                      # whatever is not stored yet
        with store.publishing(snap, output_dir) as stale:
            ...publish (every topic if stale)...

The contract each backend keeps:

* ``transaction`` yields the :class:`Changes` other writers committed since this
  snapshot last caught up, already applied to ``snap.items`` and ``snap.tombstones``
  (TinyDB: never any). Whatever the block changed in the snapshot (items set or deleted,
  tombstones, the named feeds' states) is stored when the block ends: all of it or
  nothing (PostgreSQL: one transaction), or buffered until ``save`` (TinyDB).
* ``save`` stores everything not stored yet, all of it or nothing.
* ``claim`` says no for a feed that another poller is polling, or polled since
  ``load``; TinyDB always says yes (its lock already keeps other runs out). A claim
  lasts until the run ends.
* ``publishing`` holds a lock so that only one process writes an output folder at a time,
  and says whether other writers changed the store since that folder was last published.

Keep it narrow: each backend is optimised on its own, behind these methods.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Protocol, Sequence, runtime_checkable

from ..records import Settings, Snapshot


@dataclass(frozen=True)
class Changes:
    """What other writers committed since the snapshot last caught up (already applied to it)."""

    changed: tuple[str, ...] = ()  # ids of items added or updated elsewhere
    removed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> its identity keys

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


NO_CHANGES = Changes()


@dataclass(frozen=True)
class Counts:
    """What a store holds, as ``store migrate`` compares them."""

    items: int
    sources: int  # SourceRefs over all items
    feeds: int
    tombstones: int

    def __str__(self) -> str:
        return (f"{self.items} items ({self.sources} sources), {self.feeds} feed states, "
                f"{self.tombstones} tombstones")


def counts_of(snapshot: Snapshot) -> Counts:
    """Count what *snapshot* holds (decodes every item)."""
    return Counts(len(snapshot.items), sum(len(i.sources) for i in snapshot.items.values()),
                  len(snapshot.feeds), len(snapshot.tombstones))


@runtime_checkable
class Backend(Protocol):
    """A store the pipeline can run on; see the module docstring for the order of calls."""

    @property
    def where(self) -> str:
        """The store as messages name it: its items file, or its URL without a password."""

    def lock(self) -> AbstractContextManager[Backend]:
        """Open the store for a run (TinyDB: its file lock; raises StoreLocked)."""

    def load(self) -> Snapshot:
        """The feed states now; the items and tombstones at their first access."""

    @property
    def exclusive(self) -> bool:
        """True when a run holds the whole store (TinyDB's lock): ``claim`` always says yes,
        so a poll need not ask it before each request (and may send them from another process)."""

    def claim(self, snapshot: Snapshot, key: str) -> bool:
        """Whether this run may poll the due feed *key* now (if not, its state in *snapshot* is refreshed)."""

    def transaction(self, snapshot: Snapshot, feeds: Sequence[str] = ()) -> AbstractContextManager[Changes]:
        """Catch up with other writers, then store what the block changes, atomically."""

    def prune(self, snapshot: Snapshot, now: datetime, settings: Settings, keep: set[str]) -> int:
        """Apply retention to *snapshot* (call it inside ``transaction``); items pruned."""

    def save(self, snapshot: Snapshot) -> None:
        """Store whatever *snapshot* holds that is not stored yet."""

    def verify(self, snapshot: Snapshot) -> None:
        """Check cheaply that the items of *snapshot*, if not read yet, would load; raise
        StoreCorrupt otherwise. Every run calls it, so a broken store is never silent."""

    def publishing(self, snapshot: Snapshot, output_dir: Path) -> AbstractContextManager[bool]:
        """Hold the publish lock; yields True when other writers' changes may be unpublished there."""

    def fill(self, snapshot: Snapshot) -> None:
        """Write a whole snapshot into this store, which must be empty (``store migrate``)."""

    def counts(self) -> Counts:
        """Count what the store holds now."""

    def check(self, strict: bool = False) -> str:
        """A one-line verdict on the store; *strict*: raise StoreCorrupt/StoreError when it does not load."""

    def restore(self, now: datetime | None = None) -> str:
        """Recover a store that does not load (TinyDB: from its backups)."""
