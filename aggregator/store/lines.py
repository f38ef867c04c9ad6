"""The items file's layout: one document per line, and a heads index that says where each line is.

A run needs every stored item's identity keys, time, topics and sources, but the full
text of only the few it changes or publishes (:mod:`.table`). Decoding 100k items took
2 s of a 10 s warm poll at N = 2000 (issue 8); reading the whole 200 MB file to find
the lines still took half a second and held the file in memory (issue 16). So the
items file is written one line per table and one per item::

    {"meta":{"1":{"schema_version":3,"saved_at":"...","title_tokens":2,"index":{"crc32":…,"items":2,…}}},
    "tombstones":{"1":{"key":"...","at":"..."},"2":{...}},
    "heads":{"1":{"rows":[["<id>",[keys],"title",published,updated,first_seen,[topics],[feeds],"tokens"],...],"at":[0,2817,5630]}},
    "items":{
    "1":{"id":"...","keys":[...],"title":"...",...},
    "2":{...}
    }}

It is the same JSON as ever (whitespace between tokens means nothing to JSON: TinyDB
and any JSON tool read it whole), plus the "heads" table: for each item, in item
order, what :class:`~.table.ItemHead` holds (its title tokens included, for the
near-duplicate index), and ``at``: where each item line starts, counted from the first
one, and where the last one ends. :func:`open_lines` reads the four header lines only
and leaves the file open: an item's line is read (``os.pread``) when the item is
first used, and a save copies the untouched ones in blocks. orjson never writes a raw
newline inside a string, so a line is always one whole document.

The meta line's ``index`` (CRC-32 of the tombstones and heads lines, number of items,
first and last ids, where the last line starts and the items end) vouches for the
header: a run checks it before trusting the heads, and every run that reads no item
checks it without parsing anything (:func:`looks_whole`, ``Store.verify``).

A file in any other layout (older stores, one written before ``at`` was kept, tokens of
another version, a header the index does not vouch for) is not an error: the caller
reads it whole, :func:`read_lines` finds the lines by scanning them (or the whole-file
parser checks every document), and the next save writes this layout.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Callable, Iterator

import orjson

from ..dedup import TOKENS_VERSION
from .format import NotAStore, _dt, schema_version
from .table import Docs, ItemHead, ItemTable, head_of, head_of_row, heads_of_rows, row_of

__all__ = ["ItemHead", "ItemTable", "head_of", "head_of_row", "looks_whole", "misplaced", "open_lines", "read_lines",
           "row_of", "write_lines"]

_META = b'{"meta":{"1":'
_TOMBSTONES = b'"tombstones":{'
_HEADS = b'"heads":{"1":{"rows":'
_HEADS_DOC = len(b'"heads":{"1":')  # the heads document starts here, and ends 3 bytes before the line
_ITEMS = b'"items":{'
_END = b"}}\n"
_NL = b"\n"
_FRAMES = ((_META, b"},\n"), (_TOMBSTONES, b"},\n"), (_HEADS, b"}},\n"), (_ITEMS, _NL))
Lines = tuple[dict[str, Any], dict[str, datetime], ItemTable]


def write_lines(meta: dict[str, Any], tombstones: Mapping[str, datetime], table: ItemTable,
                dumps: Callable[[Any], bytes], ids: list[str] | None = None) -> Iterator[bytes | memoryview]:
    """The items file (or, with *ids*, a journal of those items) in the line layout, as
    chunks to write in order. The documents are measured first (the untouched ones by
    their offsets, the others encoded once more), so the heads line can say where each
    line will be; the meta line says how to check the rest without parsing it."""
    heads = table.heads()
    ids = list(heads) if ids is None else ids
    tombs = _TOMBSTONES + b",".join(b'"%d":' % n + dumps({"key": k, "at": at})
                                    for n, (k, at) in enumerate(tombstones.items(), 1)) + b"},\n"
    rows = [row_of(heads[i]) for i in ids]
    sizes = table.sizes(dumps, ids)
    at, pos, last = [0], 0, len(sizes)
    for n, size in enumerate(sizes, 1):
        pos += len(b'"%d":' % n) + size + (1 if n == last else 2)  # ",\n" between lines
        at.append(pos)
    # The heads line in pieces, never joined: at 100k items its rows alone are 60 MB.
    heads_line = [_HEADS, dumps(rows), b',"at":' + dumps(at) + b"}},\n"]
    crc = zlib.crc32(tombs)
    for piece in heads_line:
        crc = zlib.crc32(piece, crc)
    index = {"crc32": crc, "items": len(rows),
             "first": rows[0][0] if rows else None, "last": rows[-1][0] if rows else None,
             "last_at": at[-2] if rows else None, "end": at[-1],  # one read finds the header:
             "header": len(tombs) + sum(map(len, heads_line)) + len(_ITEMS + _NL)}
    yield _META + dumps({**meta, "title_tokens": TOKENS_VERSION, "index": index}) + b"},\n"
    yield tombs
    del rows, tombs
    while heads_line:
        yield heads_line.pop(0)
    yield _ITEMS + _NL
    n = 0
    for n, (doc, size) in enumerate(zip(table.documents(dumps, ids), sizes), 1):
        if len(doc) != size:  # cannot happen: a record encodes the same twice, a line is its offsets
            raise TypeError(f"item {ids[n - 1]} changed while it was saved")
        yield (b',\n"%d":' if n > 1 else b'"%d":') % n
        yield doc
    yield (_NL if n else b"") + _END


# ----------------------------------------------------------------------------- checking the header


def _framed(lines: list[Any]) -> bool:
    return all(line[:len(prefix)] == prefix and line[len(line) - len(suffix):] == suffix
               for line, (prefix, suffix) in zip(lines, _FRAMES))


def _meta_of(line: Any) -> dict[str, Any] | None:
    """The meta document of a meta line, if it is one of this layout (a newer schema raises NotAStore)."""
    try:
        meta = orjson.loads(line[len(_META):-3])
    except orjson.JSONDecodeError:
        return None
    if type(meta) is not dict or meta.get("title_tokens") != TOKENS_VERSION:
        return None
    schema_version({"meta": {"1": meta}})  # raises NotAStore for a store of a newer aggregator
    return meta


def _located(index: Any) -> tuple[int, int, str, str, int, int, int] | None:
    """(crc32, items, first, last, last_at, end, header) of an index that says where the lines are."""
    if type(index) is not dict:
        return None
    crc, count, first, last, last_at, end, header = (
        index.get(k) for k in ("crc32", "items", "first", "last", "last_at", "end", "header"))
    if (type(crc) is not int or type(count) is not int or type(end) is not int or type(header) is not int
            or count < 0 or header < 0 or end < 0):
        return None
    if count and (type(first) is not str or type(last) is not str or type(last_at) is not int or last_at < 0):
        return None
    return crc, count, first, last, last_at, end, header


def _ends_ok(read: Callable[[int, int], Any], start: int, size: int, located: tuple) -> bool:
    """The first and last item lines where the index says, and the file ending right after them."""
    _crc, count, first, last, last_at, end, _header = located
    if start + end + len(_END) != size or read(start + end, len(_END)) != _END:
        return False
    if not count:
        return end == 0
    head, tail = b'"1":{"id":' + orjson.dumps(first), b'"%d":{"id":' % count + orjson.dumps(last)
    return (read(start, len(head)) == head and read(start + last_at, len(tail)) == tail
            and read(start + end - 2, 2) == b"}\n")  # the last item line whole


def looks_whole(data: Any) -> bool:
    """Whether an items file (or journal) in *data* (bytes, or an mmap) loads, judged by its
    header lines alone: the four of them framed as written, the meta parsed (a newer schema
    raises NotAStore), the tombstones and heads lines checked against the CRC-32 the meta
    line keeps, the first and the last item lines where the index says, and the file
    ending right after them. The item lines in between are not read: that is what makes
    it cheap (a damaged one fails the run that reads that item). At 20,000 items: about
    3 ms, against 40 ms to parse the heads. A file written before the index said where
    the lines are is checked the same way, its heads parsed and its last line found from
    the end.

    False: damaged, or in another layout; the caller reads it whole to tell which.
    """
    if len(data) < len(_END) or data[len(data) - len(_END):] != _END:
        return False
    lines, pos = [], 0
    for _frame in _FRAMES:
        stop = data.find(_NL, pos)
        if stop < 0:
            return False
        lines.append(data[pos:stop + 1])
        pos = stop + 1
    if not _framed(lines) or (meta := _meta_of(lines[0])) is None:
        return False
    index = meta.get("index")
    located = _located(index)
    if located is not None:
        if zlib.crc32(lines[2], zlib.crc32(lines[1])) != located[0]:
            return False
        return _ends_ok(lambda at, n: data[at:at + n], pos, len(data), located)
    return _looks_whole_before_at(data, lines, pos, index)


def _looks_whole_before_at(data: Any, lines: list[Any], pos: int, index: Any) -> bool:
    """looks_whole for a file written before the index said where the lines are."""
    if type(index) is dict and type(index.get("crc32")) is int:
        if zlib.crc32(lines[2], zlib.crc32(lines[1])) != index["crc32"]:
            return False
        count, first, last = index.get("items"), index.get("first"), index.get("last")
    else:  # written before the index was kept: parse the heads themselves
        try:
            tombs, rows = orjson.loads(b"{" + lines[1][len(_TOMBSTONES):-3] + b"}"), orjson.loads(lines[2][len(_HEADS):-4])
        except orjson.JSONDecodeError:
            return False
        if type(tombs) is not dict or type(rows) is not list or not all(
                type(r) is list and len(r) == 9 and type(r[0]) is str for r in rows):
            return False
        count, first, last = len(rows), rows[0][0] if rows else None, rows[-1][0] if rows else None
    if not count:
        return count == 0 and data[pos:] == _END
    if type(count) is not int or type(first) is not str or type(last) is not str:
        return False
    # The first item line and the last one are where the index says: a file cut short and
    # patched, or one that lost lines, does not pass. (rfind from the end: no scan of the items.)
    head, tail = b'"1":{"id":' + orjson.dumps(first), b'"%d":{"id":' % count + orjson.dumps(last)
    start = data.rfind(_NL, pos - 1, len(data) - len(_END) - 1) + 1
    return (data[pos:pos + len(head)] == head and start >= pos and data[start:start + len(tail)] == tail
            and data[len(data) - len(_END) - 2:] == b"}\n" + _END)  # the last item line whole


# ----------------------------------------------------------------------------- reading


def _tombstones(inner: Any) -> dict[str, datetime]:
    """The tombstones of their line (*inner*: between its prefix and suffix); NotAStore for one
    that is not one, orjson.JSONDecodeError if the line does not parse."""
    tombs = orjson.loads(b"{" + bytes(inner) + b"}")
    tombstones = {}
    for doc_id, doc in tombs.items():
        try:
            key = doc["key"]
            if type(key) is not str:
                raise TypeError(f"tombstone key {key!r:.40} is not a string")
            tombstones[key] = _dt(doc["at"])
        except (TypeError, ValueError, KeyError) as exc:
            raise NotAStore(f"tombstones document {doc_id}: {exc}") from exc
    return tombstones


def open_lines(fd: int, where: str = "items", damaged: Callable[[str], Exception] = NotAStore) -> Lines | None:
    """(meta, tombstones, items) of the file open as *fd*, reading only its header: the items
    are read from the file, kept open (the table owns *fd* now), when used. None if the file
    is in another layout or its header is not as its index says (read it whole; *fd* is
    closed). Raises OSError, and NotAStore for a newer schema or a bad tombstone."""
    try:
        found = _open(fd, where, damaged)
    except BaseException:
        os.close(fd)
        raise
    if found is None:
        os.close(fd)
    return found


def _open(fd: int, where: str, damaged: Callable[[str], Exception]) -> Lines | None:
    first = os.pread(fd, 1 << 12, 0)
    stop = first.find(_NL)
    if stop < 0:  # a long meta line (many topics' times): once more, up to a size no meta line reaches
        first = os.pread(fd, 1 << 20, 0)
        stop = first.find(_NL)
        if stop < 0:
            return None
    meta_line = first[:stop + 1]
    if not _framed([meta_line]) or (meta := _meta_of(meta_line)) is None:
        return None
    located = _located(meta.pop("index", None))
    if located is None or len(meta_line) + located[6] > os.fstat(fd).st_size:  # the meta line has no CRC
        return None
    header = os.pread(fd, located[6], len(meta_line))  # the other three header lines, in one read
    split = header.find(_NL) + 1
    view = memoryview(header)
    lines = [meta_line, view[:split], view[split:len(header) - len(_ITEMS + _NL)], view[len(header) - len(_ITEMS + _NL):]]
    start = len(meta_line) + len(header)
    if (split <= 0 or not _framed(lines) or zlib.crc32(lines[2], zlib.crc32(lines[1])) != located[0]
            or not _ends_ok(lambda at, n: os.pread(fd, n, at), start, os.fstat(fd).st_size, located)):
        return None
    try:
        heads_doc = orjson.loads(lines[2][_HEADS_DOC:-3])
        tombstones = _tombstones(lines[1][len(_TOMBSTONES):-3])
    except orjson.JSONDecodeError:
        return None
    del lines, view, header
    rows, at = heads_doc.get("rows"), heads_doc.get("at")
    count = located[1]
    if type(rows) is not list or type(at) is not list or len(rows) != count or len(at) != count + 1:
        return None
    heads = heads_of_rows(rows)  # the CRC vouches for them: written by this layout's writer
    if len(heads) != count:
        return None
    return meta, tombstones, ItemTable(heads=heads, docs=Docs(at, start, fd=fd, where=where, damaged=damaged))


def misplaced(path: Any, where: str = "items") -> str | None:
    """Why the heads index of the file at *path* does not say where its item lines are; None
    if it does, or if the file has no index to go by (it is then read whole, its lines found
    by scanning). For ``store check``: a run reads each item line where the index says."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        found = open_lines(fd, where)  # it owns fd now
    except (OSError, NotAStore):
        return None  # not this layout: the whole read judges it
    if found is None:
        return None
    try:
        for _doc in found[2].documents(orjson.dumps):  # each line's framing checked, in blocks
            pass
    except NotAStore as exc:
        return str(exc)
    return None


