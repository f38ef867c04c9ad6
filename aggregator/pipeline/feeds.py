"""``aggregator feeds add``: fetch a URL once through the poller's client and limits, find the
feed (autodiscovery when it is an HTML page), check that it parses, then append it to feeds.yaml
under the file's edit lock (checked again there: the fetch happens without holding it).

It spans three stages (fetch, parse, config), which is why it lives in the pipeline and
not in ``config``: the config stage edits the file and never touches the network.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

from .. import config
from ..config import FeedEntry, FeedsFile, check_tags, entry_of, feed_entries, find_duplicate, list_feeds, new_node
from ..errors import ConfigError, FetchError, ParseError
from ..fetch import discover, fetch_all
from ..parse import parse as parse_feed
from ..records import FetchResult, ParsedFeed, Source

Parser = Callable[..., ParsedFeed]


@dataclass(frozen=True)
class Added:
    """What ``add_feed`` added, and how it found it."""

    entry: FeedEntry
    title: str = ""  # the feed's own title
    entries: int = 0  # entries the feed carries now
    discovered_from: str | None = None  # the HTML page it was found on


def add_feed(path: Path | str, url: str, name: str | None = None, tags: Iterable[str] = (), *,
             transport: Any = None, client: Any = None,
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
    parser = parser or parse_feed
    when = now or datetime.now(timezone.utc)

    async def get(target: str) -> FetchResult:
        [result] = await fetch_all([(Source(url=target), None)], settings, client=client,
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
    # The fetch is done outside the edit lock (it can take seconds); under it, the file is read
    # again and checked again, since another command may have edited it meanwhile.
    with config.editing(doc.path, f"feeds add {url}") as doc:
        tags = check_tags(tags, doc.topic_slugs(), doc.path)
        known = feed_entries(doc)
        for candidate in dict.fromkeys((url, feed_url)):
            _refuse_duplicate(known, candidate, doc.path)
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
