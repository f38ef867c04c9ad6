"""What every published format shows: the selection of items per topic, their times,
the URLs of the output files, and the cleaned, sanitised text of each item.

Pure functions of (config, snapshot, now). The RSS/Atom (``publish``), JSON Feed
(``jsonfeed``) and site (``site``) renderers all read these views, so the three
formats agree on every id, date and link.

Time rules (documented decisions):

* An item's published time is ``Item.date`` capped at ``first_seen`` (a story cannot
  have been published after we first saw it: future dates are source clock or
  time-zone errors) and at ``now``. Capping at ``first_seen`` keeps the output a pure
  function of the snapshot, so repeated runs write the same bytes. An item with no date
  at all gets ``FALLBACK_TIME``.
* Sorting is newest first by that time, ties broken by ``Item.id``.
* A feed's updated time is its newest entry's updated time; an empty topic uses the
  newest time of "all", and an empty store ``FALLBACK_TIME`` (2000-01-01, not 1970:
  the W3C validator flags dates before 1990 as implausible). Never the run time.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from .credits import also_reported
from ..records import Config, Enclosure, FeedState, Item, Match, Merge, Settings, Topic, utc
from ..text import clean_link, clean_text, one_line, plain_text, safe_uri, sanitize_html

ALL = "all"
FALLBACK_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
FORMATS = ("rss", "atom", "json")
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
HEADLINES = 5  # latest items index.html lists per topic
ITEM_ID_PREFIX = "urn:aggregator:item:"
SOURCE_ID_PREFIX = "urn:aggregator:source:"
# RFC 2141 NSS characters (what the W3C validator's URN check accepts), minus '%'.
_URN_SAFE = "()+,.:=@;$_!*'-"
# Markup in a title (an HTML end tag or entity): published as its plain text, since feed
# titles are text and the validator warns on HTML in them.
_LOOKS_HTML = re.compile(r"</[a-zA-Z][a-zA-Z0-9]*\s*>|&#?\w+;")
_URI_ID = re.compile(r"^(?:urn:[a-z0-9][a-z0-9-]{1,31}:|tag:)[^\s<>\"{}|\\^`]+$", re.I)


@dataclass(frozen=True)
class SourceView:
    """One source credited for an item, with what its FeedState knows about the feed."""

    feed_url: str | None  # the source feed, http(s) only (None for file:// sources)
    feed_id: str  # a valid URI: the feed's own id, its URL, or a urn derived from its key
    name: str  # configured name, else the feed's title, else its URL
    feed_title: str
    feed_link: str | None  # the source's web site
    entry_link: str | None  # this item in that source
    updated: datetime
    title: str = ""  # the headline that source gave it (merged reports keep theirs)


@dataclass(frozen=True)
class ItemView:
    item: Item
    id: str  # urn:aggregator:item:<Item.id>, stable for the item's life
    title: str
    link: str | None
    summary_html: str
    content_html: str
    published: datetime
    updated: datetime  # >= published
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # the sources' own categories, cleaned, de-duplicated
    topics: tuple[str, ...]
    enclosures: tuple[Enclosure, ...]  # absolute http(s) URLs only
    sources: tuple[SourceView, ...]
    reasons: tuple[Match, ...]
    merges: tuple[Merge, ...]


@dataclass(frozen=True)
class TopicView:
    slug: str
    title: str
    description: str
    updated: datetime
    items: tuple[ItemView, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def headlines(self) -> tuple[ItemView, ...]:
        return self.items[:HEADLINES]


@dataclass(frozen=True)
class TopicSummary:
    """What index.html and feeds.opml show of a topic: no per-item rendering beyond
    the headlines, so a publish that renders no feed stays cheap. Same attributes as
    the TopicView it summarises (count, headlines, updated…)."""

    slug: str
    title: str
    description: str
    updated: datetime
    count: int
    headlines: tuple[ItemView, ...]


def file_url(settings: Settings, name: str) -> str:
    """Absolute URL of an output file (base_url always ends with '/')."""
    base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
    return base + quote(name)


def feed_name(slug: str, fmt: str) -> str:
    return f"{slug}.{fmt}"


def site_url(settings: Settings) -> str:
    return file_url(settings, "index.html")


def slugs(config: Config) -> list[str]:
    """Every published slug, config order, "all" last (unless a topic is called "all")."""
    out = [t.slug for t in config.topics]
    return out if ALL in out else out + [ALL]


def topic_title(config: Config, slug: str) -> str:
    t = config.topic(slug)
    site = one_line(config.settings.title) or "aggregator"
    if slug == ALL and t is None:
        return f"{site}: all items"
    return one_line(t.title if t and t.title else slug) or slug


def topic_description(config: Config, slug: str) -> str:
    t = config.topic(slug)
    if t and t.description:
        return one_line(t.description, 4_000)
    return f"Items of {topic_title(config, slug)}" if slug != ALL else "Every item, newest first"


def _utc(dt: datetime | None) -> datetime | None:
    # The store hands out UTC datetimes: skip records.utc's conversion for those (hot path).
    return dt if dt is None or dt.tzinfo is timezone.utc else utc(dt)


def item_time(item: Item, now: datetime) -> datetime:
    """Published time: Item.date capped at first_seen and now; FALLBACK_TIME if undated."""
    d = _utc(item.date)
    if d is None:
        return FALLBACK_TIME
    cap = min(_utc(item.first_seen), now) if item.first_seen else now
    return min(d, cap)


def item_updated(item: Item, published: datetime, now: datetime) -> datetime:
    """Updated time: Item.updated capped at now, never before *published*."""
    return max(published, min(_utc(item.updated), now)) if item.updated else published


_Keyed = list[tuple[tuple[float, str], Item]]  # ((-timestamp, id), item)


def _keyed(items: Iterable[Item], now: datetime) -> _Keyed:
    """(sort key, item) for each item: newest first by item_time, ties by id.

    item_time inlined (this loop runs over the whole store on every publish); the
    select tests check it against item_time itself.
    """
    fallback = -FALLBACK_TIME.timestamp()
    out = []
    add = out.append
    for i in items:
        d = i.published or i.updated or i.first_seen
        if d is None:
            add(((fallback, i.id), i))
            continue
        if d.tzinfo is not timezone.utc:
            d = utc(d)
        f = i.first_seen
        if f is not None:
            if f.tzinfo is not timezone.utc:
                f = utc(f)
            if f < d:
                d = f
        if now < d:
            d = now
        add(((-d.timestamp(), i.id), i))
    return out


def select(config: Config, items: Iterable[Item], now: datetime) -> dict[str, list[Item]]:
    """slug (and "all") -> its items, newest first, cut to max_items and max_age_days.

    *items* may be the store's ItemHeads (``Snapshot.heads()``): only id, dates and
    topics are read, and what comes back is what went in.

    Newest first by item_time, ties by Item.id. One pass sorts the items into their
    topics; each slug then takes its top N (heapq.nsmallest, stable: the same answer as
    sorting everything) instead of sorting the whole store.
    """
    now = utc(now)
    settings = config.settings
    keyed = _keyed(items, now)
    pools: dict[str, _Keyed] = {s: [] for s in slugs(config) if s != ALL or config.topic(s)}
    for k in keyed:
        for t in k[1].topics:
            pool = pools.get(t)
            if pool is not None and (not pool or pool[-1] is not k):  # a slug listed twice
                pool.append(k)
    first = itemgetter(0)
    out: dict[str, list[Item]] = {}
    for slug in slugs(config):
        topic: Topic | None = config.topic(slug)
        limit = topic.max_items if topic and topic.max_items is not None else settings.max_items
        pool: Iterable[tuple[tuple[float, str], Item]] = pools.get(slug, keyed)
        if topic and topic.max_age_days is not None:
            # Keys hold minus the timestamp: items older than the cutoff have larger keys.
            cutoff = -(now - timedelta(days=topic.max_age_days)).timestamp()
            pool = (k for k in pool if k[0][0] <= cutoff)
        out[slug] = [i for _, i in heapq.nsmallest(max(limit, 0), pool, key=first)]
    return out


def uri_id(value: str | None) -> str | None:
    """*value* if it is usable as an Atom id (http(s) URI, urn:, tag:), else None."""
    if not value:
        return None
    value = clean_text(value, 2_000).strip()
    if _URI_ID.match(value):
        return value
    return safe_uri(value)


def item_id(item: Item) -> str:
    return ITEM_ID_PREFIX + quote(clean_text(item.id, 1_000), safe=_URN_SAFE)


def source_view(ref, feeds: Mapping[str, FeedState], fallback_time: datetime,
                now: datetime, *, uri: Callable[[str | None], str | None] = safe_uri) -> SourceView:
    state = feeds.get(ref.feed_url)
    feed_url = uri(state.current_url if state and state.current_url else ref.feed_url)
    feed_title = one_line(ref.feed_title or (state.title if state else "") or "")
    digest = hashlib.sha256(ref.feed_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    feed_id = (uri_id(state.feed_id if state else None) or feed_url
               or SOURCE_ID_PREFIX + digest)
    updated = utc(state.updated) if state and state.updated else fallback_time
    return SourceView(
        feed_url=feed_url,
        feed_id=feed_id,
        name=one_line(ref.name) or feed_title or one_line(ref.feed_url),
        feed_title=feed_title,
        feed_link=uri(ref.feed_link or (state.link if state else None)),
        entry_link=clean_link(uri(ref.link)),
        updated=min(updated, now),
        title=one_line(ref.title),
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for v in values:
        v = one_line(v, 200)
        if v and v.lower() not in seen:
            seen[v.lower()] = v
    return tuple(seen.values())


def _title(raw: str) -> str:
    """A feed title: one line of text, markup reduced to its text, "(untitled)" if empty."""
    title = one_line(raw)
    if _LOOKS_HTML.search(title):
        title = one_line(plain_text(title))
    return title or "(untitled)"


def memo_uri() -> Callable[[str | None], str | None]:
    """safe_uri remembered for one publish: feed URLs and links repeat across items."""
    seen: dict[str | None, str | None] = {}

    def uri(value: str | None) -> str | None:
        try:
            return seen[value]
        except KeyError:
            seen[value] = out = safe_uri(value)
            return out

    return uri


display_title = _title


def item_view(item: Item, feeds: Mapping[str, FeedState], now: datetime, *,
              uri: Callable[[str | None], str | None] = safe_uri) -> ItemView:
    published = item_time(item, now)
    updated = item_updated(item, published, now)
    original = uri(item.link) or uri(item.canonical_url)
    link = clean_link(original)  # published without tracking parameters and fragment; the store keeps the original
    base = original or next((u for u in (uri(s.link) for s in item.sources) if u), None)
    # Sanitised again here (defence in depth): relative links resolve against the item.
    summary = sanitize_html(item.summary, base=base)
    # Many feeds repeat the summary as content: sanitise that HTML once.
    content = summary if item.content == item.summary else sanitize_html(item.content, base=base)
    enclosures = []
    for enc in item.enclosures:
        url = safe_uri(enc.url, base)
        if url and url not in {e.url for e in enclosures}:
            kind = one_line(enc.type, 200)
            if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", kind):
                kind = "application/octet-stream"
            length = enc.length if isinstance(enc.length, int) and enc.length >= 0 else None
            enclosures.append(Enclosure(url=url, type=kind, length=length))
    sources = tuple(source_view(r, feeds, published, now, uri=uri) for r in item.sources)
    also = also_reported(link, one_line(item.title), sources[1:]) if len(sources) > 1 else ""
    if also:  # every outlet of a merged story, visible in any reader (see credits)
        same, summary = content == summary, summary + also
        content = summary if same else content + also if content else ""
    return ItemView(
        item=item,
        id=item_id(item),
        title=_title(item.title),
        link=link,
        summary_html=summary,
        content_html=content,
        published=published,
        updated=updated,
        authors=_unique(item.authors),
        categories=_unique(item.categories),
        topics=tuple(t for t in item.topics),
        enclosures=tuple(enclosures),
        sources=sources,
        reasons=item.reasons,
        merges=item.merges,
    )


def topic_views(config: Config, items: Mapping[str, Item], feeds: Mapping[str, FeedState],
                now: datetime) -> dict[str, TopicView]:
    """Every slug's view, rendered once per item (an item in many topics is built once)."""
    now = utc(now)
    return build_views(config, select(config, items.values(), now), feeds, now)  # type: ignore[return-value]


