"""Entry -> Item: stable identity, canonical links, updates in place, merges across sources.

Pure: no I/O, the clock comes in as ``now``. Identity keys (strings, stored in
``Item.keys`` and in the store's tombstones):

    guid:<source> <guid>        the entry's id within its source (first choice)
    link:<source> <canonical>   within its source, when it has no guid
    hash:<source> <sha1>        of title + date (+ summary), when it has neither
    url:<canonical, no scheme>  across sources: the same link from any feed

The first key an entry ever had names its item for good (``Item.id``). An entry of a
feed that matches no key, yet has the title and text of an item that feed published
within ``window_hours`` of it, is that item under a new guid and link (``_renamed``):
it gets the new keys and keeps the old ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, MutableMapping

from ..records import Entry, Item, Merge, NearDupSettings, SourceRef, utc
from ..text import plain_text
from .stories import StoryMatcher, Verdict, index_terms
from .urls import canonical_url, url_key
from .wording import Profile, profile

STATUSES = ("new", "updated", "unchanged", "merged", "tombstoned")


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _hash_key(entry: Entry, source_key: str) -> str:
    when = utc(entry.published or entry.updated)
    basis = entry.title.casefold().strip() or entry.summary.strip()
    return f"hash:{source_key} " + _sha1(f"{basis}\0{when.isoformat() if when else ''}")


def identity_keys(entry: Entry, source_key: str) -> tuple[str, ...]:
    """The entry's within-source key (guid, else link, else title+date hash), then its url key."""
    return _identity_keys(entry, source_key, canonical_url(entry.link))


def _identity_keys(entry: Entry, source_key: str, canon: str | None) -> tuple[str, ...]:
    guid = (entry.guid or "").strip()
    if guid:
        keys = [f"guid:{source_key} {guid}"]
    elif canon:
        keys = [f"link:{source_key} {canon}"]
    else:
        keys = [_hash_key(entry, source_key)]
    if canon:
        keys.append(url_key(canon))
    return tuple(keys)


def content_hash(entry: Entry) -> str:
    """sha256 of what a reader sees of an entry; a change means the item is updated."""
    return _content_hash(entry, canonical_url(entry.link))


def _content_hash(entry: Entry, canon: str | None) -> str:
    parts = [entry.title, canon or "", entry.summary, entry.content,
             "\x1f".join(entry.categories), "\x1f".join(e.url for e in entry.enclosures)]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


SUMMARY_CHARS = 320  # of the summary the story matcher reads: its lede, a sentence or two


def _profile(title: str, html: str, link: str | None) -> Profile:
    return profile(title, plain_text(html, limit=4_000)[:SUMMARY_CHARS], link)


def _text(*fragments: str) -> tuple[str, ...]:
    """The words of HTML fragments, markup aside: relative links in a summary resolve against
    the entry's link, so the same text moved to a new address differs in its HTML."""
    return tuple(plain_text(f) if f else "" for f in fragments)


def _earliest(*dates: datetime | None) -> datetime | None:
    known = [d for d in dates if d is not None]
    return min(known) if known else None


