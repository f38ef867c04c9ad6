"""Reading the items file and its journal, in whichever layout each is in.

The items file is read by its header only when its index vouches for it (``lines.open_lines``:
the items read when used); else whole, in the line layout (``lines.read_lines``: an older
layout, or a header its index does not vouch for) or parsed as any TinyDB file (another
schema, or index terms of another version). The journal completes the items file it names,
whatever layout either is in: it is never dropped because the items file was read whole.
A file read whole is written anew at the next save (``ItemsRead.rewrite``), or every run
would read it whole again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, MutableMapping

import orjson

from .. import errors, gcpolicy
from ..records import Item
from .files import OrjsonStorage
from .format import _DATES, NotAStore, decode_items, schema_version
from .lines import ItemTable, open_lines, read_lines

__all__ = ["ItemsRead", "read_items"]
_WHOLE = object()  # _lines(): a file in no line layout, to parse whole
Damaged = Callable[[str], Exception]


@dataclass
class ItemsRead:
    items: MutableMapping[str, Item]
    tombstones: dict[str, datetime]
    generation: str | None  # of the items file: a journal must name it to complete it
    rewrite: bool  # something was read whole: the next save writes the items file anew
    journal_read: bool  # a journal was there, and it loads


def read_items(path: Path, journal: Path, damaged: Damaged, damaged_journal: Damaged) -> ItemsRead | None:
    """The items file at *path* brought up to date by its *journal*; None if there is no items
    file. A damaged item met later raises ``damaged(message)`` (of the journal's items:
    ``damaged_journal``); a journal that does not load raises ``damaged_journal``."""
    with gcpolicy.long_lived():  # the heads live until the run ends
        lines, header_only, data = _lines(path, "items", damaged)
        if lines is None:
            return None
        if lines is not _WHOLE:
            meta, tombstones, table = lines
            schema_version({"meta": {"1": meta}})  # refuses a newer schema
            table.generation = meta.get("generation")
        else:
            try:
                raw = orjson.loads(data)
            except ValueError as exc:
                raise NotAStore(f"not valid JSON ({exc})") from None
            del data
            items, tombstones, meta = decode_items(raw)
            table = ItemTable(items)
        found = ItemsRead(table, tombstones, meta.get("generation"), rewrite=not header_only, journal_read=False)
        _read_journal(journal, found, damaged_journal)
        return found


def _lines(path: Path, where: str, damaged: Damaged) -> tuple[Any, bool, bytes]:
    """The lines of *path*, whether only its header was read, and the bytes read: its header
    only (``lines.open_lines``), else the whole file in the line layout (``lines.read_lines``);
    _WHOLE if in neither (parse those bytes whole), None if missing."""
    try:
        try:
            found = open_lines(OrjsonStorage(path).open_fd(), where, damaged)
            if found is not None:
                return found, True, b""
            data = OrjsonStorage(path).read_bytes()
            if data is None:
                return None, False, b""
            lines = read_lines(data, where, damaged)
            return (_WHOLE, False, data) if lines is None else (lines, False, b"")
        except FileNotFoundError:
            return None, False, b""
        except OSError as exc:
            raise errors.StoreError(path, f"cannot read: {exc.strerror}") from exc
    finally:
        _DATES.clear()


def _read_journal(journal: Path, found: ItemsRead, damaged_journal: Damaged) -> None:
    """Apply *journal* to ``found.items`` and take its tombstones, if it names that items file.

    A journal written for another items file (one rewritten since: a run killed between
    the rewrite and the journal's removal) is ignored: that file holds all it held.
    """
    try:
        lines, _header_only, data = _lines(journal, "journal", damaged_journal)
        if lines is None:
            return
        found.journal_read = True
        if lines is _WHOLE:  # e.g. written when index terms had another version
            try:
                items, tombstones, meta = decode_items(orjson.loads(data))
            except ValueError as exc:
                raise NotAStore(f"not an items journal ({exc})") from None
        else:
            meta, tombstones, lines_table = lines
    except NotAStore as exc:
        raise damaged_journal(str(exc)) from None
    deleted = meta.get("deleted")
    if not found.generation or meta.get("base") != found.generation or type(deleted) is not list:
        return
    table = found.items
    if lines is _WHOLE:  # its items become records; the next save folds them into a new items file
        for item_id in deleted:
            table.pop(item_id, None)
        table.update(items)
        found.rewrite = True
    else:
        assert isinstance(table, ItemTable)
        table.apply_journal(lines_table, deleted)
    found.tombstones = tombstones  # the journal's: those of the items file, as of its save
