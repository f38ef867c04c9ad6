"""Records passed between the stages: small frozen dataclasses named for their role.

    config ─► Config(Settings, Topic…, Source…)
    fetch  ─► FetchResult            (one per polled Source)
    parse  ─► ParsedFeed(Entry…)
    dedup  ─► Item                   (new or merged; SourceRef credits each source)
    tag    ─► Item with topics and Match reasons
    store  ─► Snapshot(items, feeds: FeedState, tombstones)
    publish◄─ Snapshot + Config

What a run reports back to its caller (RunReport, FeedOutcome, PublishReport) is in
:mod:`aggregator.reports`.

Times are timezone-aware UTC ``datetime``s everywhere. The store turns them into
JSON and back (``store.format``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping


def utc(dt: datetime | None) -> datetime | None:
    """Return *dt* as an aware UTC datetime (naive ones are taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class NearDupSettings:
    """Thresholds for grouping the same story published under different links."""

    enabled: bool = True
    title_similarity: float = 0.9  # ignored since 0.3 (the near-verbatim rule); accepted in feeds.yaml
    text_similarity: float = 0.7  # ignored since 0.3
    window_hours: float = 72.0  # reports further apart are never compared (dedup.paraphrase.needed)
    min_score: float = 0.55  # the share of each headline's rare words the other report must have


@dataclass(frozen=True)
class Settings:
    config_path: Path
    store: Path | str  # the TinyDB items file, or a postgresql:// URL (store.open_store)
    output_dir: Path
    base_url: str = "http://localhost:8000/"
    title: str = "aggregator"
    max_items: int = 100
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    max_body_bytes: int = 10_000_000
    max_redirects: int = 10
    user_agent: str = ""  # empty: the default built from the version (fetch.default_user_agent)
    min_interval: int = 300  # seconds
    max_interval: int = 86_400
    default_interval: int = 3_600
    max_backoff: int = 86_400
    retry_after_cap: int = 86_400
    redirect_confirmations: int = 3  # consecutive polls before a permanent redirect is adopted
    retention_days: int | None = None
    max_items_per_source: int | None = None
    lock_timeout: float = 0.0  # seconds to wait for another run's lock; 0 = fail at once
    parse_workers: int = 0  # 0 = one per CPU this process may use (processes.usable_cpus)
    websub_hub: str | None = None
    near_duplicates: NearDupSettings = NearDupSettings()


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    max_items: int | None = None  # overrides settings.max_items
    max_age_days: float | None = None
    line: int = 0  # line in feeds.yaml, for error messages


@dataclass(frozen=True)
class Source:
    """One feed of the config. ``key`` (the configured URL, or ``file://`` path) is its identity."""

    url: str  # http(s) URL, or file:// URL for a ``path:`` source
    name: str = ""
    tags: tuple[str, ...] = ()  # topic slugs every item of this source gets
    categories: tuple[tuple[str, str], ...] = ()  # (feed category, topic slug), case-insensitive
    interval: int | None = None  # seconds; None = adaptive
    path: Path | None = None  # set for local-file sources
    line: int = 0

    @property
    def key(self) -> str:
        return self.url


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    topics: tuple[Topic, ...]
    sources: tuple[Source, ...]

    def topic(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)


# ----------------------------------------------------------------------------- fetch


@dataclass(frozen=True)
class FeedState:
    """Per-feed HTTP and schedule state, kept in the store between runs."""

    url: str  # Source.key
    current_url: str | None = None  # after an adopted permanent redirect
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 of the last body parsed
    last_status: int | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    next_poll: datetime | None = None
    interval: int | None = None  # the last interval chosen, seconds
    redirect_target: str | None = None  # a permanent redirect seen but not yet adopted
    redirect_count: int = 0  # consecutive polls that saw redirect_target
    gone: bool = False  # 410: not polled again until ``feeds reset`` (or ``feeds add`` again)
    title: str | None = None  # the feed's own title, link and id, for attribution
    link: str | None = None
    feed_id: str | None = None
    updated: datetime | None = None  # newest entry time seen in the feed
    item_hashes: tuple[str, ...] = ()  # fingerprints of the raw items of the last parsed body
    # A server's wish (429/503 with Retry-After, to this feed or another on its host): no run,
    # forced or not, asks before deferred_until. Cleared by the next real answer.
    deferred_until: datetime | None = None
    deferred_reason: str | None = None  # "host answered 429"
    deferred_host: str | None = None  # the host that asked: every feed on it waits
    deferred_since: datetime | None = None  # when this deferral began: one health entry per episode

    def deferred_at(self, now: datetime) -> bool:
        """Whether a server's Retry-After still holds at *now*."""
        return self.deferred_until is not None and utc(now) < utc(self.deferred_until)


@dataclass(frozen=True)
class FetchResult:
    """What one poll of one source produced. ``error`` is set iff the poll failed."""

    source: Source
    requested_url: str
    final_url: str
    status: int | None = None  # HTTP status of the final response; None if none arrived
    body: bytes | None = None  # None on 304 and on errors
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    etag: str | None = None
    last_modified: str | None = None
    permanent_redirect: str | None = None  # target if every hop was 301/308
    retry_after: datetime | None = None
    max_age: int | None = None  # Cache-Control max-age, seconds
    error: Exception | None = None  # an errors.FetchError
    elapsed: float = 0.0
    deferred: bool = False  # not requested: its host asked us to wait
    deferred_by: int | None = None  # with deferred: the status its host answered (429, 503)
    declined: bool = False  # not requested: the run's admit() said no (another poller has it)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# ----------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True)
class Entry:
    """One entry of a parsed feed, cleaned: UTC dates, absolute links, text without controls."""

    guid: str | None
    link: str | None
    title: str
    summary: str = ""  # HTML, sanitised
    content: str = ""  # HTML, sanitised
    published: datetime | None = None
    updated: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True)
