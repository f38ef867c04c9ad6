"""The items file, one document per line, and the items it holds, decoded on demand.

A run needs every stored item's identity keys, time, topics and sources (to match new
entries, pick what to publish, apply retention) but the full text of only a few: the
ones it changes and the ones it publishes. Decoding 100k items into records took 2 s
of a 10 s warm poll at N = 2000, and the whole-file parse tree briefly held 3x the
file in memory (issue 8). So the items file is written one line per table and one
per item::

    {"meta":{"1":{"schema_version":3,"saved_at":"...","title_tokens":1,"index":{"crc32":…,"items":2,…}}},
    "tombstones":{"1":{"key":"...","at":"..."},"2":{...}},
    "heads":{"1":{"rows":[["<id>",[keys],"title",published,updated,first_seen,[topics],[feeds],"tokens"],...]}},
    "items":{
    "1":{"id":"...","keys":[...],"title":"...",...},
    "2":{...}
    }}

It is the same JSON as ever (whitespace between tokens means nothing to JSON: TinyDB
and any JSON tool read it whole), plus the "heads" table: for each item, in item
order, what :class:`ItemHead` holds, including its title tokens for the near-duplicate
index. :func:`read_lines` parses that one line and only locates the item lines (each
checked to start with its head's id); :class:`ItemTable` decodes an item at its first
access and saves an untouched one by writing its line back as it was. orjson never
writes a raw newline inside a string, so a line is always one whole document.

A file in any other layout (older stores, tokens of another version, a heads table
that does not match its items) is not an error: the caller parses it whole (which
checks every document) and the next save writes the lines.

The meta line's ``index`` (CRC-32 of the tombstones and heads lines, number of items,
first and last ids) lets every run check that the file loads without parsing it:
:func:`looks_whole`, which ``Store.verify`` calls when a run reads no item.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import Any, Callable, NamedTuple

import orjson

from ..records import Item
from ..dedup import TOKENS_VERSION, index_terms
from .format import _DATES, NotAStore, _dt, decoder, schema_version

_META = b'{"meta":{"1":'
_TOMBSTONES = b'"tombstones":{'
_HEADS = b'"heads":{"1":{"rows":'
_ITEMS = b'"items":{'
_END = b"}}\n"
_NL = b"\n"


class ItemHead(NamedTuple):
    """What a run needs of every stored item without decoding it.

    The attribute names are Item's, so code that only reads these (selection,
    retention, counts, dedup's key index) takes heads and items alike. A named tuple,
    not a frozen dataclass: 100k of them are built per run, and a frozen dataclass's
    ``__init__`` costs one ``object.__setattr__`` per field (a third of the load).
    """

    id: str
    keys: tuple[str, ...]
    title: str
    published: datetime | None
    updated: datetime | None
    first_seen: datetime | None
    topics: tuple[str, ...]
    feed_urls: tuple[str, ...]
    tokens: str | None = None  # its title_tokens as stored, space-separated (None: not stored)

    @property
    def date(self) -> datetime | None:
        return self.published or self.updated or self.first_seen


def head_of(item: Item) -> ItemHead:
    return ItemHead(item.id, item.keys, item.title, item.published, item.updated, item.first_seen,
                    item.topics, item.feed_urls)


def _when(value: Any) -> datetime | None:
    return None if value is None else _DATES.get(value) or _dt(value)


def head_of_row(row: Any) -> ItemHead:
    """An ItemHead from its row in the heads table; TypeError/ValueError name what is wrong."""
    item_id, keys, title, published, updated, first_seen, topics, feeds, tokens = row
    if type(item_id) is not str or not item_id or type(title) is not str or type(tokens) is not str:
        raise TypeError("a head's id, title or tokens is not a string")
    if type(keys) is not list or type(topics) is not list or type(feeds) is not list:
        raise TypeError("a head's keys, topics or feeds is not a list")
    return ItemHead(item_id, tuple(keys), title, _when(published), _when(updated), _when(first_seen),
                    tuple(topics), tuple(feeds), tokens)


def row_of(head: ItemHead) -> list[Any]:
    tokens = head.tokens if head.tokens is not None else " ".join(sorted(index_terms(head.title)))
    return [head.id, head.keys, head.title, head.published, head.updated, head.first_seen,
            head.topics, head.feed_urls, tokens]


class ItemTable(MutableMapping[str, Item]):
    """Item.id -> Item, decoded at first access from the line it was read from.

    A line that does not decode raises ``damaged(message)`` (the store's StoreCorrupt).

    ``heads()`` is a live view of every item's :class:`ItemHead`, without decoding;
    ``documents()`` yields each item's JSON document for the save, the unchanged ones
    as the very bytes they were read from. Built from records (``ItemTable(items)``),
    it is a plain mapping with heads.
    """

    def __init__(self, items: Mapping[str, Item] | None = None, *,
                 heads: dict[str, ItemHead] | None = None, raw: dict[str, memoryview] | None = None,
                 where: str = "items", damaged: Callable[[str], Exception] = NotAStore):
        self._heads: dict[str, ItemHead] = heads if heads is not None else {}
        self._raw: dict[str, memoryview] = raw if raw is not None else {}  # as read; dropped once replaced
        self._items: dict[str, Item] = {}  # decoded or assigned
        self._where, self._damaged = where, damaged
        # Since the base file (the lines given here) was written: what is not as it says,
        # in the journal or changed this run (an ordered set), and what of it is gone.
        self._base = frozenset(self._raw)
        self._recent: dict[str, None] = {}
        self._deleted: set[str] = set()
        self._journal_where, self._journal_damaged = "journal", damaged
        self.generation: str | None = None  # of the items file it was read from (set by the store)
        for item in (items or {}).values():
            self[item.id] = item

    def apply_journal(self, journal: ItemTable, deleted: Iterable[str]) -> None:
        """Bring the base file's items up to date with a journal: its deletions, then its items."""
        for item_id in deleted:
            if item_id in self._heads:
                del self[item_id]
        for item_id, head in journal._heads.items():
            self._items.pop(item_id, None)
            self._heads[item_id], self._raw[item_id] = head, journal._raw[item_id]
            self._recent[item_id] = None
        self._journal_where, self._journal_damaged = journal._where, journal._damaged

    def __getitem__(self, item_id: str) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            raw = self._raw[item_id]  # KeyError: no such item
        try:  # only its id was checked at load: this is where a damaged line shows
            item = decoder(Item)(orjson.loads(raw))
            if item.id != item_id:
                raise ValueError(f"its document says id {item.id!r:.60}")
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            if item_id in self._base and item_id not in self._recent:
                raise self._damaged(f"{self._where}: item {item_id}: {exc}") from exc
            raise self._journal_damaged(f"{self._journal_where}: item {item_id}: {exc}") from exc
        self._items[item_id] = item
        return item

    def __setitem__(self, item_id: str, item: Item) -> None:
        self._items[item_id] = item
        self._heads[item_id] = head_of(item)
        self._raw.pop(item_id, None)
        self._recent[item_id] = None

    def __delitem__(self, item_id: str) -> None:
        del self._heads[item_id]
        self._items.pop(item_id, None)
        self._raw.pop(item_id, None)
        self._recent.pop(item_id, None)
        if item_id in self._base:
            self._deleted.add(item_id)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._heads

    def __iter__(self) -> Iterator[str]:
        return iter(self._heads)

    def __len__(self) -> int:
        return len(self._heads)

    def heads(self) -> Mapping[str, ItemHead]:
        return self._heads  # callers only read it (a MappingProxy would cost a call per lookup)

    @property
    def decoded(self) -> int:
        """How many items were decoded or assigned (the rest are still bytes)."""
        return len(self._items)

    def documents(self, encode: Callable[[Any], bytes], ids: Iterable[str] | None = None
                  ) -> Iterator[bytes | memoryview]:
        """Each item's JSON document (of *ids*, else all, in order): its line as read, or
        *encode* of the record."""
        raw, items = self._raw, self._items
        for item_id in self._heads if ids is None else ids:
            doc = raw.get(item_id)
            yield doc if doc is not None else encode(items[item_id])

    # -- the journal: what changed since the base file was written

    def recent(self) -> list[str]:
        """Ids of the items not as the base file has them (new or changed), in table order."""
        recent = self._recent
        if len(recent) == len(self._heads):
            return list(self._heads)
        return [i for i in self._heads if i in recent] if recent else []

    def deleted(self) -> list[str]:
        """Ids in the base file of items since removed (sorted)."""
        return sorted(self._deleted)

    def rebase(self) -> None:
        """The table was just written whole: that file is the base now."""
        self._base = frozenset(self._heads)
        self._recent, self._deleted = {}, set()

    def journal_share(self) -> float:
        """How much of the table a journal would hold (1.0 when there is no base file)."""
        if not self._base:
            return 1.0
        return (len(self._recent) + len(self._deleted)) / max(len(self._heads), 1)


# ----------------------------------------------------------------------------- the layout


def write_lines(meta: dict[str, Any], tombstones: Mapping[str, datetime], table: ItemTable,
                dumps: Callable[[Any], bytes], ids: list[str] | None = None) -> Iterator[bytes | memoryview]:
    """The items file (or, with *ids*, a journal of those items) in the line layout, as
    chunks to write in order. The meta line says how to check the rest without parsing it
    (``"index"``: the CRC-32 of the tombstones and heads lines, the number of items, the
    first and last ids; see :func:`looks_whole`)."""
    heads = table.heads()
    tombs = _TOMBSTONES + b",".join(b'"%d":' % n + dumps({"key": k, "at": at})
                                    for n, (k, at) in enumerate(tombstones.items(), 1)) + b"},\n"
    rows = [row_of(h) for h in heads.values()] if ids is None else [row_of(heads[i]) for i in ids]
    index_line = _HEADS + dumps(rows) + b"}},\n"
    index = {"crc32": zlib.crc32(index_line, zlib.crc32(tombs)), "items": len(rows),
             "first": rows[0][0] if rows else None, "last": rows[-1][0] if rows else None}
    yield _META + dumps({**meta, "title_tokens": TOKENS_VERSION, "index": index}) + b"},\n"
    yield tombs
    yield index_line
    yield _ITEMS + _NL
    n = 0
    for doc in table.documents(dumps, ids):
        n += 1
        yield (b',\n"%d":' if n > 1 else b'"%d":') % n
        yield doc
    yield (_NL if n else b"") + _END


def looks_whole(data: Any) -> bool:
    """Whether an items file (or journal) in *data* (bytes, or an mmap) loads, judged by its
    header lines alone: the four of them framed as written, the meta parsed (a newer schema
    raises NotAStore), the tombstones and heads lines checked against the CRC-32 the meta
    line keeps (parsed instead in a file written before it kept one), the first and the
    last item lines where the index says, and the file's last line. The item lines in
    between are not read: that is what makes it cheap (a damaged one fails the run that
    reads that item). At 20,000 items: about 3 ms, against 40 ms to parse the heads.

    False: damaged, or in another layout; the caller reads it whole to tell which.
    """
    if len(data) < len(_END) or data[len(data) - len(_END):] != _END:
        return False
    lines, pos = [], 0
    for prefix, suffix in ((_META, b"},\n"), (_TOMBSTONES, b"},\n"), (_HEADS, b"}},\n"), (_ITEMS, _NL)):
        stop = data.find(_NL, pos)
        if stop < 0:
            return False
        line = data[pos:stop + 1]
        if not line.startswith(prefix) or not line.endswith(suffix):
            return False
        lines.append(line)
        pos = stop + 1
    try:
        meta = orjson.loads(lines[0][len(_META):-3])
    except orjson.JSONDecodeError:
        return False
    if type(meta) is not dict or meta.get("title_tokens") != TOKENS_VERSION:
        return False
    schema_version({"meta": {"1": meta}})  # raises NotAStore for a store of a newer aggregator
    index = meta.get("index")
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


def _line(data: bytes, start: int, prefix: bytes, suffix: bytes) -> tuple[memoryview, int] | None:
    """The JSON between *prefix* and *suffix* of the line at *start*, and where the next begins."""
    stop = data.find(_NL, start)
    if stop < 0 or not data.startswith(prefix, start) or not data.endswith(suffix, start, stop + 1):
        return None
    return memoryview(data)[start + len(prefix):stop + 1 - len(suffix)], stop + 1


def read_lines(data: bytes, where: str = "items", damaged: Callable[[str], Exception] = NotAStore
               ) -> tuple[dict[str, Any], dict[str, datetime], ItemTable] | None:
    """(meta, tombstones, items) of an items file in the line layout; None if it is in another
    (or its heads, an index derived from the items, do not match them). Raises NotAStore for
    a tombstone that is not one. The item lines are located, not parsed: ItemTable parses
    one when asked for it.
    """
    if not data.endswith(_END):
        return None
    found = []
    pos = 0
    for prefix, suffix in ((_META, b"},\n"), (_TOMBSTONES, b"},\n"), (_HEADS, b"}},\n"), (_ITEMS, _NL)):
        line = _line(data, pos, prefix, suffix)
        if line is None:
            return None
        found.append(line[0])
        pos = line[1]
    try:
        meta, tombs, rows = orjson.loads(found[0]), orjson.loads(b"{" + bytes(found[1]) + b"}"), orjson.loads(found[2])
    except orjson.JSONDecodeError:
        return None  # not ours after all: let the whole-file parser say what is wrong
    if type(meta) is not dict or meta.get("title_tokens") != TOKENS_VERSION or type(rows) is not list:
        return None  # another layout, or tokens of another version: parsed whole, written anew
    meta.pop("index", None)  # the file's own check (looks_whole), not the store's meta
    tombstones = {}
    for doc_id, doc in tombs.items():
        try:
            key = doc["key"]
            if type(key) is not str:
                raise TypeError(f"tombstone key {key!r:.40} is not a string")
            tombstones[key] = _dt(doc["at"])
        except (TypeError, ValueError, KeyError) as exc:
            raise NotAStore(f"tombstones document {doc_id}: {exc}") from exc
    heads: dict[str, ItemHead] = {}
    raw: dict[str, memoryview] = {}
    view, end = memoryview(data), len(data) - len(_END)
    for n, row in enumerate(rows, 1):
        try:
            head = head_of_row(row)
        except (TypeError, ValueError):
            return None  # the heads are an index: rebuilt from the items, which are read whole
        doc_at = pos + len(b'"%d":' % n)
        stop = data.find(_NL, pos, end + 1)
        if (stop < 0 or not data.startswith(b'"%d":' % n, pos)
                or not data.startswith(b'{"id":' + orjson.dumps(head.id), doc_at)):
            return None  # the heads do not describe these items: read them whole
        raw[head.id] = view[doc_at:stop - 1 if data[stop - 1] == 0x2C else stop]  # "," between documents
        heads[head.id] = head
        pos = stop + 1
    if pos != end:
        return None  # more items than heads
    return meta, tombstones, ItemTable(heads=heads, raw=raw, where=where, damaged=damaged)
