"""The items file, one document per line, and the items it holds, decoded on demand.

A run needs every stored item's identity keys, time, topics and sources (to match new
entries, pick what to publish, apply retention) but the full text of only a few: the
ones it changes and the ones it publishes. Decoding 100k items into records took 2 s
of a 10 s warm poll at N = 2000, and the whole-file parse tree briefly held 3x the
file in memory (issue 8). So the items file is written one TinyDB document per line::

    {"meta":{"1":{"schema_version":3,"saved_at":"..."}},
    "tombstones":{"1":{"key":"...","at":"..."},"2":{...}},
    "items":{
    "1":{"id":"...","keys":[...],"title":"...",...},
    "2":{...}
    }}

which is the same JSON (whitespace between tokens means nothing to JSON, so TinyDB
and any JSON tool still read it whole), and :func:`read_lines` reads it line by line:
each item line is parsed once for its :class:`ItemHead` and kept as bytes.
:class:`ItemTable` decodes an item at its first access, and saves an untouched item
by writing its line back as it was: no decoding, no encoding. orjson never writes a
raw newline inside a string, so a line is always one whole document.

A file in any other layout (older stores, hand edits) is not an error: the caller
parses it whole and the next save writes the lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import orjson

from .records import Item
from .similarity import TOKENS_VERSION, title_tokens
from .storeformat import _DATES, NotAStore, _dt, decoder

_HEAD = b'{"meta":{"1":'
_TOMBSTONES = b'"tombstones":{'
_ITEMS = b'"items":{'
_END = b"}}\n"
_NL = b"\n"


@dataclass(frozen=True, slots=True)
class ItemHead:
    """What a run needs of every stored item without decoding it.

    The attribute names are Item's, so code that only reads these (selection,
    retention, counts, dedup's key index) takes heads and items alike.
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


_memo = _DATES.get


def head_from_doc(doc: Any) -> ItemHead:
    """The head of a stored item document; TypeError/ValueError/KeyError name what is wrong.

    As strict as the full decoder on these fields (runs once per stored item per run,
    so the checks are inlined): it too leaves the elements of string lists unchecked.
    """
    if type(doc) is not dict:
        raise TypeError(f"expected an object, got {type(doc).__name__}")
    item_id, title, keys, topics = doc["id"], doc["title"], doc.get("keys") or [], doc.get("topics") or []
    if type(item_id) is not str or not item_id:
        raise ValueError("item id is empty" if item_id == "" else "Item.id is not a string")
    if type(title) is not str or type(keys) is not list or type(topics) is not list:
        raise TypeError("Item.title is not a string, or Item.keys or Item.topics is not a list")
    sources = doc.get("sources") or []
    if type(sources) is not list:
        raise TypeError("Item.sources is not a list")
    urls = [s["feed_url"] for s in sources]  # TypeError if a source is not an object
    if len(urls) > 1:
        urls = list(dict.fromkeys(urls))
    for url in urls:
        if type(url) is not str:
            raise TypeError("SourceRef.feed_url is not a string")
    p, u, f = doc.get("published"), doc.get("updated"), doc.get("first_seen")
    tokens = doc.get("_t")
    return ItemHead(item_id, tuple(keys), title,
                    p if p is None else _memo(p) or _dt(p), u if u is None else _memo(u) or _dt(u),
                    f if f is None else _memo(f) or _dt(f), tuple(topics), tuple(urls),
                    tokens if type(tokens) is str else None)


class ItemTable(MutableMapping[str, Item]):
    """Item.id -> Item, decoded at first access from the line it was read from.

    ``heads()`` is a live view of every item's :class:`ItemHead`, without decoding;
    ``documents()`` yields each item's JSON document for the save, the unchanged ones
    as the very bytes they were read from. Built from records (``ItemTable(items)``),
    it is a plain mapping with heads.
    """

    def __init__(self, items: Mapping[str, Item] | None = None, *,
                 lines: Mapping[str, tuple[ItemHead, memoryview]] | None = None,
                 where: str = "items"):
        self._heads: dict[str, ItemHead] = {}
        self._raw: dict[str, memoryview] = {}  # as read; dropped once an item is replaced
        self._items: dict[str, Item] = {}  # decoded or assigned
        self._where = where
        for item_id, (head, raw) in (lines or {}).items():
            self._heads[item_id], self._raw[item_id] = head, raw
        for item in (items or {}).values():
            self[item.id] = item

    def __getitem__(self, item_id: str) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            raw = self._raw[item_id]  # KeyError: no such item
        try:
            item = decoder(Item)(orjson.loads(raw))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # read whole at load: a bit flipped since
            raise NotAStore(f"{self._where}: item {item_id}: {exc}") from exc
        self._items[item_id] = item
        return item

    def __setitem__(self, item_id: str, item: Item) -> None:
        self._items[item_id] = item
        self._heads[item_id] = head_of(item)
        self._raw.pop(item_id, None)

    def __delitem__(self, item_id: str) -> None:
        del self._heads[item_id]
        self._items.pop(item_id, None)
        self._raw.pop(item_id, None)

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

    def documents(self, encode: Callable[[Any], bytes]) -> Iterator[bytes | memoryview]:
        """Each item's JSON document, in order: its line as read, or *encode* of the record
        with its title tokens in ``_t`` (an index hint the record decoder ignores)."""
        raw, items = self._raw, self._items
        for item_id in self._heads:
            doc = raw.get(item_id)
            if doc is None:
                item = items[item_id]
                tokens = " ".join(sorted(title_tokens(item.title)))
                doc = encode(item)[:-1] + b',"_t":' + encode(tokens) + b"}"
            yield doc