class ParsedFeed:
    url: str  # Source.key
    title: str = ""
    link: str | None = None
    feed_id: str | None = None
    updated: datetime | None = None
    entries: tuple[Entry, ...] = ()
    bozo: str | None = None  # feedparser's complaint, if it had one but still found entries
    item_hashes: tuple[str, ...] = ()  # fingerprints of every raw item in the body, in order
    skipped: int = 0  # raw items left out of ``entries`` because their fingerprint was known
    format: str = ""  # what the body is, e.g. "RSS 2.0", "Atom 1.0", "JSON Feed 1.1" (parse.fields.format_name)
    # Per entry, the topic rules' reasons for its text, when a parser process worked them out
    # beside parsing (pipeline.prepare); () when not. Tagging then only looks them up.
    text_reasons: tuple[tuple["Match", ...], ...] = ()


# ----------------------------------------------------------------------------- dedup, tag, store


@dataclass(frozen=True)
class SourceRef:
    """Credit for one source that carried an item."""

    feed_url: str  # Source.key
    name: str = ""
    link: str | None = None  # the entry's link in that source
    guid: str | None = None
    feed_title: str = ""
    feed_link: str | None = None
    seen: datetime | None = None
    title: str = ""  # the entry's headline in that source (merged reports keep theirs)


@dataclass(frozen=True)
class Match:
    """Why an item is in a topic: which rule matched which words in which field."""

    topic: str
    rule: str  # "keyword" | "regex" | "require" | "tag" | "category"; "exclude" (tag.Verdict.blocked_by)
    pattern: str
    field: str  # "title" | "summary" | "content" | "categories" | "source"
    text: str  # the words that matched

    def explain(self) -> str:
        if self.rule in ("tag", "category"):
            return f"{self.rule} {self.pattern!r} of {self.field}"
        return f"matched {self.rule} {self.pattern!r} in {self.field} ({self.text!r})"


