"""The store: one TinyDB JSON file, read once and written once per run, under a file lock.

TinyDB rewrites its whole file on every write and its default storage re-reads it on
every query (57 ms per insert at 3,750 items), so the file is treated as a snapshot:
``load()`` reads it in one go through :class:`OrjsonStorage`, ``save()`` writes the
whole :class:`Snapshot` in one ``storage.write`` — to a temp file, fsynced, the old
file linked to ``<store>.bak``, then ``os.replace``. At every instant the store path
holds a complete file, old or new. A file that does not load is never overwritten.

The file's format (tables, schema versions, migration, the record codec) is in
:mod:`aggregator.storeformat`; this module does the file I/O and holds the lock.
"""

from __future__ import annotations

import gc
import os
import stat
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import filelock
import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from . import errors
from .records import Settings, Snapshot
from .retention import apply_prune
from .storeformat import (SCHEMA_VERSION, NotAStore, decode, decode_snapshot, encode_snapshot,
                          migrate_v1, schema_version)

__all__ = ["SCHEMA_VERSION", "OrjsonStorage", "Store", "atomic_write", "decode", "decode_snapshot",
           "encode_snapshot", "migrate_v1", "schema_version"]  # the format's names, re-exported


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ----------------------------------------------------------------------------- file I/O


class OrjsonStorage(Storage):
    """TinyDB storage: orjson, no file created on read, atomic whole-file writes.

    ``backup``: where ``write`` keeps the file it replaces (None: not kept).
    Records (dataclasses, datetimes) may be passed as documents: orjson writes them
    exactly as ``records.to_dict`` would, many times faster (4 s -> 0.3 s at 100k items).
    """

    def __init__(self, path: str | Path, backup: str | Path | None = None):
        self.path, self.backup = Path(path), Path(backup) if backup else None

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return orjson.loads(raw)  # raises orjson.JSONDecodeError (a ValueError)

    def write(self, data: Mapping[str, Any]) -> None:
        atomic_write(self.path, orjson.dumps(data, default=_encode_extra), backup=self.backup)


def _encode_extra(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__}")


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: Path, payload: bytes, *, backup: Path | None = None) -> None:
    """Write *payload* to *path* so that a crash leaves the old file or the new one.

    Temp file in the same folder, fsync, link the old file to *backup*, ``os.replace``,
    fsync the folder. On any OSError the temp files are removed, *path* is untouched,
    and the error is raised.
    """
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=folder)
    temps = [tmp]
    try:
        try:
            if path.exists():  # keep the store's permissions (mkstemp makes it 0600)
                os.fchmod(fd, stat.S_IMODE(path.stat().st_mode))
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if backup is not None and path.exists():
            bak_tmp = tmp + ".bak"
            temps.append(bak_tmp)
            try:
                os.link(path, bak_tmp)  # no copy: .bak shares the old file's inode
            except OSError:  # no hard links on this filesystem
                _copy_synced(path, bak_tmp)
            os.replace(bak_tmp, backup)
        os.replace(tmp, path)
    except BaseException:
        for name in temps:
            try:
                os.unlink(name)
            except OSError:
                pass
        raise
    _fsync_dir(folder)


def _copy_synced(src: Path, dst: str) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable. The new file is complete and in place whatever happens
    here, so a folder that cannot be synced (some filesystems refuse) is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building 100k records trips the cyclic GC hundreds of times for nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# ----------------------------------------------------------------------------- the store