def _line(data: bytes, start: int, prefix: bytes, suffix: bytes) -> tuple[memoryview, int] | None:
    """The JSON between *prefix* and *suffix* of the line at *start*, and where the next begins."""
    stop = data.find(_NL, start)
    if stop < 0 or not data.startswith(prefix, start) or not data.endswith(suffix, start, stop + 1):
        return None
    return memoryview(data)[start + len(prefix):stop + 1 - len(suffix)], stop + 1


def read_lines(data: bytes, where: str = "items", damaged: Callable[[str], Exception] = NotAStore
               ) -> Lines | None:
    """(meta, tombstones, items) of a whole file in memory in the line layout, with or without
    ``at``: each line is found by scanning, and checked to start with its head's id. None if
    it is in another layout (or its heads, an index derived from the items, do not match
    them). Raises NotAStore for a tombstone that is not one. The item lines are located,
    not parsed: ItemTable parses one when asked for it.
    """
    if not data.endswith(_END):
        return None
    found = []
    pos = 0
    for prefix, suffix in _FRAMES:
        line = _line(data, pos, prefix, suffix)
        if line is None:
            return None
        found.append(line[0])
        pos = line[1]
    try:
        meta = orjson.loads(found[0])
        heads_doc = orjson.loads(b'{"rows":' + bytes(found[2]) + b"}")
    except orjson.JSONDecodeError:
        return None  # not ours after all: let the whole-file parser say what is wrong
    rows = heads_doc.get("rows")
    if type(meta) is not dict or meta.get("title_tokens") != TOKENS_VERSION or type(rows) is not list:
        return None  # another layout, or tokens of another version: parsed whole, written anew
    meta.pop("index", None)  # the file's own check (looks_whole), not the store's meta
    try:
        tombstones = _tombstones(found[1])
    except orjson.JSONDecodeError:
        return None
    heads: dict[str, ItemHead] = {}
    at, first, end = [], pos, len(data) - len(_END)
    for n, row in enumerate(rows, 1):
        try:
            head = head_of_row(row)
        except (TypeError, ValueError):
            return None  # the heads are an index: rebuilt from the items, which are read whole
        stop = data.find(_NL, pos, end + 1)
        if (stop < 0 or not data.startswith(b'"%d":' % n, pos) or head.id in heads
                or not data.startswith(b'{"id":' + orjson.dumps(head.id), pos + len(b'"%d":' % n))):
            return None  # the heads do not describe these items: read them whole
        at.append(pos - first)
        heads[head.id] = head
        pos = stop + 1
    if pos != end:
        return None  # more items than heads
    at.append(pos - first)
    return meta, tombstones, ItemTable(heads=heads, docs=Docs(at, first, data=data, where=where, damaged=damaged))
