"""The store: TinyDB JSON files, each written at most once per run, under a file lock.

``<store>`` holds the items and tombstones (big: 200 MB at 58,000 items), the journal
``<store>.journal.json`` the items changed since, the sidecar ``<store>.feeds.json`` the
feed states (small). ``load()`` reads the feeds file and returns a :class:`Snapshot`
whose items are read on first access, so a poll where every feed answered 304 never
reads nor writes the items file. Even then, only the items file's header is read (the
heads index: every item's keys, dates, topics, sources and where its line is, see
:mod:`.lines`); an item's line is read when the item is used. ``save()`` writes what
changed to the journal, or (past a share of the items) the items file whole, copying
the untouched lines as they were; then the feeds file.

TinyDB rewrites its whole file on every write and its default storage re-reads it on
every query (57 ms per insert at 3,750 items), so each file is treated as a snapshot,
written in one go — to a temp file, fsynced, the old file linked to ``<file>.bak``,
then ``os.replace``. At every instant each path holds a complete file, old or new (a
run reading an item line still reads the file it opened). A file that does not load
is never overwritten. Checking and restoring the files is in :mod:`.check`.

The files' format (tables, schema versions, migration, the record codec) is in
:mod:`.format`; this module does the file I/O and holds the lock.
"""

from __future__ import annotations

import mmap
import os
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, MutableMapping, Sequence, TypeVar

import filelock

from .. import atomicfile, errors, gcpolicy
from ..records import Item, Settings, Snapshot, utc
from . import check as checking
from .files import StoreFiles, _dumps, _snapshot_of_feeds, atomic_write, read_file
from .format import (
    NotAStore, decode_feeds, decode_items, decode_snapshot,
    encode_feeds, encode_items,
)
from .lines import ItemTable, looks_whole, write_lines
from .protocol import NO_CHANGES, Changes, Counts, counts_of
from .reader import read_items
from .retention import apply_prune

