"""The items of a TinyDB store in memory: every item's head, and its document read and decoded on demand.

A run needs every stored item's identity keys, time, topics and sources (to match new
entries, pick what to publish, apply retention) but the full text of only a few: the
ones it changes and the ones it publishes. So :class:`ItemTable` holds an
:class:`ItemHead` per item (read from the items file's heads table) and, for the rest,
only where the item's document is (:class:`Docs`: a line of the items file or of the
journal, read from the file when asked, or from bytes already in memory). An item is
read and decoded at its first access; an untouched one is saved by writing its
document back as it was, without decoding it. The layout of the lines is in
:mod:`.lines`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import Any, Callable, NamedTuple

import orjson

from ..dedup import index_terms
from ..records import Item
from .format import _DATES, NotAStore, _dt, decoder


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


def heads_of_rows(rows: list[Any]) -> dict[str, ItemHead]:
    """The heads of rows this store wrote and a checksum vouches for: no checks per row
    (which cost as much as the rest of building them)."""
    when, make = _when, ItemHead._make
    return {r[0]: make((r[0], tuple(r[1]), r[2], when(r[3]), when(r[4]), when(r[5]), tuple(r[6]), tuple(r[7]),
                        r[8])) for r in rows}


def tokens_of(title: str) -> str:
    """A headline's index terms as the store keeps them: sorted, space-separated."""
    return " ".join(sorted(index_terms(title)))


def row_of(head: ItemHead) -> list[Any]:
    tokens = head.tokens if head.tokens is not None else tokens_of(head.title)
    return [head.id, head.keys, head.title, head.published, head.updated, head.first_seen,
            head.topics, head.feed_urls, tokens]


# ----------------------------------------------------------------------------- where documents are


class Docs:
    """The item lines of one file (the items file, or the journal), each found by its offset.

    Line *k* (0-based) spans ``[start + at[k], start + at[k + 1])`` and reads
    ``"k+1":{document},`` (no comma on the last). *data*: the file's bytes, when they are
    in memory already; else the open file *fd* is read line by line, at each access
    (``ahead``: in blocks, for a save that copies every line in order).
    """

    BLOCK = 1 << 20

    def __init__(self, at: list[int], start: int, *, data: Any = None, fd: int | None = None,
                 where: str = "items", damaged: Callable[[str], Exception] = NotAStore):
        self.at, self.start, self.where, self.damaged = at, start, where, damaged
        self._data = memoryview(data) if data is not None else None
        self._fd = fd
        if fd is not None:  # closed with the last table that reads from it
            weakref.finalize(self, os.close, fd)
        self._block: bytes = b""
        self._block_at = 0

    def __len__(self) -> int:
        return len(self.at) - 1

    def length(self, k: int) -> int:
        """The length of document *k*, from the offsets alone."""
        return self.at[k + 1] - self.at[k] - len(b'"%d":' % (k + 1)) - (1 if k == len(self.at) - 2 else 2)

    def _read(self, begin: int, size: int, ahead: bool) -> bytes | memoryview:
        if self._data is not None:
            return self._data[begin:begin + size]
        block = self._block
        if self._block_at <= begin and begin + size <= self._block_at + len(block):
            offset = begin - self._block_at
            return memoryview(block)[offset:offset + size]
        if not ahead:
            return os.pread(self._fd, size, begin)
        self._block, self._block_at = os.pread(self._fd, max(size, self.BLOCK), begin), begin
        return memoryview(self._block)[:size]

    def doc(self, k: int, item_id: str, ahead: bool = False) -> bytes | memoryview:
        """Item *k*'s document, its line's framing and id checked (``damaged`` if they are not
        as the index says: the file was changed behind the store's back)."""
        begin = self.start + self.at[k]
        try:
            line = self._read(begin, self.at[k + 1] - self.at[k], ahead)
        except OSError as exc:
            raise self.damaged(f"{self.where}: item {item_id}: cannot read ({exc.strerror})") from exc
        number = b'"%d":' % (k + 1)
        head = number + b'{"id":' + orjson.dumps(item_id)
        tail = b"\n" if k == len(self.at) - 2 else b",\n"
        if line[:len(head)] != head or line[len(line) - len(tail) - 1:] != b"}" + tail:
            raise self.damaged(f"{self.where}: item {item_id}: its line is not where the heads index says")
        return line[len(number):len(line) - len(tail)]


class HeadsMapping(MutableMapping[str, Item]):
    """Items by id, known by their heads: which items there are, in what order, is the heads'
    (``_heads``), so membership and size never decode an item. The TinyDB table and the
    PostgreSQL one both are."""

    _heads: dict[str, ItemHead]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._heads

    def get(self, item_id: str, default: Any = None) -> Any:
        # Mapping.get raises and catches a KeyError for an id it lacks: every new item of a
        # cold poll is looked up before it is stored (100,000 exceptions at N = 2000).
        if item_id not in self._heads:
            return default
        try:
            return self[item_id]
        except KeyError:  # gone since (another writer of a database store)
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._heads)

    def __len__(self) -> int:
        return len(self._heads)

    def heads(self) -> Mapping[str, ItemHead]:
        return self._heads  # callers only read it (a MappingProxy would cost a call per lookup)


