"""Manage the feeds of feeds.yaml: list, add (fetched once, with autodiscovery), remove,
OPML import and export.

The file is edited through :class:`aggregator.feedsfile.FeedsFile`: comments and
order survive, every edit is validated and written atomically.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from . import load as config
from ..fetch import discover
from ..errors import ConfigError, FetchError, ParseError
from .edit import FeedEntry, FeedsFile, check_tags, entry_of, feed_entries, find_duplicate, new_node
from ..records import FetchResult, ParsedFeed, Source

if TYPE_CHECKING:  # only fetch.py imports httpx at run time
    import httpx

Parser = Callable[..., ParsedFeed]


@dataclass(frozen=True)
class Added:
    """What ``add_feed`` added, and how it found it."""

    entry: FeedEntry
    title: str = ""  # the feed's own title
    entries: int = 0  # entries the feed carries now
    discovered_from: str | None = None  # the HTML page it was found on


# ----------------------------------------------------------------------------- public API


def list_feeds(path: Path | str) -> list[FeedEntry]:
    """The ``feeds:`` entries of *path*, in file order."""
    return feed_entries(FeedsFile(Path(path)))


def remove_feed(path: Path | str, url: str) -> FeedEntry:
    """Remove the entry for *url* (compared by :func:`normalize_url`); returns it. Raises ConfigError if absent."""
    doc = FeedsFile(Path(path))
    known = feed_entries(doc)
    hit = find_duplicate(known, url)
    if hit is None:
        raise ConfigError(f"no feed {url} in the config", doc.path)
    doc.remove(known.index(hit))
    doc.save()
    return hit


def add_feed(path: Path | str, url: str, name: str | None = None, tags: Iterable[str] = (), *,
             transport: httpx.AsyncBaseTransport | None = None, client: httpx.AsyncClient | None = None,
             parser: Parser | None = None, now: datetime | None = None) -> Added:
    """Fetch *url* once, make sure it is a feed (or an HTML page announcing one), and append it.

    Every request goes through :func:`aggregator.fetch.fetch_all` with the settings
    of *path* (timeout, max_body_bytes, max_redirects, user_agent), so adding a
    feed obeys the same limits as polling it. *transport* or *client* replace the
    network (tests). Runs its own event loop: call it from synchronous code.

    The feed's own title becomes the name unless *name* is given. Raises ConfigError
    for an invalid config, a duplicate or an unknown tag, FetchError when it cannot
    be fetched, and ParseError when neither it nor any feed it announces parses.
    """
    doc = FeedsFile(Path(path))
    settings = config.load(doc.path).settings  # validates the file before anything is fetched
    tags = check_tags(tags, doc.topic_slugs(), doc.path)
    known = feed_entries(doc)
    _refuse_duplicate(known, url, doc.path)
    from ..fetch import poll as fetch  # here, not at the top: list/remove/OPML need no HTTP stack

    if parser is None:
        from ..parse.feeds import parse as parser
    when = now or datetime.now(timezone.utc)

    async def get(target: str) -> FetchResult:
        [result] = await fetch.fetch_all([(Source(url=target), None)], settings, client=client,
                                         transport=transport, now=when)
        if result.error is not None:
            raise result.error  # already a one-line FetchError naming the URL
        if result.body is None:  # e.g. a 304 to an unconditional GET: nothing to check
            raise FetchError(target, f"no body to check (HTTP {result.status})")
        return result

    # One loop for every request, so an injected client is used from a single event loop.
    feed_url, parsed, page = asyncio.run(
        _resolve(get, url, parser, lambda link: _refuse_duplicate(known, link, doc.path)))
    title = parsed.title.strip()
    node = new_node(feed_url, name if name is not None else title, tags)
    doc.append(node)
    doc.save()
    entry = next((e for e in list_feeds(doc.path) if e.url == feed_url), entry_of(node, 0))
    return Added(entry=entry, title=title, entries=len(parsed.entries), discovered_from=page)


def _refuse_duplicate(entries: list[FeedEntry], url: str, path: Path) -> None:
    dup = find_duplicate(entries, url)
    if dup is not None:
        raise ConfigError(f"{url} is already in the config" + (f" as {dup.url}" if dup.url != url else ""),
                          path, dup.line or None)


def _parse(parser: Parser, resp: FetchResult, key: str) -> ParsedFeed:
    # The final URL, after redirects, is what relative links in the feed resolve against.
    return parser(resp.body, url=resp.final_url, headers=resp.headers, key=key)


async def _resolve(get: Callable[[str], Awaitable[FetchResult]], url: str, parser: Parser,
                   refuse: Callable[[str], None]) -> tuple[str, ParsedFeed, str | None]:
    """(feed URL, parsed feed, page it was discovered on or None).

    *refuse* raises for an announced feed that is already configured, before it is fetched.
    """
    resp = await get(url)
    body = resp.body or b""
    ctype = resp.headers.get("content-type", "")
    if not discover.looks_like_html(body, ctype):
        try:
            return url, _parse(parser, resp, url), None
        except ParseError as first:
            links = discover.find_feed_links(discover.decode_html(body, ctype), resp.final_url)
            if not links:
                raise first
    else:
        links = discover.find_feed_links(discover.decode_html(body, ctype), resp.final_url)
        if not links:
            raise ParseError(url, "an HTML page that announces no feed (no <link rel=\"alternate\" "
                                  "type=\"application/rss+xml\"> or Atom/JSON Feed link)")
    problems = []
    for link in links[:3]:  # the first is the site's main feed; a few fallbacks at most
        refuse(link.url)
        try:
            return link.url, _parse(parser, await get(link.url), link.url), url
        except (FetchError, ParseError) as e:
            problems.append(str(e))
    raise ParseError(url, "the feeds this page announces do not work: " + "; ".join(problems))


# ----------------------------------------------------------------------------- OPML


@dataclass(frozen=True)
class ImportReport:
    added: tuple[FeedEntry, ...] = ()
    duplicates: tuple[str, ...] = ()  # already in the config, or twice in the file
    invalid: tuple[str, ...] = ()  # xmlUrl values that are not http(s) URLs
    unmatched: tuple[str, ...] = ()  # categories/folders that name no topic: not kept

    def summary(self) -> str:
        text = f"{len(self.added)} feeds added, {len(self.duplicates)} already present"
        if self.invalid:
            text += f", {len(self.invalid)} invalid URLs skipped"
        if self.unmatched:
            text += "; categories that are not topics (ignored): " + ", ".join(self.unmatched)
        return text


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str = ""
    labels: tuple[str, ...] = ()  # category segments and parent outline titles, outermost first


def slugify(label: str) -> str:
    """``"Baltic Defence"`` -> ``"baltic-defence"``: how an OPML category is matched to a topic slug."""
    return "-".join(label.strip().lower().replace("_", " ").split())


def read_opml(data: bytes, source: str = "OPML") -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, with its categories and folder titles. Raises ConfigError."""
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise ConfigError("OPML with a DOCTYPE or entities is refused (entity expansion)", source)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ConfigError(f"not valid XML: {e}", source) from None
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise ConfigError("not an OPML file (no <opml><body>)", source)
    feeds: list[OpmlFeed] = []

    def walk(node: Any, parents: tuple[str, ...]) -> None:
        for out in node.findall("outline"):
            text = (out.get("title") or out.get("text") or "").strip()
            cats = []
            for cat in (out.get("category") or "").split(","):
                cats.extend(seg for seg in cat.strip().split("/") if seg.strip())
            url = (out.get("xmlUrl") or out.get("xmlurl") or "").strip()
            if url:
                feeds.append(OpmlFeed(url=url, name=" ".join(text.split()),
                                      labels=parents + tuple(c.strip() for c in cats)))
            walk(out, parents + ((text,) if text and not url else ()))

    walk(root.find("body"), ())
    return feeds


