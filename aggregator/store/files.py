"""The store's files on disk: their paths, the TinyDB storage (orjson, atomic writes), reading one.

Both :mod:`.store` (which holds the lock and decides what to read and write) and
:mod:`.check` (``store check`` and ``store restore``) build on this module, and
neither imports the other's internals: :class:`StoreFiles` is what they share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from .. import atomicfile, errors, gcpolicy
from ..records import Snapshot
from .format import NotAStore, decode_feeds

T = TypeVar("T")


class OrjsonStorage(Storage):
    """TinyDB storage: orjson, no file created on read, atomic whole-file writes.

    ``backup``: where ``write`` keeps the file it replaces (None: not kept).
    ``like``: the file whose permissions a new file takes (mkstemp's are 0600).
    Records (dataclasses, datetimes) may be passed as documents: orjson writes them
    exactly as a plain dataclass-to-dict conversion would, many times faster (4 s -> 0.3 s at 100k items).
    """

    def __init__(self, path: str | Path, backup: str | Path | None = None, like: Path | None = None):
        self.path, self.backup = Path(path), Path(backup) if backup else None
        self.like = like  # a new file takes its permissions

    def read(self) -> dict[str, dict[str, Any]] | None:
        raw = self.read_bytes()
        return None if raw is None else orjson.loads(raw)  # raises orjson.JSONDecodeError (a ValueError)

    def read_bytes(self) -> bytes | None:
        """The file as it is (None: no file); :mod:`.lines` reads the items file from these."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def open_fd(self) -> int:
        """The file opened for reading (raises FileNotFoundError): :mod:`.lines` reads the
        items file's header from it, and each item's line when it is used."""
        return os.open(self.path, os.O_RDONLY)

    def write(self, data: Mapping[str, Any]) -> None:
        atomic_write(self.path, _dumps(data), backup=self.backup,
                     like=self.like)


def _encode_extra(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__}")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_encode_extra)


def atomic_write(path: Path, payload: bytes | Iterable[bytes | memoryview], *, backup: Path | None = None,
                 like: Path | None = None) -> None:
    """Write *payload* (bytes, or chunks in order) to *path*: the old file or the new one
    at every instant, the old one kept as *backup*; see :mod:`atomicfile`."""
    atomicfile.write(path, payload, backup=backup, like=like)


def feeds_path(path: Path) -> Path:
    """The feeds file beside the items file *path*: ``aggregator.json`` -> ``aggregator.feeds.json``."""
    return path.with_name(f"{path.stem}.feeds{path.suffix}")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def read_file(path: Path, decode: Callable[[Any], T]) -> T | None:
    """*decode* applied to the parsed file at *path*; None if there is no file.

    Raises NotAStore (the file does not hold a store) or StoreError (cannot be read).
    """
    with gcpolicy.paused():
        try:
            with TinyDB(path, storage=OrjsonStorage) as db:
                raw = db.storage.read()
        except OSError as exc:  # a folder, no permission…
            raise errors.StoreError(path, f"cannot read: {exc.strerror}") from exc
        except ValueError as exc:  # orjson.JSONDecodeError
            raise NotAStore(f"not valid JSON ({exc})") from None
        return None if raw is None else decode(raw)


def _snapshot_of_feeds(raw: Any) -> Snapshot:
    feeds, meta = decode_feeds(raw)
    return Snapshot(feeds=feeds, meta=meta)


def journal_path(path: Path) -> Path:
    """The journal beside the items file *path*: ``aggregator.json`` -> ``aggregator.journal.json``."""
    return path.with_name(f"{path.stem}.journal{path.suffix}")


@dataclass(frozen=True)
class StoreFiles:
    """Every file of one store, named from the items file *path*: each with its ``.bak``."""

    path: Path  # the items file
    backup: Path
    feeds_path: Path
    feeds_backup: Path
    journal: Path
    journal_backup: Path

    @classmethod
    def at(cls, path: str | Path) -> StoreFiles:
        path = Path(path)
        feeds, journal = feeds_path(path), journal_path(path)
        return cls(path, backup_path(path), feeds, backup_path(feeds), journal, backup_path(journal))