class ItemTable(HeadsMapping):
    """Item.id -> Item, decoded at first access from the document it was read from.

    A document that does not decode raises ``damaged(message)`` of its file (the store's
    StoreCorrupt). ``heads()`` is a live view of every item's :class:`ItemHead`, without
    decoding; ``documents()`` yields each item's JSON document for the save, the
    unchanged ones as the very bytes they were read from. Built from records
    (``ItemTable(items)``), it is a plain mapping with heads.

    Only the HOT items used last are kept as records. A record takes 4 KB, its document
    2.5 KB: a cold poll at N = 2000 held 57,000 records until its save. So an item changed
    this run and used by nothing since is kept encoded (what the save writes anyway), and
    decoded again if it is used again; one read and unchanged is simply let go.
    """

    HOT = 4096

    def __init__(self, items: Mapping[str, Item] | None = None, *,
                 heads: dict[str, ItemHead] | None = None, docs: Docs | None = None):
        if items:  # records someone holds anyway: encoding them as they cool would only add memory
            self.HOT = max(self.HOT, len(items))
        self._heads: dict[str, ItemHead] = heads if heads is not None else {}
        # Item.id -> (its file's lines, its line there), for the items not decoded nor replaced
        self._raw: dict[str, tuple[Docs, int]] = (
            {item_id: (docs, k) for k, item_id in enumerate(self._heads)} if docs is not None else {})
        self._items: dict[str, Item] = {}  # the records used last (HOT of them), oldest first
        self._changed: set[str] = set()  # ids in _items assigned since they were last encoded
        self._encoded: dict[str, bytes] = {}  # items changed this run, as their documents
        self._seen: set[str] = set()  # every id decoded or assigned
        # Since the base file (the lines given here) was written: what is not as it says,
        # in the journal or changed this run (an ordered set), and what of it is gone.
        self._base = frozenset(self._raw)
        self._recent: dict[str, None] = {}
        self._deleted: set[str] = set()
        self.generation: str | None = None  # of the items file it was read from (set by the store)
        for item in (items or {}).values():
            self[item.id] = item

    def apply_journal(self, journal: ItemTable, deleted: Iterable[str]) -> None:
        """Bring the base file's items up to date with a journal: its deletions, then its items."""
        for item_id in deleted:
            if item_id in self._heads:
                del self[item_id]
        for item_id, head in journal._heads.items():
            self._forget(item_id)
            self._heads[item_id], self._raw[item_id] = head, journal._raw[item_id]
            self._recent[item_id] = None

    def __getitem__(self, item_id: str) -> Item:
        items = self._items
        item = items.pop(item_id, None)
        if item is not None:
            items[item_id] = item  # the newest now
            return item
        encoded = self._encoded.get(item_id)
        if encoded is not None:  # our own encoding of a record: it decodes
            item = decoder(Item)(orjson.loads(encoded))
        else:
            docs, k = self._raw[item_id]  # KeyError: no such item
            doc = docs.doc(k, item_id)
            try:  # only its id was checked: this is where a damaged document shows
                item = decoder(Item)(orjson.loads(doc))
                if item.id != item_id:
                    raise ValueError(f"its document says id {item.id!r:.60}")
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise docs.damaged(f"{docs.where}: item {item_id}: {exc}") from exc
        items[item_id] = item
        self._seen.add(item_id)
        self._cool()
        return item

    def __setitem__(self, item_id: str, item: Item) -> None:
        self._items.pop(item_id, None)
        self._items[item_id] = item
        self._changed.add(item_id)
        self._encoded.pop(item_id, None)
        self._seen.add(item_id)
        self._heads[item_id] = head_of(item)
        self._raw.pop(item_id, None)
        self._recent[item_id] = None
        self._cool()

    def _cool(self) -> None:
        """Let the records used longest ago go, the changed ones kept encoded."""
        items = self._items
        while len(items) > self.HOT:
            item_id = next(iter(items))
            item = items.pop(item_id)
            if item_id in self._changed:
                self._changed.discard(item_id)
                # A copy: orjson's own bytes keep its buffer, three times their length.
                self._encoded[item_id] = bytes(memoryview(orjson.dumps(item)))

    def _forget(self, item_id: str) -> None:
        self._items.pop(item_id, None)
        self._changed.discard(item_id)
        self._encoded.pop(item_id, None)

    def __delitem__(self, item_id: str) -> None:
        del self._heads[item_id]
        self._forget(item_id)
        self._raw.pop(item_id, None)
        self._recent.pop(item_id, None)
        if item_id in self._base:
            self._deleted.add(item_id)

    @property
    def decoded(self) -> int:
        """How many items were decoded or assigned (the rest are still bytes)."""
        return len(self._seen)

    def sizes(self, encode: Callable[[Any], bytes], ids: Iterable[str] | None = None) -> list[int]:
        """The length of each document ``documents(encode, ids)`` yields, in the same order:
        from the offsets for the untouched ones (not read), by encoding the others."""
        raw, encoded, items = self._raw, self._encoded, self._items
        out = []
        for item_id in self._heads if ids is None else ids:
            found = raw.get(item_id)
            if found is not None:
                out.append(found[0].length(found[1]))
            else:
                doc = encoded.get(item_id)
                out.append(len(doc) if doc is not None else len(encode(items[item_id])))
        return out

    def documents(self, encode: Callable[[Any], bytes], ids: Iterable[str] | None = None
                  ) -> Iterator[bytes | memoryview]:
        """Each item's JSON document (of *ids*, else all, in order): its line as read (read in
        blocks, its framing checked), or *encode* of the record."""
        raw, encoded, items = self._raw, self._encoded, self._items
        for item_id in self._heads if ids is None else ids:
            found = raw.get(item_id)
            if found is not None:
                yield found[0].doc(found[1], item_id, ahead=True)
            else:
                doc = encoded.get(item_id)
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
