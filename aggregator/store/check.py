"""``aggregator store check`` and ``store restore``: both store files, each with its ``.bak``.

A verdict or an error names the file at fault: the items file (``<store>``) or the
feeds file (``<store>.feeds.json``). Restoring the items file from its backup also
clears the feeds' caching validators (ETag, Last-Modified, body and item hashes):
the restored items are older than the feed states, which would otherwise mark the
entries of the lost save as seen, and they would never be added again.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import errors
from ..records import Snapshot
from ..atomicfile import copy_synced
from .files import OrjsonStorage, StoreFiles, _snapshot_of_feeds, atomic_write, read_file
from .format import SCHEMA_VERSION, NotAStore, decode_feeds, decode_snapshot, encode_feeds
from .lines import misplaced


@dataclass(frozen=True)
class FileState:
    """One store file as found on disk."""

    path: Path
    backup: Path
    kind: str  # "items" | "journal" | "feeds"
    snap: Snapshot | None = None  # what it holds; None: missing or does not load
    error: NotAStore | errors.StoreError | None = None

    @property
    def missing(self) -> bool:
        return self.snap is None and self.error is None

    def decode(self) -> Callable[[object], Snapshot]:
        return _snapshot_of_feeds if self.kind == "feeds" else decode_snapshot


def inspect(path: Path, backup: Path, kind: str) -> FileState:
    state = FileState(path, backup, kind)
    try:
        snap = read_file(path, state.decode())
        # A file that parses but whose heads index misplaces a line fails every run that
        # reads that item: it does not load, and ``store restore`` replaces it.
        why = misplaced(path, kind) if kind != "feeds" and snap is not None else None
        if why is not None:
            raise NotAStore(why)
        return dataclasses.replace(state, snap=snap)
    except (NotAStore, errors.StoreError) as exc:
        return dataclasses.replace(state, error=exc)


def _files(store: StoreFiles) -> tuple[FileState, FileState, FileState]:
    items = inspect(store.path, store.backup, "items")
    feeds = inspect(store.feeds_path, store.feeds_backup, "feeds")
    journal = inspect(store.journal, store.journal_backup, "journal")
    if items.missing and not feeds.missing:  # a feeds file is only ever written after its items file
        items = dataclasses.replace(items, error=NotAStore(f"missing, but its feeds file {feeds.path.name} exists"))
    return items, feeds, journal


def _with_journal(items: Snapshot, journal: FileState) -> tuple[Snapshot, str]:
    """The items file's snapshot brought up to date by its journal, and a word on the journal."""
    snap = journal.snap
    if snap is None:
        return items, ""
    if not items.meta.get("generation") or snap.meta.get("base") != items.meta.get("generation"):
        return items, f"; {journal.path.name} ignored (written for an older items file)"
    deleted = set(snap.meta.get("deleted") or ())
    merged = {k: v for k, v in items.items.items() if k not in deleted}
    merged.update(snap.items)
    return (Snapshot(items=merged, feeds=items.feeds, tombstones=snap.tombstones, meta=items.meta),
            f"; {len(snap.items)} items changed since in {journal.path.name}")


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, errors.StoreError) else str(exc)


def describe(snap: Snapshot, kind: str = "both") -> str:
    """A few words on what *snap* holds (the parts a file of *kind* holds)."""
    parts = [f"schema {snap.meta.get('schema_version', SCHEMA_VERSION)}"]
    if kind != "feeds":
        parts.append(f"{len(snap.items)} items")
    if kind != "items" or snap.feeds:  # a schema 1-2 items file holds the feeds too
        parts.append(f"{len(snap.feeds)} feeds")
    if kind != "feeds":
        parts.append(f"{len(snap.tombstones)} tombstones")
    if saved := snap.meta.get("saved_at"):
        parts.append(f"saved {saved}")
    return ", ".join(parts)


def _backup_verdict(state: FileState) -> tuple[bool, str]:
    """(whether the backup loads, a few words on it)."""
    if not state.backup.exists():
        return False, "no backup"
    try:
        snap = read_file(state.backup, state.decode())
    except (NotAStore, errors.StoreError) as exc:
        return False, f"backup {state.backup.name} does not load either: {_reason(exc)}"
    return True, f"backup {state.backup.name} ok, {describe(snap, state.kind)}"