class Store:
    """The store file at *path*, its lock ``<path>.lock`` and backup ``<path>.bak``."""

    def __init__(self, path: str | Path, lock_timeout: float = 0.0, *,
                 clock: Callable[[], datetime] = _utcnow):
        self.path = Path(path)
        self.backup = self.path.with_name(self.path.name + ".bak")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._filelock: filelock.FileLock | None = None  # one per Store: re-entrant
        self._loaded = False  # the file at path was read (or found missing) by this Store
        self._unreadable: errors.StoreError | None = None  # why it must not be overwritten

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
        for stale in self.path.parent.glob(_temp_prefix(self.path) + "*.tmp*"):
            try:
                stale.unlink()
            except OSError:
                pass

    # -- load and save

    def load(self) -> Snapshot:
        """The whole store (empty if there is no file yet). Raises StoreCorrupt or StoreError."""
        try:
            snapshot = self._read(self.path)
        except NotAStore as exc:
            backup = self.backup if self.backup.exists() else None
            self._unreadable = errors.StoreCorrupt(self.path, str(exc), backup)
            raise self._unreadable from None
        except errors.StoreError as exc:
            self._unreadable = exc
            raise
        self._loaded, self._unreadable = True, None
        return snapshot

    @staticmethod
    def _read(path: Path) -> Snapshot:
        """One read of *path*; raises NotAStore (does not load) or StoreError (cannot read)."""
        with _gc_paused():
            try:
                with TinyDB(path, storage=OrjsonStorage) as db:
                    raw = db.storage.read()
            except FileNotFoundError:
                raw = None
            except OSError as exc:
                raise errors.StoreError(path, f"cannot read: {exc.strerror}") from exc
            except ValueError as exc:  # orjson.JSONDecodeError
                raise NotAStore(f"not valid JSON ({exc})") from None
            return Snapshot() if raw is None else decode_snapshot(raw)

    def save(self, snapshot: Snapshot) -> None:
        """Write *snapshot* atomically, keeping the file it replaces as ``<path>.bak``.

        Refuses (StoreCorrupt) to replace a file that does not load. Raises StoreError
        (disk full, read-only folder…) with the old file untouched.
        """
        if self._unreadable is not None:
            raise self._unreadable
        if not self._loaded and self.path.exists():
            self.load()  # never overwrite a file nobody has read: it might not load
        data = encode_snapshot(snapshot, self._clock())
        try:
            with _gc_paused(), TinyDB(self.path, storage=OrjsonStorage, backup=self.backup) as db:
                db.storage.write(data)  # the whole snapshot, one write
        except OSError as exc:
            raise errors.StoreError(self.path, f"could not save ({exc.strerror or exc}); "
                                               "the previous file is unchanged") from exc
        except TypeError as exc:  # orjson.JSONEncodeError
            raise errors.StoreError(self.path, f"could not save: {exc}") from exc
        self._loaded = True

    @staticmethod
    def prune(snapshot: Snapshot, now: datetime, settings: Settings, keep: set[str]) -> int:
        """Apply retention to *snapshot* in place (see ``retention``); returns items pruned."""
        return apply_prune(snapshot, now, settings, keep)

    # -- maintenance

    def check(self, strict: bool = False) -> str:
        """A one-line verdict on the store (and on its backup if the store does not load).

        *strict*: a store that does not load raises instead, with the verdict as its
        message: StoreCorrupt (exit 3), or StoreError if the file cannot be read at all.
        A missing store is not an error: the first run creates it.
        """
        if not self.path.exists():
            return f"{self.path}: no store yet (the first run creates it); {self._backup_verdict()[1]}"
        try:
            snap = self._read(self.path)
        except (NotAStore, errors.StoreError) as exc:
            backup_ok, backup = self._backup_verdict()
            verdict = f"DOES NOT LOAD: {_reason(exc)}"
            if not strict:
                return f"{self.path}: {verdict}; {backup}"
            if isinstance(exc, errors.StoreError):
                raise errors.StoreError(self.path, f"{verdict}; {backup}") from None
            if backup_ok:  # StoreCorrupt adds "the last good copy is …" (or "no backup exists")
                raise errors.StoreCorrupt(self.path, f"{verdict}; {backup}", self.backup) from None
            if not self.backup.exists():
                raise errors.StoreCorrupt(self.path, verdict) from None
            raise errors.StoreCorrupt(self.path, verdict, hint=backup) from None
        verdict = f"{self.path}: ok, {_describe(snap)}"
        if snap.meta.get("migrated_from"):
            verdict += f" (schema {snap.meta['migrated_from']} on disk, migrated on the next save)"
        return verdict

    def _backup_verdict(self) -> tuple[bool, str]:
        """(whether ``<path>.bak`` loads, a few words on it)."""
        if not self.backup.exists():
            return False, "no backup"
        try:
            return True, f"backup {self.backup.name} ok, {_describe(self._read(self.backup))}"
        except (NotAStore, errors.StoreError) as exc:
            return False, f"backup {self.backup.name} does not load either: {_reason(exc)}"

    def restore(self, now: datetime | None = None) -> str:
        """Replace a store that does not load (or is missing) with ``<path>.bak``, once the
        backup is checked; the unreadable file is kept as ``<path>.corrupt-<UTC time>``."""
        with self.lock():
            if self.path.exists():
                try:
                    snap = self._read(self.path)
                except NotAStore:
                    pass
                else:
                    raise errors.StoreError(self.path, f"loads fine ({_describe(snap)}); "
                                                       "nothing to restore")
            if not self.backup.exists():
                raise errors.StoreError(self.path, f"no backup {self.backup} to restore from")
            try:
                good = self._read(self.backup)
            except NotAStore as exc:
                raise errors.StoreError(self.backup, f"the backup does not load either: {exc}; "
                                                     "nothing restored") from None
            stamp = (now or self._clock()).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            try:
                if self.path.exists():
                    try:
                        os.link(self.path, kept)
                    except OSError:
                        _copy_synced(self.path, str(kept))
                atomic_write(self.path, self.backup.read_bytes())
            except OSError as exc:
                raise errors.StoreError(self.path, f"could not restore: {exc.strerror or exc}") from exc
            self._loaded, self._unreadable = False, None
            was = f"; the unreadable file is kept as {kept.name}" if kept.exists() else ""
            return f"restored {self.path} from {self.backup.name} ({_describe(good)}){was}"


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, errors.StoreError) else str(exc)


def _describe(snap: Snapshot) -> str:
    saved = snap.meta.get("saved_at")
    return (f"schema {snap.meta.get('schema_version', SCHEMA_VERSION)}, {len(snap.items)} items, "
            f"{len(snap.feeds)} feeds, {len(snap.tombstones)} tombstones"
            + (f", saved {saved}" if saved else ""))
