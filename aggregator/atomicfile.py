"""Replace a file so that a crash at any instant leaves the old file or the new one, whole.

One implementation for the store, the published files and feeds.yaml: a temp file in
the same folder (so the rename stays on one filesystem), written and fsynced, the old
file optionally kept as a backup (a hard link: no copy), ``os.replace``, then the
folder fsynced so that the rename itself survives a power cut. On any error the temp
files are removed, the target is untouched, and the OSError is raised for the caller
to word (it knows whether it is a store, an output file or a config).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable

Chunk = bytes | bytearray | memoryview
BATCH = 1 << 20  # chunks are gathered into writes of about this size


def temp_prefix(path: Path) -> str:
    """The prefix of *path*'s temp files (for sweeping those of a killed writer)."""
    return f".{path.name}."


def write(path: Path, payload: Chunk | Iterable[Chunk], *, backup: Path | None = None,
          mode: int | None = None, like: Path | None = None, sync_dir: bool = True) -> None:
    """Write *payload* (bytes, or chunks in order: never joined whole) to *path*, atomically.

    The new file gets *mode* if given, else the permissions of *path* (or of *like*,
    when *path* does not exist yet; mkstemp's own are 0600). *backup*: where the
    replaced file is kept. *sync_dir* False leaves the folder's fsync to the caller
    (one per batch of files).
    """
    path = Path(path)
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=folder)
    temps = [tmp]
    try:
        try:
            if mode is None:
                mode_of = path if path.exists() else like if like is not None and like.exists() else None
                mode = stat.S_IMODE(mode_of.stat().st_mode) if mode_of is not None else None
            if mode is not None:
                os.fchmod(fd, mode)
            write_all(fd, [payload] if isinstance(payload, (bytes, bytearray, memoryview)) else payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        if backup is not None and path.exists():
            bak_tmp = tmp + ".bak"
            temps.append(bak_tmp)
            try:
                os.link(path, bak_tmp)  # no copy: the backup shares the old file's inode
            except OSError:  # no hard links on this filesystem
                copy_synced(path, bak_tmp)
            os.replace(bak_tmp, backup)
        os.replace(tmp, path)
    except BaseException:
        for name in temps:
            try:
                os.unlink(name)
            except OSError:
                pass
        raise
    if sync_dir:
        fsync_dir(folder)


def write_all(fd: int, chunks: Iterable[Chunk], batch: int = BATCH) -> None:
    """Write *chunks* in order, gathered into writes of about *batch* bytes."""
    pending: list[Chunk] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= batch:
            _flush(fd, pending)
            pending, size = [], 0
    _flush(fd, pending)


def _flush(fd: int, chunks: list[Chunk]) -> None:
    if not chunks:
        return
    view = memoryview(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    while view:
        view = view[os.write(fd, view):]


def copy_synced(src: Path, dst: str | Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(BATCH):
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename durable. The new file is complete and in place whatever happens
    here, so a folder that cannot be synced (some filesystems refuse) is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