class ItemIndex:
    """Every stored item, indexed once per run for O(1) identity lookups and near-duplicate search.

    ``upsert`` folds one entry in and returns ``(item, status)``; ``items`` holds the result.
    """

    def __init__(self, items: MutableMapping[str, Item], tombstones: Mapping[str, datetime],
                 settings: NearDupSettings = NearDupSettings()):
        # Updated in place: a store's ItemTable decodes only the items this run touches.
        self.items = items
        self.tombstones = tombstones
        self.settings = settings
        # Item.id -> id, keys, title, date, feed_urls of every item (ItemHeads, or the Items).
        heads = getattr(items, "heads", None)
        self._heads: Mapping[str, Any] = heads() if heads is not None else items
        self.before: dict[str, Item | None] = {}  # the items this run changed, as they were (None: new)
        self._by_key: dict[str, str] = {}
        self._profiles: dict[str, Profile] = {}  # item id -> its text as the story matcher reads it
        self._near = StoryMatcher(settings, self._profile_of, self._title_of, self._feeds_of,
                                  lambda i: self.items[i].apart)
        # (item id, source) -> (own key, url key of the link) of the entry of that source that touched
        # the item this run: spots a feed giving several entries one guid, or several guids one
        # link, in one document. Per source: another feed's entry merged in is no such thing.
        self._touched: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._by_title: dict[str, list[str]] | None = None  # title -> item ids, for _renamed (built lazily)
        by_key = self._by_key
        for head in self._heads.values():
            for key in head.keys:
                by_key.setdefault(key, head.id)
            if settings.enabled:  # tokenised only if a near-duplicate lookup reaches its time
                self._near.defer(head.id, head.date)

    # ------------------------------------------------------------------ indexes

    def refresh(self, changed: Iterable[str], removed: Mapping[str, Iterable[str]] = {}) -> None:
        """Learn what another writer (a poller sharing the store) changed in the items mapping
        since this index was built: the items of *changed* were added or updated there,
        those of *removed* (id -> its identity keys) deleted. A key keeps naming the item
        it named, unless that item is gone."""
        by_key, heads = self._by_key, self._heads
        for item_id, keys in removed.items():
            for key in keys:
                if by_key.get(key) == item_id:
                    del by_key[key]
            self._profiles.pop(item_id, None)
        for item_id in changed:
            head = heads.get(item_id)
            if head is None:
                continue
            for key in head.keys:
                if by_key.get(key) not in heads:
                    by_key[key] = item_id
            self._profiles.pop(item_id, None)  # its text may have changed
            if self.settings.enabled:
                self._near.add(item_id, self._title_of(item_id)[0], head.date)

    def _index(self, item: Item, before: Item | None, tokens: frozenset[str] | None = None) -> None:
        for key in item.keys:
            self._by_key.setdefault(key, item.id)
        if self._by_title is not None and (before is None or before.title != item.title):
            self._by_title.setdefault(item.title, []).append(item.id)
        if not self.settings.enabled:
            return
        if before is None or (before.title, before.summary, before.content) != (item.title, item.summary,
                                                                                 item.content):
            self._profiles.pop(item.id, None)
        if before is None or before.title != item.title or before.date != item.date:
            self._near.add(item.id, index_terms(item.title) if tokens is None else tokens, item.date)

    def _title_of(self, item_id: str) -> tuple[frozenset[str] | str, datetime | None]:
        head = self._heads.get(item_id)
        if head is None:  # removed by another writer since it was deferred: nothing to index
            return frozenset(), None
        # Kept by the store (space-separated): no tokenising 100k titles a run, and the candidate
        # index splits them itself (it makes sets of only the few it compares).
        stored = getattr(head, "tokens", None)
        return (index_terms(head.title) if stored is None else stored), head.date

    def _feeds_of(self, item_id: str) -> tuple[str, ...] | None:
        head = self._heads.get(item_id)
        return None if head is None else head.feed_urls  # None: removed by another writer

    def _profile_of(self, item_id: str) -> Profile:
        found = self._profiles.get(item_id)
        if found is None:
            item = self.items[item_id]
            found = self._profiles[item_id] = _profile(item.title, item.summary or item.content, item.link)
        return found

    def _put(self, item: Item, tokens: frozenset[str] | None = None) -> Item:
        before = self.items.get(item.id)
        self.before.setdefault(item.id, before)
        self.items[item.id] = item
        self._index(item, before, tokens)
        return item

    def lookup(self, key: str) -> Item | None:
        item_id = self._by_key.get(key)
        return self.items.get(item_id) if item_id else None

    # ------------------------------------------------------------------ upsert

    def upsert(self, entry: Entry, ref: SourceRef, now: datetime) -> tuple[Item | None, str]:
        """Fold *entry*, seen in the source *ref* at *now*, into the index."""
        canon = canonical_url(entry.link)
        keys = _identity_keys(entry, ref.feed_url, canon)
        link, guid, seen = ref.link or entry.link, ref.guid or entry.guid, ref.seen or now
        if (link, guid, seen) != (ref.link, ref.guid, ref.seen):  # replace() costs ~5 µs
            ref = dataclasses.replace(ref, link=link, guid=guid, seen=seen)
        item = self.lookup(keys[0])
        if item is not None and keys[0].startswith("guid:") and not self._guid_trusted(item, canon, ref):
            # One guid on several different links: let the link tell the entries apart.
            item, keys = None, _identity_keys(dataclasses.replace(entry, guid=None), ref.feed_url, canon)
        if item is None and canon:
            item = self.lookup(url_key(canon))
            if item is not None and not self._link_trusted(item, ref, keys[0]):
                item = None
        if item is None and (renamed := self._renamed(entry, ref)) is not None:
            return self._rename(renamed, entry, ref, keys, canon, now), "updated"
        if item is not None:
            self._touched.setdefault((item.id, ref.feed_url), (keys[0], canon and url_key(canon)))
            return self._existing(item, entry, ref, keys, canon, now)
        if any(k in self.tombstones for k in keys):
            return None, "tombstoned"
        tokens = None
        read: list[Profile] = []  # the entry as the matcher reads it, once a candidate needs it

        def report() -> Profile:
            if not read:
                read.append(_profile(entry.title, entry.summary or entry.content, entry.link))
            return read[0]
        if self.settings.enabled:
            tokens = index_terms(entry.title)
            near = self._near_duplicate(entry, report, tokens, ref, keys, now)
            if near is not None:
                other, verdict = near
                self._near.joined(other.id, report())
                return self._credit(other, ref, keys, entry, Merge(keys[0], verdict.reason(other.id), now)), \
                    "merged"
        item = self._put(self._new_item(entry, ref, keys, canon, now), tokens)
        if read:  # read for a comparison: keep it for the next one
            self._profiles[item.id] = read[0]
        self._touched[(item.id, ref.feed_url)] = (keys[0], canon and url_key(canon))
        return item, "new"

    # ------------------------------------------------------------------ a guid and link changed

    def _renamed(self, entry: Entry, ref: SourceRef) -> Item | None:
        """The item this feed published before with the same title and text (markup aside),
        dated within ``window_hours``, that no entry of this feed claimed this run: the same
        entry under a new guid and link (a CMS migration). Within one feed only (across feeds,
        similarity.py decides); a title alone ("Daily briefing") is no fingerprint; and two
        entries of one document stay two items."""
        if not entry.title or not (entry.summary or entry.content):
            return None
        if self._by_title is None:  # built at the first entry that is new by every key
            self._by_title = {}
            for head in self._heads.values():
                self._by_title.setdefault(head.title, []).append(head.id)
        candidates = self._by_title.get(entry.title)
        if not candidates:  # nearly always: the text is looked at only past this point
            return None
        text, when = _text(entry.summary, entry.content), utc(entry.published or entry.updated)
        window = self.settings.window_hours * 3600
        for item_id in candidates:
            head = self._heads.get(item_id)
            if (head is None or head.title != entry.title or ref.feed_url not in head.feed_urls
                    or (item_id, ref.feed_url) in self._touched):
                continue
            then = utc(head.published or head.updated)
            if (when is None) != (then is None) or (when and abs((when - then).total_seconds()) > window):
                continue
            item = self.items[item_id]
            if _text(item.summary, item.content) == text:
                return item
        return None

    def _rename(self, item: Item, entry: Entry, ref: SourceRef, keys: tuple[str, ...], canon: str | None,
                now: datetime) -> Item:
        """*item* under *entry*'s new guid and link too: its old keys stay, so either finds it."""
        new_keys = tuple(k for k in keys if k not in self._by_key)
        fields = {}
        if item.sources[0].feed_url == ref.feed_url:  # only the first source's text is kept
            fields = self._fields(entry, canon)
            fields["published"] = _earliest(item.published, fields["published"])
        sources = tuple(ref if s.feed_url == ref.feed_url else s for s in item.sources)
        merge = Merge(keys[0], "same title and text as before in this feed: its guid and link changed", now)
        self._touched[(item.id, ref.feed_url)] = (keys[0], canon and url_key(canon))
        return self._put(dataclasses.replace(item, keys=item.keys + new_keys, sources=sources,
                                             merges=item.merges + (merge,), **fields))

    def _guid_trusted(self, item: Item, canon: str | None, ref: SourceRef) -> bool:
        """False when the guid's item is not this entry's link: the feed reuses guids."""
        if not canon:
            return True
        link = url_key(canon)
        if self.lookup(link) not in (None, item):
            return False  # the link names another known item
        touched = self._touched.get((item.id, ref.feed_url))
        return touched is None or touched[1] in (None, link)

    def _link_trusted(self, item: Item, ref: SourceRef, own_key: str) -> bool:
        """False when another entry of this source, with another key, took this link this run."""
        if all(s.feed_url != ref.feed_url for s in item.sources):
            return True  # another source's item: a cross-source merge
        touched = self._touched.get((item.id, ref.feed_url))
        return touched is None or touched[0] == own_key

    def _existing(self, item: Item, entry: Entry, ref: SourceRef, keys: tuple[str, ...],
                  canon: str | None, now: datetime) -> tuple[Item, str]:
        if all(s.feed_url != ref.feed_url for s in item.sources):
            reason = f"same canonical link {canon}" if canon else "same identity"
            return self._credit(item, ref, keys, entry, Merge(keys[0], reason, now)), "merged"
        new_keys = tuple(k for k in keys if k not in self._by_key)
        digest = _content_hash(entry, canon)
        # Only the first source's text is kept, so two sources never take turns rewriting it.
        if item.sources[0].feed_url != ref.feed_url or digest == item.content_hash:
            if new_keys:
                return self._put(dataclasses.replace(item, keys=item.keys + new_keys)), "unchanged"
            return item, "unchanged"
        fields = self._fields(entry, canon)
        fields.update(published=_earliest(item.published, fields["published"]),
                      canonical_url=canon or item.canonical_url, link=entry.link or item.link)
        updated = dataclasses.replace(item, keys=item.keys + new_keys, **fields)
        return self._put(updated), "updated"

    def _credit(self, item: Item, ref: SourceRef, keys: tuple[str, ...], entry: Entry,
                merge: Merge) -> Item:
        new_keys = tuple(k for k in keys if k not in self._by_key)
        if entry.title and not ref.title:  # each outlet's own headline, for the feeds and explain
            ref = dataclasses.replace(ref, title=entry.title)
        return self._put(dataclasses.replace(
            item, keys=item.keys + new_keys, sources=item.sources + (ref,),
            merges=item.merges + (merge,), published=_earliest(item.published, entry.published),
            updated=max(d for d in (item.updated, merge.at) if d is not None) if merge.at else item.updated,
        ))

    def _near_duplicate(self, entry: Entry, report: Callable[[], Profile], tokens: frozenset[str], ref: SourceRef,
                        keys: tuple[str, ...], now: datetime) -> tuple[Item, Verdict] | None:
        """The stored item telling the same story as *entry*, and why (see dedup.stories)."""
        when = utc(entry.published or entry.updated) or now
        found = self._near.best(report, tokens, when, ref.feed_url, keys)
        return (self.items[found[0]], found[1]) if found else None

    @staticmethod
    def _fields(entry: Entry, canon: str | None) -> dict:
        return dict(
            canonical_url=canon, link=entry.link, title=entry.title, summary=entry.summary,
            content=entry.content, published=utc(entry.published), updated=utc(entry.updated),
            authors=entry.authors, categories=entry.categories, enclosures=entry.enclosures,
            content_hash=_content_hash(entry, canon),
        )

    def _new_item(self, entry: Entry, ref: SourceRef, keys: tuple[str, ...], canon: str | None,
                  now: datetime) -> Item:
        free = [k for k in keys if k not in self._by_key] or list(keys)
        item_id = _sha1(free[0])
        n = 1
        while item_id in self.items:  # only if a key was reused after its item went away
            n += 1
            item_id = _sha1(f"{free[0]}#{n}")
        return Item(id=item_id, keys=tuple(free), first_seen=now, sources=(ref,),
                    **self._fields(entry, canon))