# ----------------------------------------------------------------------------- the layout


def write_lines(meta: dict[str, Any], tombstones: Mapping[str, datetime],
                documents: Iterator[bytes | memoryview], dumps: Callable[[Any], bytes]
                ) -> Iterator[bytes | memoryview]:
    """The items file in the line layout, as chunks to write in order."""
    yield _HEAD + dumps({**meta, "title_tokens": TOKENS_VERSION}) + b"},\n"
    yield _TOMBSTONES
    yield b",".join(b'"%d":' % n + dumps({"key": k, "at": at})
                    for n, (k, at) in enumerate(tombstones.items(), 1))
    yield b"},\n" + _ITEMS + _NL
    n = 0
    for doc in documents:
        n += 1
        yield (b',\n"%d":' if n > 1 else b'"%d":') % n
        yield doc
    yield (_NL if n else b"") + _END


def is_line_layout(data: bytes) -> bool:
    return data.startswith(_HEAD) and data.endswith(_END)


def read_lines(data: bytes, where: str = "items"
               ) -> tuple[dict[str, Any], dict[str, datetime], ItemTable] | None:
    """(meta, tombstones, items) of an items file in the line layout; None if it is in another.

    Every item line is parsed (its head checked); a line that is not a valid item
    raises NotAStore naming its document number.
    """
    if not is_line_layout(data):
        return None
    view = memoryview(data)
    meta_end = data.find(b"},\n", len(_HEAD))
    tomb_at = meta_end + 3
    items_at = data.find(b"},\n" + _ITEMS + _NL, tomb_at)
    if meta_end < 0 or items_at < 0 or not data.startswith(_TOMBSTONES, tomb_at):
        return None
    try:
        meta = orjson.loads(view[len(_HEAD):meta_end])
        tombs = orjson.loads(view[tomb_at + len(_TOMBSTONES) - 1:items_at + 1])
    except orjson.JSONDecodeError:
        return None  # not ours after all: let the whole-file parser say what is wrong
    if type(meta) is not dict or type(tombs) is not dict or meta.get("title_tokens") != TOKENS_VERSION:
        return None  # another layout, or tokens of another version: parsed whole, written anew
    tombstones = {}
    for doc_id, doc in tombs.items():
        try:
            key = doc["key"]
            if type(key) is not str:
                raise TypeError(f"tombstone key {key!r:.40} is not a string")
            tombstones[key] = _dt(doc["at"])
        except (TypeError, ValueError, KeyError) as exc:
            raise NotAStore(f"tombstones document {doc_id}: {exc}") from exc
    lines: dict[str, tuple[ItemHead, memoryview]] = {}
    pos, end = items_at + len(b"},\n" + _ITEMS + _NL), len(data) - len(_END)
    while pos < end:
        stop = data.find(_NL, pos, end + 1)
        if stop < 0:
            return None
        colon = data.find(b'":', pos, stop)
        line_end = stop - 1 if data[stop - 1] == 0x2C else stop  # "," between documents
        if data[pos] != 0x22 or colon < 0:
            return None
        doc_id = data[pos + 1:colon].decode("ascii", "replace")
        raw = view[colon + 2:line_end]
        try:
            head = head_from_doc(orjson.loads(raw))
        except (TypeError, ValueError, KeyError) as exc:
            raise NotAStore(f"items document {doc_id}: {exc}") from exc
        lines[head.id] = (head, raw)
        pos = stop + 1
    return meta, tombstones, ItemTable(lines=lines, where=where)
