"""Entry -> Item: stable identity, canonical links, updates in place, merges across sources.

Pure: no I/O, the clock comes in as ``now``. Identity keys (strings, stored in
``Item.keys`` and in the store's tombstones):

    guid:<source> <guid>        the entry's id within its source (first choice)
    link:<source> <canonical>   within its source, when it has no guid
    hash:<source> <sha1>        of title + date (+ summary), when it has neither
    url:<canonical, no scheme>  across sources: the same link from any feed

The first key an entry ever had names its item for good (``Item.id``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from datetime import datetime
from typing import Any, Iterable, Mapping, MutableMapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from ..records import Entry, Item, Merge, NearDupSettings, SourceRef, utc
from .similarity import NearDupIndex, Shingles, Verdict, text_shingles, title_tokens
from ..text import safe_uri

# Query parameters that only say who sent the reader, never which page it is.
TRACKING_PARAMS = frozenset("""
fbclid gclid dclid gbraid wbraid msclkid mc_cid mc_eid yclid igshid ref ref_src ref_url
_ga _gl _hsenc _hsmi mkt_tok ocid cmpid at_medium at_campaign at_custom1 at_custom2
at_custom3 at_custom4 spm smid sr_share twclid ttclid li_fat_id s_cid xtor
""".split())
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)

STATUSES = ("new", "updated", "unchanged", "merged", "tombstoned")


def _tracking(name: str) -> bool:
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


# safe_uri's output when it needs none of w3lib's work: lower-case ASCII host, a path and
# query of unreserved characters only (no percent-escapes to normalise, no dot segments
# to resolve). tests/test_dedup.py checks that both paths agree on such URLs.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SIMPLE_URL = re.compile(rf"(https?)://((?:{_LABEL}\.)*{_LABEL}\.?)(?::([0-9]{{1,5}}))?"
                         r"(/[A-Za-z0-9._~/-]*)?(?:\?([A-Za-z0-9._~=&-]*))?(?:#.*)?", re.ASCII | re.DOTALL)


_SAFE_URI_LIMIT = 8_000  # safe_uri cuts a URL there


def _w3lib_parts(url: str) -> tuple[str, str, int | None, str, str] | None:
    try:
        parts = urlsplit(canonicalize_url(url))  # percent-encoding normalised, dot segments resolved
        return parts.scheme.lower(), parts.hostname or "", parts.port, parts.path, parts.query
    except ValueError:
        return None


def _simple_parts(url: str) -> tuple[str, str, int | None, str, str] | None:
    m = _SIMPLE_URL.fullmatch(url)
    if m is None or "/." in (m[4] or ""):
        return None
    port = int(m[3]) if m[3] else None
    if port is not None and port > 65535:
        return None
    return m[1], m[2], port, m[4] or "", m[5] or ""


@functools.lru_cache(maxsize=1 << 16)
def canonical_url(url: str | None) -> str | None:
    """The form of *url* used to match the same page across feeds, or None if it is not http(s).

    Lower-case scheme and host, no default port, userinfo or fragment, no tracking
    parameters, plain AMP variants folded into the page (``/amp/`` segment, trailing
    ``/amp``, ``.amp`` suffix, ``amp=1``), sorted query, no trailing slash but on the root.
    """
    # Most feed links are plain enough to skip safe_uri and w3lib (~20 µs): safe_uri would
    # leave such a link as it is, but for its fragment, which is dropped anyway.
    parts = _simple_parts(url) if url and len(url) <= _SAFE_URI_LIMIT else None
    if parts is None:
        url = safe_uri(url)
        if url is None:
            return None
        parts = _simple_parts(url) or _w3lib_parts(url)
    return _assemble(*parts) if parts else None


def _assemble(scheme: str, host: str, port: int | None, path: str, query: str) -> str | None:
    host = host.rstrip(".")
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if "amp" in path.lower():
        segments = [s for s in path.split("/") if s.lower() != "amp"]
        path = _AMP_SUFFIX.sub("", "/".join(segments))
    path = path.rstrip("/") or "/"
    if query:
        query = urlencode(sorted(
            (k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if not _tracking(k) and not (k.lower() == "amp" and v.lower() in ("", "1", "true"))))
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(canonical: str) -> str:
    """The cross-source key of a canonical URL: http and https and a leading www. count the same."""
    rest = canonical.split("://", 1)[-1]
    return "url:" + (rest[4:] if rest.startswith("www.") else rest)


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
        self._shingles: dict[str, Shingles] = {}  # item id -> text shingles, built once
        self._near = NearDupIndex(settings, self._text_of, self._title_of)
        # (item id, source) -> (own key, url key of the link) of the entry of that source that touched
        # the item this run: spots a feed giving several entries one guid, or several guids one
        # link, in one document. Per source: another feed's entry merged in is no such thing.
        self._touched: dict[tuple[str, str], tuple[str, str | None]] = {}
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
            self._shingles.pop(item_id, None)
        for item_id in changed:
            head = heads.get(item_id)
            if head is None:
                continue
            for key in head.keys:
                if by_key.get(key) not in heads:
                    by_key[key] = item_id
            self._shingles.pop(item_id, None)  # its text may have changed
            if self.settings.enabled:
                self._near.add(item_id, self._title_of(item_id)[0], head.date)

    def _index(self, item: Item, before: Item | None, tokens: frozenset[str] | None = None) -> None:
        for key in item.keys:
            self._by_key.setdefault(key, item.id)
        if not self.settings.enabled:
            return
        if before is None or (before.title, before.summary, before.content) != (item.title, item.summary,
                                                                                 item.content):
            self._shingles.pop(item.id, None)
        if before is None or before.title != item.title or before.date != item.date:
            self._near.add(item.id, title_tokens(item.title) if tokens is None else tokens, item.date)

    def _title_of(self, item_id: str) -> tuple[frozenset[str], datetime | None]:
        head = self._heads.get(item_id)
        if head is None:  # removed by another writer since it was deferred: nothing to index
            return frozenset(), None
        stored = getattr(head, "tokens", None)  # kept by the store: no tokenising 100k titles a run
        return (title_tokens(head.title) if stored is None else frozenset(stored.split())), head.date

    def _text_of(self, item_id: str) -> Shingles:
        found = self._shingles.get(item_id)
        if found is None:
            item = self.items[item_id]
            found = self._shingles[item_id] = text_shingles(item.title, item.summary or item.content)
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
        if item is not None:
            self._touched.setdefault((item.id, ref.feed_url), (keys[0], canon and url_key(canon)))
            return self._existing(item, entry, ref, keys, canon, now)
        if any(k in self.tombstones for k in keys):
            return None, "tombstoned"
        tokens = shingles = None
        if self.settings.enabled:
            tokens = title_tokens(entry.title)
            near, shingles = self._near_duplicate(entry, tokens, ref, now)
            if near is not None:
                other, verdict = near
                reason = verdict.reason(other.id)
                return self._credit(other, ref, keys, entry, Merge(keys[0], reason, now)), "merged"
        item = self._put(self._new_item(entry, ref, keys, canon, now), tokens)
        if shingles is not None:  # built for the comparison: keep them for the next one
            self._shingles[item.id] = shingles
        self._touched[(item.id, ref.feed_url)] = (keys[0], canon and url_key(canon))
        return item, "new"

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
        return self._put(dataclasses.replace(
            item, keys=item.keys + new_keys, sources=item.sources + (ref,),
            merges=item.merges + (merge,), published=_earliest(item.published, entry.published),
        ))

    def _near_duplicate(self, entry: Entry, tokens: frozenset[str], ref: SourceRef, now: datetime
                        ) -> tuple[tuple[Item, Verdict] | None, Shingles | None]:
        """The best near duplicate of *entry* from another source, and the entry's shingles if
        the search had to build them."""
        when = utc(entry.published or entry.updated) or now
        cache: list[Shingles] = []

        def text() -> Shingles:
            if not cache:
                cache.append(text_shingles(entry.title, entry.summary or entry.content))
            return cache[0]

        def other_source(item_id: str) -> bool:
            # Never fold two entries of one feed together: the feed says they differ.
            head = self._heads.get(item_id)  # None: removed by another writer
            return head is not None and ref.feed_url not in head.feed_urls

        found = self._near.best(tokens, when, text, other_source)
        return (self.items[found[0]], found[1]) if found else None, (cache[0] if cache else None)

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