def check(store: StoreFiles, strict: bool = False) -> str:
    """See ``Store.check``."""
    items, feeds, journal = _files(store)
    if items.missing and feeds.missing:
        return f"{store.path}: no store yet (the first run creates it); {_backup_verdict(items)[1]}"
    bad = [s for s in (items, journal, feeds) if s.error is not None]
    if not bad:
        whole, journal_note = _with_journal(items.snap, journal)
        if feeds.snap is not None:
            whole = Snapshot(items=whole.items, feeds=feeds.snap.feeds, tombstones=whole.tombstones,
                             meta=whole.meta)
        verdict = f"{store.path}: ok, {describe(whole)}"
        if feeds.snap is not None:
            verdict += f"; feed states in {feeds.path.name}"
        verdict += journal_note
        old = [s.snap.meta["migrated_from"] for s in (items, feeds) if s.snap and s.snap.meta.get("migrated_from")]
        if old:
            verdict += f" (schema {min(old)} on disk, migrated on the next save)"
        return verdict
    verdicts = [(s, f"DOES NOT LOAD: {_reason(s.error)}", *_backup_verdict(s)) for s in bad]
    if not strict:
        return "; ".join(f"{s.path}: {v}; {b}" for s, v, _ok, b in verdicts)
    # The first bad file is the one the error is about; the other's verdict, if any, follows.
    (first, verdict, backup_ok, backup), *others = verdicts
    rest = "".join(f"; {s.path}: {v}; {b}" for s, v, _ok, b in others)
    if isinstance(first.error, errors.StoreError):
        raise errors.StoreError(first.path, f"{verdict}; {backup}{rest}") from None
    if backup_ok:  # StoreCorrupt adds "the last good copy is …" (or "no backup exists")
        raise errors.StoreCorrupt(first.path, f"{verdict}; {backup}{rest}", first.backup) from None
    if not first.backup.exists():
        raise errors.StoreCorrupt(first.path, f"{verdict}{rest}") from None
    raise errors.StoreCorrupt(first.path, f"{verdict}{rest}", hint=backup) from None


def restore(store: StoreFiles, now: datetime) -> str:
    """See ``Store.restore`` (which holds the lock). Checks every file to restore and its
    backup before changing any."""
    items, feeds, journal = _files(store)
    for state in (items, journal, feeds):
        if isinstance(state.error, errors.StoreError):  # cannot even be read: not ours to replace
            raise state.error
    todo = [s for s in (items, journal, feeds)
            if s.error is not None or (s.missing and (s.kind == "items" or s.kind == "feeds" and s.backup.exists()))]
    if not todo:
        raise errors.StoreError(store.path, f"loads fine ({describe(_whole(items, feeds))}); "
                                            "nothing to restore")
    good: dict[Path, Snapshot] = {}
    for state in todo:
        if not state.backup.exists():
            raise errors.StoreError(state.path, f"no backup {state.backup} to restore from")
        try:
            good[state.path] = read_file(state.backup, state.decode())
        except NotAStore as exc:
            raise errors.StoreError(state.backup, f"the backup does not load either: {exc}; "
                                                  "nothing restored") from None
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    done = []
    for state in todo:
        kept = state.path.with_name(f"{state.path.name}.corrupt-{stamp}")
        _replace(state, kept)
        was = f"; the unreadable file is kept as {kept.name}" if kept.exists() else ""
        done.append(f"restored {state.path} from {state.backup.name} "
                    f"({describe(good[state.path], state.kind)}){was}")
    if (items in todo or journal in todo) and store.feeds_path.exists():
        done.append(_forget_validators(store))
    return "; ".join(done)


def _whole(items: FileState, feeds: FileState) -> Snapshot:
    snap = items.snap or Snapshot()
    return snap if feeds.snap is None else Snapshot(items=snap.items, feeds=feeds.snap.feeds,
                                                    tombstones=snap.tombstones, meta=snap.meta)


def _replace(state: FileState, kept: Path) -> None:
    """*state*'s file replaced by its backup, the file it was kept as *kept*."""
    try:
        if state.path.exists():
            try:
                os.link(state.path, kept)
            except OSError:
                copy_synced(state.path, kept)
        atomic_write(state.path, state.backup.read_bytes())
    except OSError as exc:
        raise errors.StoreError(state.path, f"could not restore: {exc.strerror or exc}") from exc


_VALIDATORS = dict(etag=None, last_modified=None, body_hash=None, item_hashes=())


def _forget_validators(store: StoreFiles) -> str:
    """Clear every feed's ETag, Last-Modified and hashes: the next run re-reads and re-parses
    every feed, and dedup adds back whatever the restored (older) items lack."""
    path = store.feeds_path
    try:
        feeds, meta = read_file(path, decode_feeds)
        cleared = {key: dataclasses.replace(state, **_VALIDATORS) for key, state in feeds.items()}
        saved = meta.get("saved_at")
        at = datetime.fromisoformat(saved) if isinstance(saved, str) else datetime.now(timezone.utc)
        OrjsonStorage(path, backup=store.feeds_backup, like=store.path).write(
            encode_feeds(Snapshot(feeds=cleared, meta=meta), at))
    except (NotAStore, ValueError, errors.StoreError, OSError) as exc:
        raise errors.StoreError(path, f"could not clear the feeds' caching validators ({_reason(exc)}); "
                                      "delete this file to make the next run re-read every feed") from exc
    return f"{path.name}: caching validators cleared, the next run re-reads every feed"