def newest(items: Iterable[Any], now: datetime) -> datetime | None:
    """The latest updated time of *items* (items or their heads: their dates are all it reads)."""
    return max((item_updated(i, item_time(i, now), now) for i in items), default=None)


def build_views(config: Config, chosen: Mapping[str, Sequence[Item]],
                feeds: Mapping[str, FeedState], now: datetime,
                full: Iterable[str] | None = None) -> dict[str, TopicView | TopicSummary]:
    """slug -> TopicView for the slugs in *full* (None: every slug), TopicSummary for the rest.

    *chosen* is select()'s answer. A summary renders only its headlines, so index.html
    and feeds.opml cost little when no feed is re-rendered; both kinds give the same
    count, updated time and headlines. Each item is rendered once, whatever its topics.
    """
    now = utc(now)
    full = set(chosen) if full is None else set(full)
    cache: dict[str, ItemView] = {}
    uri = memo_uri()

    def view(item: Item) -> ItemView:
        try:
            return cache[item.id]
        except KeyError:
            cache[item.id] = v = item_view(item, feeds, now, uri=uri)
            return v

    newest_all = newest(chosen.get(ALL, ()), now) or FALLBACK_TIME
    out: dict[str, TopicView | TopicSummary] = {}
    for slug, items in chosen.items():
        title, description = topic_title(config, slug), topic_description(config, slug)
        updated = newest(items, now) or newest_all
        if slug in full:
            out[slug] = TopicView(slug=slug, title=title, description=description,
                                  updated=updated, items=tuple(view(i) for i in items))
        else:
            out[slug] = TopicSummary(slug=slug, title=title, description=description,
                                     updated=updated, count=len(items),
                                     headlines=tuple(view(i) for i in items[:HEADLINES]))
    return out


def rfc3339(dt: datetime) -> str:
    """2024-05-01T12:00:00Z (UTC, whole seconds: stable bytes, valid RFC 3339)."""
    return utc(dt).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