@dataclass(frozen=True)
class Merge:
    """Why another entry was folded into this item."""

    key: str  # the identity key of the merged entry
    reason: str  # e.g. "same canonical link", "near duplicate: title 0.93, text 0.81"
    at: datetime | None = None


@dataclass(frozen=True)
class Item:
    """A stored story. ``id`` is stable for its whole life and is the published id."""

    id: str
    keys: tuple[str, ...]  # every identity key that maps to this item
    canonical_url: str | None
    link: str | None
    title: str
    summary: str = ""
    content: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    first_seen: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    topics: tuple[str, ...] = ()
    reasons: tuple[Match, ...] = ()
    merges: tuple[Merge, ...] = ()
    content_hash: str = ""
    apart: tuple[str, ...] = ()  # identity keys an operator split off: never merged in again

    @property
    def date(self) -> datetime | None:
        """The time the item is sorted and published by."""
        return self.published or self.updated or self.first_seen

    @property
    def feed_urls(self) -> tuple[str, ...]:
        """The feeds that carry it, each once, first source first."""
        return tuple(dict.fromkeys(ref.feed_url for ref in self.sources))


class Snapshot:
    """The whole store in memory: loaded once per run, saved once per run.

    ``items`` (Item.id -> Item: a dict, or the store's ItemTable, which decodes items
    on demand) and ``tombstones`` (identity key -> pruned at) may be read on first access
    through *lazy*, a function the store passes: a poll where no feed changed never reads them. Assigning either one marks it
    loaded; ``items_loaded`` tells the store whether the items must be written back.
    ``feeds`` (Source.key -> FeedState) and ``meta`` are plain attributes.
    """

    def __init__(self, items: dict[str, Item] | None = None, feeds: dict[str, FeedState] | None = None,
                 tombstones: dict[str, datetime] | None = None, meta: dict[str, Any] | None = None,
                 *, lazy: Callable[[], tuple[dict[str, Item], dict[str, datetime]]] | None = None):
        self.feeds = {} if feeds is None else feeds
        self.meta = {} if meta is None else meta
        if lazy is None:  # built in memory: what is not given is empty, and loaded
            items, tombstones = ({} if items is None else items), ({} if tombstones is None else tombstones)
        self._items, self._tombstones, self._lazy = items, tombstones, lazy

    def _load(self) -> None:
        items, tombstones = self._lazy()  # raises (StoreCorrupt…) with nothing changed
        if self._items is None:
            self._items = items
        if self._tombstones is None:
            self._tombstones = tombstones
        self._lazy = None

    @property
    def items(self) -> dict[str, Item]:
        if self._items is None:
            self._load()
        return self._items

    @items.setter
    def items(self, value: dict[str, Item]) -> None:
        self._items = value

    @property
    def tombstones(self) -> dict[str, datetime]:
        if self._tombstones is None:
            self._load()
        return self._tombstones

    @tombstones.setter
    def tombstones(self, value: dict[str, datetime]) -> None:
        self._tombstones = value

    def heads(self) -> Mapping[str, Any]:
        """Item.id -> what every run needs of each item (id, keys, title, dates, topics,
        feed_urls) without decoding it: the store's ItemHeads, or the Items themselves."""
        heads = getattr(self.items, "heads", None)
        return heads() if heads is not None else self.items

    def prefetch(self, ids: Iterable[str]) -> None:
        """Read these items now, in one go, if the store's mapping can (a database: one query
        instead of one per item); otherwise nothing to do."""
        fetch = getattr(self.items, "prefetch", None)
        if fetch is not None:
            fetch(ids)

    @property
    def items_loaded(self) -> bool:
        """Whether the items or tombstones were read or assigned (and so may have changed)."""
        return self._items is not None or self._tombstones is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (self.feeds, self.meta, self.items, self.tombstones) == (
            other.feeds, other.meta, other.items, other.tombstones)

    __hash__ = None  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        items = f"{len(self._items)} items" if self._items is not None else "items not loaded"
        return f"<Snapshot {items}, {len(self.feeds)} feeds>"