T = TypeVar("T")
# Above this share of the items in the journal, a save rewrites the items file instead.
JOURNAL_SHARE = 0.125


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """The items file at *path*, the feeds file ``feeds_path(path)``, each with its ``.bak``,
    and the lock ``<path>.lock``."""

    def __init__(self, path: str | Path, lock_timeout: float = 0.0, *,
                 clock: Callable[[], datetime] = _utcnow):
        self.files = StoreFiles.at(path)
        self.path, self.backup = self.files.path, self.files.backup
        self.feeds_path, self.feeds_backup = self.files.feeds_path, self.files.feeds_backup
        self.journal, self.journal_backup = self.files.journal, self.files.journal_backup
        self._generation: str | None = None  # of the items file read: the journal must name it
        self._rewrite = False  # the items file was read whole (another layout): write it anew at the save
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._filelock: filelock.FileLock | None = None  # one per Store: re-entrant
        self._read_ok: set[Path] = set()  # files this Store read whole, or found missing: safe to replace
        self._unreadable: errors.StoreError | None = None  # why nothing must be saved

    # -- lock

    @contextmanager
    def lock(self) -> Iterator[Store]:
        """Hold ``<path>.lock`` for the block; wait up to lock_timeout, then StoreLocked."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise errors.StoreError(self.path, f"cannot create its folder: {exc.strerror}") from exc
        if self._filelock is None:
            self._filelock = filelock.FileLock(str(self.lock_path))
        try:
            self._filelock.acquire(timeout=max(self.lock_timeout, 0.0), poll_interval=0.05)
        except filelock.Timeout:
            raise errors.StoreLocked(self.path, self.lock_timeout) from None
        except OSError as exc:
            raise errors.StoreError(self.lock_path, f"cannot lock: {exc.strerror}") from exc
        try:
            self._remove_stale_temps()
            yield self
        finally:
            self._filelock.release()

    def _remove_stale_temps(self) -> None:
        """Temp files of a run killed mid-save (we hold the lock: no one else is writing)."""
        for path in (self.path, self.feeds_path, self.journal):
            for stale in path.parent.glob(atomicfile.temp_prefix(path) + "*.tmp*"):
                try:
                    stale.unlink()
                except OSError:
                    pass

    # -- load and save

    def load(self) -> Snapshot:
        """The feed states now; the items and tombstones at first access (empty: no store yet).

        Raises StoreCorrupt or StoreError: for the feeds file here, for the items file at the
        first access of ``snap.items`` or ``snap.tombstones`` (the run then ends before it
        saves anything: this Store refuses to save after that). Without a feeds file (a
        schema 1-2 store, or none yet) the items file is read whole here, feeds included;
        the next save writes both files.
        """
        self._read_ok.clear()
        snap = self._open(self.feeds_path, self.feeds_backup, _snapshot_of_feeds)
        if snap is None:  # a new store (its items kept as a table: see ItemTable.HOT), or schema 1-2
            snap = self._open(self.path, self.backup, decode_snapshot) or Snapshot(items=ItemTable())
            self._read_ok.add(self.path)
        else:
            snap = Snapshot(feeds=snap.feeds, meta=snap.meta, lazy=self._load_items)
        self._read_ok.add(self.feeds_path)
        self._unreadable = None
        return snap

    def _load_items(self) -> tuple[MutableMapping[str, Item], dict[str, datetime]]:
        """The lazy half of ``load()``: the items file, its items decoded at first access."""
        try:
            decoded = self._read_items()
        except NotAStore as exc:
            self._unreadable = errors.StoreCorrupt(self.path, str(exc), self.backup if self.backup.exists() else None)
            raise self._unreadable from None
        except errors.StoreError as exc:
            self._unreadable = exc
            raise
        if decoded is None:  # a feeds file is only ever written after its items file
            backup = self.backup if self.backup.exists() else None
            hint = None if backup else f"no backup exists (delete {self.feeds_path.name} to start over)"
            self._unreadable = errors.StoreCorrupt(
                self.path, f"missing, but its feeds file {self.feeds_path.name} exists", backup, hint)
            raise self._unreadable
        self._read_ok.add(self.path)
        return decoded

    def verify(self, snapshot: Snapshot) -> None:
        """Check cheaply that the items of *snapshot* (loaded by this Store, not yet read) would
        load: the items file's and the journal's header lines and heads index (``lines.looks_whole``),
        never their item lines. A file that does not pass, or is in an older layout, is read
        whole through ``snapshot.items``: that loads it, or raises StoreCorrupt as a run that
        reads the items would. Every run calls this, so a broken store is never silent.
        """
        if snapshot.items_loaded:
            return
        try:
            whole = all(self._looks_whole(path) for path in (self.path, self.journal))
        except NotAStore as exc:
            self._unreadable = errors.StoreCorrupt(self.path, str(exc), self.backup if self.backup.exists() else None)
            raise self._unreadable from None
        if not whole:
            snapshot.items  # noqa: B018 - the authoritative read: loads, or raises StoreCorrupt

    def _looks_whole(self, path: Path) -> bool:
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0:
                    return False
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return looks_whole(data)
        except FileNotFoundError:  # no journal is fine; no items file is judged by the full read
            return path != self.path
        except (OSError, ValueError):
            return False

    def _damaged(self, message: str) -> errors.StoreCorrupt:
        """An item that does not decode, met after the load: nothing may be saved now."""
        self._unreadable = errors.StoreCorrupt(self.path, message, self.backup if self.backup.exists() else None)
        return self._unreadable

    def _damaged_journal(self, message: str) -> errors.StoreCorrupt:
        backup = self.journal_backup if self.journal_backup.exists() else None
        self._unreadable = errors.StoreCorrupt(self.journal, message, backup)
        return self._unreadable

    def _read_items(self) -> tuple[MutableMapping[str, Item], dict[str, datetime]] | None:
        """(items, tombstones), read by :func:`.reader.read_items`; None if there is no file."""
        self._generation, self._rewrite = None, False
        found = read_items(self.path, self.journal, self._damaged, self._damaged_journal)
        if found is None:
            return None
        if found.journal_read:
            self._read_ok.add(self.journal)
        self._generation, self._rewrite = found.generation, found.rewrite
        return found.items, found.tombstones

    def _open(self, path: Path, backup: Path, decode: Callable[[Any], T]) -> T | None:
        """``read_file``, its failure kept in ``_unreadable`` and raised as StoreCorrupt/StoreError."""
        try:
            return read_file(path, decode)
        except NotAStore as exc:
            self._unreadable = errors.StoreCorrupt(path, str(exc), backup if backup.exists() else None)
        except errors.StoreError as exc:
            self._unreadable = exc
        raise self._unreadable

    def save(self, snapshot: Snapshot) -> None:
        """Write *snapshot*: its items file if the items were read or assigned, then its feeds file.

        Each write is atomic and keeps the file it replaces as ``.bak``. Refuses
        (StoreCorrupt) to replace a file that does not load. Raises StoreError (disk full,
        read-only folder…) with that file untouched.

        The items go first, on purpose. Killed between the two writes, the store holds
        the new items with the old feed states: the next run re-fetches and re-parses
        those feeds, and dedup finds their items already stored, unchanged. The reverse
        order could leave feed states (ETags, body and item hashes) that mark entries as
        seen whose items were never saved: they would not be added again, ever.
        """
        if self._unreadable is not None:
            raise self._unreadable
        write_items = snapshot.items_loaded
        files = [(self.path, self.backup, decode_items), (self.journal, self.journal_backup, decode_items)
                 ] if write_items else []
        files.append((self.feeds_path, self.feeds_backup, decode_feeds))
        for path, backup, decoder in files:  # both checked before either is written
            if path not in self._read_ok and path.exists():
                self._open(path, backup, decoder)  # never replace a file nobody has read: it might not load
                self._read_ok.add(path)
        now = self._clock()
        if write_items:
            self._write_items(snapshot, now)
        self._write(self.feeds_path, self.feeds_backup, encode_feeds(snapshot, now), like=self.path)

    def _write(self, path: Path, backup: Path, data: Mapping[str, Any], like: Path | None = None) -> None:
        self._stream(path, backup, lambda: _dumps(data), like=like)  # the whole file, one write

    def _write_items(self, snapshot: Snapshot, now: datetime) -> None:
        """The items that changed since the items file was written go to the journal, a small
        file; once they are more than JOURNAL_SHARE of them, the items file is rewritten
        (unchanged items as the bytes they were read from) and the journal removed.
        Either write is atomic; a journal names the items file it completes."""
        items = snapshot.items
        table = items if isinstance(items, ItemTable) else ItemTable(items)
        meta = encode_items(Snapshot(meta=snapshot.meta), now)["meta"]["1"]
        tombstones = {k: utc(at) for k, at in snapshot.tombstones.items()}
        # A journal only completes the items file its table was read from.
        if (self._generation is not None and table.generation == self._generation and not self._rewrite
                and table.journal_share() <= JOURNAL_SHARE):
            meta.update(base=self._generation, deleted=table.deleted())
            self._stream(self.journal, self.journal_backup,
                         lambda: write_lines(meta, tombstones, table, _dumps, ids=table.recent()))
            return
        meta["generation"] = uuid.uuid4().hex
        self._stream(self.path, self.backup, lambda: write_lines(meta, tombstones, table, _dumps))
        self._generation = table.generation = meta["generation"]
        self._rewrite = False
        table.rebase()
        for stale in (self.journal, self.journal_backup):  # all in the items file now
            try:
                stale.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # harmless (it names the old items file), but say so
                raise errors.StoreError(stale, f"could not remove the old journal ({exc.strerror})") from exc

    def _stream(self, path: Path, backup: Path, payload: Callable[[], bytes | Iterator[bytes | memoryview]],
                like: Path | None = None) -> None:
        """Write *payload()* (bytes, or chunks) to *path* atomically; failures as StoreError."""
        try:
            with gcpolicy.paused():
                atomic_write(path, payload(), backup=backup, like=like)
        except OSError as exc:
            raise errors.StoreError(path, f"could not save ({exc.strerror or exc}); "
                                          "the previous file is unchanged") from exc
        except TypeError as exc:  # orjson.JSONEncodeError
            raise errors.StoreError(path, f"could not save: {exc}") from exc
        self._read_ok.add(path)

    @staticmethod
    def prune(snapshot: Snapshot, now: datetime, settings: Settings, keep: set[str]) -> int:
        """Apply retention to *snapshot* in place (see ``retention``); returns items pruned."""
        return apply_prune(snapshot, now, settings, keep)

    # -- the rest of the Backend protocol (protocol.py): one run holds the whole store

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def exclusive(self) -> bool:
        return True  # the lock keeps any other run out

    def claim(self, snapshot: Snapshot, key: str) -> bool:
        """Always: the lock keeps any other run out of this store."""
        return True

    @contextmanager
    def transaction(self, snapshot: Snapshot, feeds: Sequence[str] = ()) -> Iterator[Changes]:
        """Nobody else writes this store during a run: no changes to catch up with, and what
        the block changes stays in the snapshot until ``save`` writes it all at once."""
        yield NO_CHANGES

    @contextmanager
    def publishing(self, snapshot: Snapshot, output_dir: Path) -> Iterator[bool]:
        """The run lock already keeps other publishers out; no one else changed the store."""
        yield False

    def fill(self, snapshot: Snapshot) -> None:
        """Write *snapshot* as a new store (``store migrate``); refuses to replace one."""
        with self.lock():
            if self.path.exists() or self.feeds_path.exists():
                raise errors.StoreError(self.path, "already exists; migrate only into a new store "
                                                   "(move this one away first)")
            self.load()
            self.save(Snapshot(items=dict(snapshot.items.items()), feeds=dict(snapshot.feeds),
                               tombstones=dict(snapshot.tombstones), meta=dict(snapshot.meta)))

    def counts(self) -> Counts:
        with self.lock():
            return counts_of(self.load())

    # -- maintenance (in .check)

    def check(self, strict: bool = False) -> str:
        """A one-line verdict on both files (and on the backup of one that does not load).

        *strict*: a store that does not load raises instead, with the verdict as its
        message: StoreCorrupt (exit 3), or StoreError if a file cannot be read at all.
        A missing store is not an error: the first run creates it.
        """
        return checking.check(self.files, strict)

    def restore(self, now: datetime | None = None) -> str:
        """Replace each file that does not load (or is missing) with its ``.bak``, once the
        backups are checked; an unreadable file is kept as ``<file>.corrupt-<UTC time>``."""
        with self.lock():
            result = checking.restore(self.files, now or self._clock())
        self._read_ok.clear()
        self._unreadable = None
        return result