def import_opml(path: Path | str, opml_file: Path | str) -> ImportReport:
    """Append every new feed of *opml_file*; categories and folders naming a topic become tags.

    Nothing is fetched (an OPML export can list hundreds of feeds); ``aggregator run``
    reports the ones that do not work. One atomic write for the whole import.
    """
    opml_file = Path(opml_file)
    try:
        data = opml_file.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read OPML: {e.strerror or e}", opml_file) from None
    feeds = read_opml(data, str(opml_file))
    doc = FeedsFile(Path(path))
    slugs = doc.topic_slugs()
    known = feed_entries(doc)
    added, dups, invalid, unmatched = [], [], [], []
    for f in feeds:
        parts = urlsplit(f.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            invalid.append(f.url)
            continue
        if find_duplicate(known + added, f.url):
            dups.append(f.url)
            continue
        tags = []
        for label in f.labels:
            slug = slugify(label)
            if slug in slugs:
                if slug not in tags:
                    tags.append(slug)
            elif label not in unmatched:
                unmatched.append(label)
        doc.append(new_node(f.url, f.name, tags))
        added.append(FeedEntry(url=f.url, name=f.name, tags=tuple(tags)))
    if added:
        doc.save()
    return ImportReport(tuple(added), tuple(dups), tuple(invalid), tuple(unmatched))


def export_opml(path: Path | str, *, now: Any = None, title: str | None = None) -> str:
    """OPML 2.0 listing the configured http(s) feeds, their tags as ``category``.

    Local ``path:`` feeds are left out: a file path means nothing to another reader.
    """
    import xml.etree.ElementTree as ET
    from email.utils import format_datetime

    doc = FeedsFile(Path(path))
    settings = doc.data.get("settings")
    if title is None:
        title = str(settings.get("title") or "") if isinstance(settings, Mapping) else ""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"{title or 'aggregator'}: source feeds"
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(timezone.utc), usegmt=True)
    body = ET.SubElement(root, "body")
    for e in feed_entries(doc):
        if e.local or not e.url:
            continue
        attrs = {"type": "rss", "text": e.name or e.url, "title": e.name or e.url, "xmlUrl": e.url}
        if e.tags:
            attrs["category"] = ",".join(e.tags)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
