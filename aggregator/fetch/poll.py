"""Poll many feeds at once, politely and within hard limits.

Each poll is a conditional GET (If-None-Match / If-Modified-Since from the
feed's state) that follows redirects itself, so it can tell a permanent move
(every hop 301/308) from a temporary one and stop loops. Limits a hostile or
broken server cannot stretch: one total deadline per request including the
streamed body (``settings.timeout``), a decoded-size cap (``max_body_bytes``,
enforced while decompressing, so gzip bombs are cut off), ``max_redirects``,
``concurrency`` requests overall and ``per_host`` per host name. A host that
answers 429/503 with a Retry-After in the future (``schedule.server_wish``) is not
asked again during the run: its remaining feeds come back ``deferred``, with the
status it answered in ``deferred_by``.

``fetch_all`` never raises for one feed's failure: the FetchResult carries an
``errors.FetchError`` whose message is one line naming the URL.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import (
    BodyTooLarge, FeedGone, FetchError, FetchTimeout, HTTPStatusError, NetworkError, TooManyRedirects,
)
from .limits import ACCEPT_ENCODING, BoundedBody, DecodeFailed, LimitExceeded, read_limited_file
from ..records import FeedState, FetchResult, Settings, Source, utc
from .client import HostClients, make_client, user_agent
from .schedule import RETRY_STATUSES, Wish, host_of, parse_max_age, parse_retry_after, server_wish

ACCEPT = ("application/atom+xml, application/rss+xml, application/feed+json, application/rdf+xml;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.8, application/json;q=0.8, */*;q=0.1")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})

Job = tuple[Source, "FeedState | None"]


def request_url(source: Source, state: FeedState | None) -> str:
    """The URL to poll: an adopted permanent redirect, else the configured URL."""
    if state is not None and state.url == source.key and state.current_url:
        return state.current_url
    return source.url


def request_headers(state: FeedState | None, settings: Settings) -> dict[str, str]:
    """Headers of one poll: identity, what we accept, and the validators of the last response."""
    headers = {"User-Agent": user_agent(settings), "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
    if state is not None:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    return headers


# ----------------------------------------------------------------------------- one poll


@dataclass
class _Trace:
    """What one poll has learnt so far; kept when it fails half way."""

    requested: str
    url: str
    permanent: bool = True
    hops: int = 0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # every URL requested, to spot loops

    def __post_init__(self) -> None:
        self.seen.append(self.requested)

    def where(self) -> str:
        return f" (redirected to {self.url})" if self.url != self.requested else ""


def _result(source: Source, trace: _Trace, started: float, **kw: object) -> FetchResult:
    h = trace.headers
    return FetchResult(
        source=source, requested_url=trace.requested, final_url=trace.url, status=trace.status,
        headers=dict(h), etag=h.get("etag"), last_modified=h.get("last-modified"),
        permanent_redirect=trace.url if trace.hops and trace.permanent else None,
        max_age=parse_max_age(h.get("cache-control")), elapsed=time.perf_counter() - started,
        **kw,  # type: ignore[arg-type]
    )


def _next_hop(trace: _Trace, location: str, status: int, max_redirects: int) -> str:
    target = urljoin(trace.url, location.strip())
    if urlsplit(target).scheme not in ("http", "https"):
        raise FetchError(trace.requested, f"HTTP {status} redirect to a non-HTTP URL {target!r}")
    if target in trace.seen:
        raise TooManyRedirects(trace.requested, "redirect loop: " + " -> ".join([*trace.seen, target]))
    if trace.hops + 1 > max_redirects:
        raise TooManyRedirects(trace.requested, f"more than {max_redirects} redirects (next: {target})")
    trace.seen.append(target)
    trace.permanent = trace.permanent and status in PERMANENT_STATUSES
    trace.hops += 1
    trace.url = target
    return target


async def _read_body(response: httpx.Response, trace: _Trace, limit: int) -> bytes:
    encoding = response.headers.get("content-encoding")
    declared = response.headers.get("content-length", "")
    if not encoding and declared.isdigit() and int(declared) > limit:  # refuse without reading
        raise BodyTooLarge(trace.requested, f"body of {int(declared)} bytes is over the "
                                            f"{limit}-byte limit{trace.where()}")
    try:  # a response built in memory (e.g. httpx.MockTransport with content=) is already read
        ready = response.content
    except httpx.ResponseNotRead:
        pass
    else:
        if len(ready) > limit:
            raise BodyTooLarge(trace.requested, f"body over the {limit}-byte limit{trace.where()}")
        return ready
    body = BoundedBody(encoding, limit)
    try:
        async for chunk in response.aiter_raw():
            body.feed(chunk)
    except LimitExceeded:
        raise BodyTooLarge(trace.requested, f"body over the {limit}-byte limit after decoding, "
                                            f"stopped reading{trace.where()}") from None
    except DecodeFailed as e:
        raise FetchError(trace.requested, f"{e}{trace.where()}") from None
    return body.finish()


async def _http(client: httpx.AsyncClient, source: Source, trace: _Trace, headers: Mapping[str, str],
                settings: Settings, clock: Callable[[], datetime], started: float) -> FetchResult:
    while True:
        async with client.stream("GET", trace.url, headers=headers, follow_redirects=False) as resp:
            status = trace.status = resp.status_code
            trace.headers = {k.lower(): v for k, v in resp.headers.items()}
            location = resp.headers.get("location")
            if status in REDIRECT_STATUSES and location:
                _next_hop(trace, location, status, settings.max_redirects)
                continue  # leaving the block closes this response unread
            if status == 304:
                # A 304 has no body (RFC 9110), but a response left unread closes its connection:
                # reading the empty body hands it back to the pool for the next poll of the host.
                await resp.aread()
                return _result(source, trace, started)
            if 200 <= status < 300:
                body = await _read_body(resp, trace, settings.max_body_bytes)
                if not body.strip():
                    raise FetchError(trace.requested, f"empty body (HTTP {status}){trace.where()}")
                return _result(source, trace, started, body=body)
            retry_after = None
            if status in RETRY_STATUSES:
                retry_after = parse_retry_after(resp.headers.get("retry-after"), clock())
            return _result(source, trace, started, retry_after=retry_after,
                           error=_status_error(trace, resp, retry_after))


def _status_error(trace: _Trace, resp: httpx.Response, retry_after: datetime | None) -> FetchError:
    status = resp.status_code
    if status == 410:
        return FeedGone(trace.requested)
    text = f"HTTP {status} {resp.reason_phrase}".strip()
    if 300 <= status < 400:
        text += " without a Location to follow"
    if retry_after is not None:
        text += f"; retry after {retry_after:%Y-%m-%d %H:%M:%S} UTC"
    return HTTPStatusError(trace.requested, status, text + trace.where())


async def fetch_one(client: httpx.AsyncClient, source: Source, state: FeedState | None,
                    settings: Settings, *, now: datetime) -> FetchResult:
    """Poll one feed over HTTP within ``settings.timeout`` in total. Never raises FetchError."""
    started = time.perf_counter()
    url = request_url(source, state)
    trace = _Trace(requested=url, url=url)

    def clock() -> datetime:  # Retry-After seconds count from when the answer came, not the run start
        return utc(now) + timedelta(seconds=time.perf_counter() - started)

    try:
        return await asyncio.wait_for(
            _http(client, source, trace, request_headers(state, settings), settings, clock, started),
            settings.timeout)
    except asyncio.TimeoutError:
        error: FetchError = FetchTimeout(url, f"no complete response within {settings.timeout:g}s"
                                              f"{trace.where()}")
    except FetchError as e:
        error = e
    except httpx.TimeoutException as e:
        error = FetchTimeout(url, f"{type(e).__name__}{trace.where()}")
    except httpx.TransportError as e:
        error = NetworkError(url, f"{type(e).__name__}: {e or 'connection failed'}{trace.where()}")
    except (httpx.InvalidURL, ValueError) as e:
        error = FetchError(url, f"invalid URL ({e}){trace.where()}")
    except Exception as e:  # noqa: BLE001 - one feed's surprise must not stop the others
        error = FetchError(url, f"unexpected {type(e).__name__}: {e}{trace.where()}")
    return _result(source, trace, started, error=error)


async def read_local(source: Source, settings: Settings) -> FetchResult:
    """A ``path:`` source: read the file (size-capped) as a 200 response; no HTTP."""
    started = time.perf_counter()
    trace = _Trace(requested=source.url, url=source.url)
    path = str(source.path)
    try:
        body = await asyncio.to_thread(read_limited_file, path, settings.max_body_bytes)
    except OSError as e:
        return _result(source, trace, started,
                       error=FetchError(path, f"cannot read local feed: {e.strerror or e}"))
    except LimitExceeded:
        return _result(source, trace, started, error=BodyTooLarge(
            path, f"local feed is over the {settings.max_body_bytes}-byte limit"))
    trace.status = 200
    if not body.strip():
        return _result(source, trace, started, error=FetchError(path, "empty file"))
    return _result(source, trace, started, body=body)


# ----------------------------------------------------------------------------- many polls


class _Run:
    """Shared limits of one fetch_all: semaphores and the hosts that asked us to wait."""

    def __init__(self, client: httpx.AsyncClient | HostClients, settings: Settings, now: datetime,
                 on_result: Callable[[FetchResult], None] | None, admit: Callable[[Source], bool] | None = None,
                 pace: Callable[[], Awaitable[None]] | None = None):
        self.client, self.settings, self.now, self.on_result = client, settings, now, on_result
        self.admit, self.pace = admit, pace
        self.overall = asyncio.Semaphore(max(settings.concurrency, 1))
        self.hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(max(settings.per_host, 1)))
        self.deferred: dict[str, tuple[Wish, int]] = {}  # host -> its wish, and the status it answered
        self.callback_error: BaseException | None = None

    async def poll(self, source: Source, state: FeedState | None) -> FetchResult:
        if source.path is not None:
            async with self.overall:
                result = (await read_local(source, self.settings) if self._admitted(source)
                          else FetchResult(source, source.url, source.url, declined=True))
        else:
            url = request_url(source, state)
            host = host_of(url)
            # Host slot first, then a global one: a job queued behind a busy host
            # must not hold a global slot other hosts could use.
            async with self.hosts[host], self.overall:
                if self.pace is not None:  # the caller is behind: wait, slots held (no one else may go)
                    await self.pace()
                found = self.deferred.get(host)
                if not self._admitted(source):  # another process sharing the store has it
                    result = FetchResult(source=source, requested_url=url, final_url=url, declined=True)
                elif found is not None:
                    result = FetchResult(source=source, requested_url=url, final_url=url, deferred=True,
                                         retry_after=found[0].until, deferred_by=found[1])
                elif isinstance(self.client, HostClients):
                    try:
                        result = await fetch_one(self.client.get(host), source, state, self.settings, now=self.now)
                    finally:
                        await self.client.done(host)
                    self._note_deferral(result)
                else:
                    result = await fetch_one(self.client, source, state, self.settings, now=self.now)
                    self._note_deferral(result)
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception as e:  # noqa: BLE001 - re-raised once every poll has finished
                self.callback_error = self.callback_error or e
        return result

    def _admitted(self, source: Source) -> bool:
        """Asked once a job has its slots, right before its request: a caller sharing the work
        with other processes claims the feed only then, so they take turns down the list."""
        return self.admit is None or self.admit(source)

    def _note_deferral(self, result: FetchResult) -> None:
        # The same rule as the schedule's, so a feed deferred here is deferred in the store too.
        wish = server_wish(result, self.now, self.settings)
        if wish is None or not wish.host:
            return
        known = self.deferred.get(wish.host)
        if known is None or known[0].until < wish.until:
            self.deferred[wish.host] = (wish, result.status or 0)


async def fetch_all(jobs: Sequence[Job], settings: Settings, *, client: httpx.AsyncClient | None = None,
                    transport: httpx.AsyncBaseTransport | None = None, now: datetime,
                    on_result: Callable[[FetchResult], None] | None = None,
                    admit: Callable[[Source], bool] | None = None, bodies: bool = True,
                    known: Sequence[FetchResult] = (), pace: Callable[[], Awaitable[None]] | None = None
                    ) -> list[FetchResult]:
    """Poll every (source, state) job; results in job order, one per job, failures inside them.

    A client is built with *transport* when one is given, and closed at the end; a client
    passed in is left open. With neither, each host gets a client of its own
    (:class:`~.client.HostClients`). *on_result* is called
    as each poll finishes. *admit(source)*, if given, is asked right before a job's
    request; a job it declines is not requested (its result says ``declined``). *bodies*
    False: the results returned carry no body (*on_result* had it), so a poll of many feeds
    need not hold every body until the last one arrives. *known*: results this run already
    had from elsewhere (``process``): a host that asked us to wait in one of them is not asked again.
    *pace*, if given, is awaited before each request, once it holds its slots: a caller that
    cannot keep up makes the requests wait (``process``: results the parent has not taken yet).
    """
    own: httpx.AsyncClient | HostClients | None = None
    if client is None:
        own = (make_client(settings, transport) if transport is not None else
               HostClients(settings, Counter(host_of(request_url(s, st)) for s, st in jobs if s.path is None)))
    run = _Run(client or own, settings, now, on_result, admit, pace)  # type: ignore[arg-type]
    for result in known:
        run._note_deferral(result)

    async def poll(source: Source, state: FeedState | None) -> FetchResult:
        result = await run.poll(source, state)
        return result if bodies or result.body is None else replace(result, body=None)

    try:
        results = await asyncio.gather(*(poll(source, state) for source, state in jobs))
    finally:
        if own is not None:
            await own.aclose()
    if run.callback_error is not None:
        raise run.callback_error
    return list(results)


__all__ = ["ACCEPT", "fetch_all", "fetch_one", "read_local", "request_headers", "request_url"]
