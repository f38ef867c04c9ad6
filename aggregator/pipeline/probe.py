"""``aggregator feeds probe``: fetch feeds once and say whether each one is fit to poll.

Every request goes through :func:`aggregator.fetch.fetch_all` with the settings of feeds.yaml
(client, User-Agent, timeout, size cap, redirects, overall and per-host limits), and every body
through the parser the poller uses, so a feed that probes ``ok`` is one the next run can read.
Nothing is stored: no feed state, no item, no file; a request carries no validators, so the
answer is the whole feed.

It spans fetch, parse and config (like ``feeds add``), so it lives in the pipeline. What one
probe saw is a record (``Seen``); the verdict is a pure function of it (``decide``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from ..config import normalize_url
from ..errors import FeedError
from ..fetch import discover, fetch_all, make_client
from ..parse import ParseJob, parse_many
from ..records import Config, Entry, FetchResult, ParsedFeed, Settings, Source
from ..text import plain_text

# The verdicts, from fine to worst for the address in feeds.yaml.
VERDICTS = ("ok", "moved", "failing", "blocked", "not a feed", "gone")
MAX_ANNOUNCED = 3  # feeds of an HTML page tried in turn, as ``feeds add`` does: the first is the main one


@dataclass(frozen=True)
class FeedFacts:
    """What the parser found in a body that is a feed."""

    format: str  # "RSS 2.0", "Atom 1.0", "JSON Feed 1.1"…
    items: int
    newest: datetime | None = None  # the newest item's date (published, else updated)
    with_summary: int = 0  # items whose summary or content says more than their title

    @property
    def carries(self) -> str:
        """"summaries", "title only", "some summaries" or "no items"."""
        if not self.items:
            return "no items"
        if self.with_summary == self.items:
            return "summaries"
        return "title only" if not self.with_summary else "some summaries"


@dataclass(frozen=True)
class Seen:
    """Everything one probe of one address saw, before any judgement."""

    url: str  # the address probed: as configured, or as named on the command line
    name: str = ""
    status: int | None = None  # HTTP status of the last answer; None when none came
    final_url: str = ""  # after redirects ("" or url: none)
    permanent: bool = False  # every redirect was 301/308
    error: str | None = None  # why the fetch failed, one line
    html: bool = False  # the body is an HTML page
    feed: FeedFacts | None = None  # the body parsed as a feed
    not_feed: str | None = None  # why the body is not a feed
    announced: str | None = None  # the feed an HTML page announces (the first that works, else the first)
    announced_feed: FeedFacts | None = None  # what that announced feed holds, when it works
    announced_error: str | None = None  # why it does not

    @property
    def redirected(self) -> bool:
        return bool(self.final_url) and self.final_url != self.url


@dataclass(frozen=True)
class Verdict:
    kind: str  # one of VERDICTS
    reason: str = ""  # one line: what is wrong, and what to do
    use: str | None = None  # the address to put in feeds.yaml, when one is known


@dataclass(frozen=True)
class Probe:
    seen: Seen
    verdict: Verdict


def decide(seen: Seen) -> Verdict:
    """The verdict on one probed address. Pure: the table in tests/pipeline/test_probe.py.

    The status decides first (410 gone, 401/403 blocked, whatever the redirects), then a fetch
    error (failing), then the body: a feed is ok where it was asked for and moved when every
    redirect to it was permanent (a temporary one keeps the address); anything else is not a
    feed, and an HTML page names the feed it announces if that one works.
    """
    if seen.status == 410:
        return Verdict("gone", "the publisher removed it (HTTP 410): drop it from feeds.yaml or find its new address")
    if seen.status in (401, 403):
        return Verdict("blocked", f"{seen.error or f'HTTP {seen.status}'}: the server refuses this client")
    if seen.error is not None:
        return Verdict("failing", seen.error)
    if seen.feed is not None:
        if seen.redirected and seen.permanent:
            return Verdict("moved", f"put {seen.final_url} in feeds.yaml", use=seen.final_url)
        return Verdict("ok")
    what = "an HTML page" if seen.html else "not RSS, Atom or JSON Feed"
    if seen.announced and seen.announced_feed is not None:
        facts = seen.announced_feed
        return Verdict("not a feed", f"{what} that announces {seen.announced} ({facts.format}, {facts.items} "
                                     f"items): put that in feeds.yaml", use=seen.announced)
    if seen.announced:
        return Verdict("not a feed", f"{what} that announces {seen.announced}, which does not work either "
                                     f"({seen.announced_error})")
    if seen.html:
        return Verdict("not a feed", "an HTML page that announces no feed")
    return Verdict("not a feed", seen.not_feed or what)


def facts_of(parsed: ParsedFeed) -> FeedFacts:
    dates = [d for d in (e.published or e.updated for e in parsed.entries) if d is not None]
    return FeedFacts(format=parsed.format or "unknown format", items=len(parsed.entries),
                     newest=max(dates, default=None), with_summary=sum(map(says_more, parsed.entries)))


def says_more(entry: Entry) -> bool:
    """Whether an entry carries text beyond its title (a summary that repeats the title does not)."""
    text = plain_text(entry.summary or entry.content, 2_000)
    return bool(text) and text.casefold() != entry.title.casefold()


def sources_to_probe(config: Config, urls: Iterable[str] = ()) -> list[Source]:
    """The configured feeds, in config order; or the *urls* named, each as configured if it is."""
    urls = list(urls)
    if not urls:
        return list(config.sources)
    known = {normalize_url(s.url): s for s in config.sources}
    return [known.get(normalize_url(u)) or Source(url=u) for u in urls]


def probe_feeds(config: Config, urls: Iterable[str] = (), *, transport: Any = None, client: Any = None,
                now: datetime | None = None, on_start: Callable[[int], None] | None = None,
                on_result: Callable[[FetchResult], None] | None = None) -> list[Probe]:
    """Probe every configured feed (or the *urls* named); one Probe each, in that order.

    *transport* or *client* replace the network (tests); *on_start(total)* and *on_result*
    drive a progress bar. Runs its own event loop: call it from synchronous code.
    """
    sources = sources_to_probe(config, urls)
    if on_start is not None:
        on_start(len(sources))
    when = now or datetime.now(timezone.utc)
    seen = asyncio.run(_probe_all(sources, config.settings, transport, client, when, on_result))
    return [Probe(s, decide(s)) for s in seen]


async def _probe_all(sources: Sequence[Source], settings: Settings, transport: Any, client: Any,
                     now: datetime, on_result: Callable[[FetchResult], None] | None) -> list[Seen]:
    own = make_client(settings, transport) if client is None else None
    http = client or own

    async def fetch(batch: Sequence[Source], report: Callable[[FetchResult], None] | None = None
                    ) -> list[FetchResult]:
        return await fetch_all([(s, None) for s in batch], settings, client=http, now=now, on_result=report)

    try:
        results = await fetch(sources, on_result)
        seen = [_fetched(s, r) for s, r in zip(sources, results)]
        parsed = _parse([r for r in results if _has_body(r)], settings)
        pages: dict[int, list[str]] = {}
        for i, r in enumerate(results):
            if _has_body(r):
                seen[i], links = _read(seen[i], r, parsed[id(r)])
                if links:
                    pages[i] = links
        for i, found in (await _try_announced(pages, fetch, settings)).items():
            seen[i] = replace(seen[i], **found)
    finally:
        if own is not None:
            await own.aclose()
    return seen


def _has_body(r: FetchResult) -> bool:
    return r.error is None and r.body is not None


def _fetched(source: Source, r: FetchResult) -> Seen:
    """What the fetch alone tells."""
    error = None
    if r.error is not None:
        error = r.error.message if isinstance(r.error, FeedError) else f"{type(r.error).__name__}: {r.error}"
    elif r.deferred:
        error = "not asked: its host answered another feed with 429/503 and asked us to wait"
    elif r.body is None:
        error = f"HTTP {r.status} to a request without validators: no body to check"
    return Seen(url=source.url, name=source.name, status=r.status, final_url=r.final_url,
                permanent=r.permanent_redirect is not None, error=error)


def _parse(results: Sequence[FetchResult], settings: Settings) -> dict[int, ParsedFeed | FeedError]:
    """Each body through the poller's parser (its process pool too, past a size), by id(result).

    HTML pages go through it as well: the poller would, and a feed served as text/html parses."""
    jobs = [ParseJob(r.body or b"", r.final_url, r.headers, r.source.url) for r in results]  # final URL: the base
    return {id(r): p for r, p in zip(results, parse_many(jobs, settings.parse_workers))}


def _read(seen: Seen, r: FetchResult, parsed: ParsedFeed | FeedError) -> tuple[Seen, list[str]]:
    """What the body tells: a feed; or not, and then the feeds it announces (autodiscovery)."""
    if isinstance(parsed, ParsedFeed):
        return replace(seen, feed=facts_of(parsed)), []
    body, ctype = r.body or b"", r.headers.get("content-type", "")
    links = [link.url for link in discover.find_feed_links(discover.decode_html(body, ctype), r.final_url)]
    why = parsed.message.removeprefix("not a feed: ")
    return replace(seen, html=discover.looks_like_html(body, ctype), not_feed=why), links[:MAX_ANNOUNCED]


async def _try_announced(pages: dict[int, list[str]], fetch: Callable[..., Any],
                         settings: Settings) -> dict[int, dict[str, Any]]:
    """For each page, the first announced feed that works (else the first announced): tried in
    rounds, every page's next candidate at once, so a run with many pages stays parallel."""
    found: dict[int, dict[str, Any]] = {}
    done: set[int] = set()
    for k in range(MAX_ANNOUNCED):
        batch = [(i, links[k]) for i, links in pages.items() if i not in done and k < len(links)]
        if not batch:
            break
        results = await fetch([Source(url=url) for _, url in batch])
        parsed = _parse([r for r in results if _has_body(r)], settings)
        for (i, url), r in zip(batch, results):
            p = parsed.get(id(r)) if _has_body(r) else None
            if isinstance(p, ParsedFeed):
                found[i] = {"announced": url, "announced_feed": facts_of(p), "announced_error": None}
                done.add(i)
            elif i not in found:
                why = (r.error.message if isinstance(r.error, FeedError)
                       else p.message if isinstance(p, FeedError) else "no body")
                found[i] = {"announced": url, "announced_feed": None, "announced_error": why}
    return found
