"""The PostgreSQL store's items in memory: every head, the whole items fetched on demand.

:class:`PgItems` is to the database what ``lines.ItemTable`` is to the items file: a
mapping Item.id -> Item whose ``heads()`` (id, keys, title, dates, topics, feed_urls,
title tokens) are all in memory, loaded in one query, while an item's whole record is
fetched from the database at its first access (or in one query for many, ``prefetch``).
It remembers what the run changed since the last commit (``pending``) and the ``seq``
of each row it knows, so a write can check that nobody changed the row meanwhile.

The codecs between records and rows are here too: the same JSON documents as the
TinyDB store (``format.decoder``), the head columns beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from ..records import FeedState, Item
from .files import _dumps
from .format import _DATES, decoder
from .table import HeadsMapping, ItemHead, head_of, tokens_of

HEAD_COLUMNS = "id, seq, keys, title, tokens, published, updated, first_seen, topics, feed_urls"
BATCH = 1000  # items per query when many are read at once


def head_of_row(row: tuple) -> tuple[ItemHead, int]:
    """(head, seq) of a row of HEAD_COLUMNS."""
    item_id, seq, keys, title, tokens, published, updated, first_seen, topics, feeds = row
    return ItemHead(item_id, tuple(keys), title, published, updated, first_seen, tuple(topics),
                    tuple(feeds), tokens), seq


def encode(record: Any) -> str:
    """A record as the JSON text of its ``doc`` column (the TinyDB store's document)."""
    return _dumps(record).decode("utf-8")


def decode_item(doc: str | bytes) -> Item:
    try:
        return decoder(Item)(orjson.loads(doc))
    finally:
        _DATES.clear()


def decode_feed(doc: str | bytes) -> FeedState:
    try:
        return decoder(FeedState)(orjson.loads(doc))
    finally:
        _DATES.clear()


def item_row(item: Item, seq: int) -> tuple:
    """The values of one items row, in INSERT order (see ``pgwrite``)."""
    return (item.id, seq, item.title, tokens_of(item.title), item.published, item.updated, item.first_seen,
            list(item.keys), list(item.topics), list(item.feed_urls), encode(item))


class PgItems(HeadsMapping):
    """Item.id -> Item over the database's items: heads in memory, records fetched on demand.

    *fetch(ids)* reads whole items ({id: Item}); a row that does not decode raises
    there (the store's StoreCorrupt, naming the item).
    """

    def __init__(self, heads: dict[str, ItemHead], seqs: dict[str, int],
                 fetch: Callable[[list[str]], dict[str, Item]]):
        self._heads, self._seqs, self._fetch = heads, seqs, fetch
        self._items: dict[str, Item] = {}  # fetched or assigned
        self._dirty: dict[str, None] = {}  # set since the last commit (an ordered set)
        self._deleted: set[str] = set()  # stored rows deleted since the last commit

    # -- the mapping

    def __getitem__(self, item_id: str) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            if item_id not in self._heads:
                raise
        self.prefetch([item_id])
        return self._items[item_id]

    def __setitem__(self, item_id: str, item: Item) -> None:
        self._items[item_id] = item
        self._heads[item_id] = head_of(item)
        self._dirty[item_id] = None

    def __delitem__(self, item_id: str) -> None:
        del self._heads[item_id]
        self._items.pop(item_id, None)
        self._dirty.pop(item_id, None)
        if item_id in self._seqs:
            self._deleted.add(item_id)

    def prefetch(self, ids: Iterable[str]) -> None:
        """Read the items of *ids* not in memory yet, BATCH to a query."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._items and i in self._heads]
        for start in range(0, len(wanted), BATCH):
            self._items.update(self._fetch(wanted[start:start + BATCH]))

    def values(self) -> Iterator[Item]:  # type: ignore[override]
        """Every item, read BATCH at a time, without keeping those it had not read."""
        ids = list(self._heads)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            missing = [i for i in chunk if i not in self._items]
            fetched = self._fetch(missing) if missing else {}
            for item_id in chunk:
                found = self._items.get(item_id) or fetched.get(item_id)
                if found is not None:
                    yield found

    def items(self) -> Iterator[tuple[str, Item]]:  # type: ignore[override]
        for item in self.values():
            yield item.id, item

    # -- what the store reads and writes

    def seq(self, item_id: str) -> int | None:
        """The seq of the row this item was read from or last written as (None: not stored yet)."""
        return self._seqs.get(item_id)

    def pending(self) -> tuple[list[Item], list[str]]:
        """(items set, ids deleted) since the last commit."""
        return [self._items[i] for i in self._dirty], sorted(self._deleted)

    def committed(self, seqs: Mapping[str, int], deleted: Iterable[str]) -> None:
        """The pending changes are stored: these rows now have these seqs."""
        self._seqs.update(seqs)
        for item_id in deleted:
            self._seqs.pop(item_id, None)
        self._dirty.clear()
        self._deleted.clear()

    def dirty(self, item_id: str) -> bool:
        return item_id in self._dirty or item_id in self._deleted

    def absorb(self, head: ItemHead, seq: int) -> None:
        """Another writer stored this item (its head and seq): forget the record held."""
        self._heads[head.id], self._seqs[head.id] = head, seq
        self._items.pop(head.id, None)

    def drop(self, item_id: str) -> ItemHead | None:
        """Another writer removed this item; its head as it was (None: not known here)."""
        self._items.pop(item_id, None)
        self._seqs.pop(item_id, None)
        return self._heads.pop(item_id, None)

