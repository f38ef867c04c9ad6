"""Feed bytes + response headers -> ``ParsedFeed`` of clean ``Entry``s; many feeds in processes.

The only module that imports feedparser (with ``speedups``, which patches two of its hot
paths while we parse). Three rules keep it safe and fast:

* feedparser gets an ``io.BytesIO``, never the bytes: given ``str``/``bytes`` it first tries
  them as a URL or a file path. The final URL travels as ``Content-Location`` (the base for
  relative links), and only the headers that matter (content type, language) go along.
* Its sanitiser and relative-URI resolver are off (they took half the parse time, issue 8);
  ``text.sanitize_html`` (nh3) and ``text.safe_uri`` do both, once, on what we keep.
* feedparser strips unsafe ``<!ENTITY>`` declarations and runs expat with external entities
  off; nothing reads files or the network. ``tests/test_hostile_input.py`` proves each rule.

Items already stored need not go through feedparser at all (issue 8): ``split`` cuts the
body into items and fingerprints each (``ParsedFeed.item_hashes``); items whose fingerprint
the caller passes in ``skip`` are cut out before feedparser runs (counted in ``skipped``).
The entries left are exactly those a full parse gives for the same items.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Mapping, Sequence

import feedparser
from feedparser.datetimes import _parse_date  # RFC 822 / W3CDTF / … -> UTC struct_time

from ..errors import ParseError
from .fields import (
    date_from_struct, enclosure, format_name, guid_text, html_field, person, person_from_string, title_text,
    unique, unique_enclosures,
)
from .jsonfeed import looks_like_json, parse_jsonfeed
from .speedups import speedups
from .split import Split, Unsplittable, split_items
from ..records import Entry, ParsedFeed
from ..text import one_line, safe_uri

MIN_POOL_JOBS = 8  # below this, or below MIN_POOL_BYTES, starting processes costs more than it saves
MIN_POOL_BYTES = 512_000
CHUNKS_PER_WORKER = 4  # a few chunks each: small IPC overhead, still balanced
_PASSED_HEADERS = ("content-type", "content-language")

# A guid is an identity, not a link: feedparser joins a relative one ("g1") to the feed URL,
# so it would change whenever the feed moves. Keep it as written (these two classes are the
# parsers feedparser.parse uses; the change touches nothing else). Entry links still resolve.
for _cls in (feedparser.api.StrictFeedParser, feedparser.api.LooseFeedParser):
    _cls.can_be_relative_uri = frozenset(set(_cls.can_be_relative_uri) - {"id"})

# feedparser's namespace table (URI -> its prefix): the splitter needs it to tell which
# namespace declarations feedparser would remember across items.
KNOWN_NAMESPACES = {k.lower(): v for k, v in feedparser.mixin._FeedParserMixin.namespaces.items()}


@dataclass(frozen=True)
class ParseJob:
    """One body to parse: ``url`` is the final URL (the base), ``key`` the Source.key."""

    body: bytes
    url: str
    headers: Mapping[str, str]
    key: str
    skip: Collection[str] = field(default=frozenset())  # fingerprints of items already stored


def parse(body: bytes, *, url: str, headers: Mapping[str, str], key: str,
          skip: Collection[str] = frozenset()) -> ParsedFeed:
    """Parse one feed body (RSS 0.9x–2.0, RSS 1.0, Atom, JSON Feed). Raises ParseError(key, …).

    Raw items whose fingerprint is in *skip* (from an earlier ``ParsedFeed.item_hashes``) are
    left out of ``entries`` without being parsed, when the body can be split safely."""
    try:
        return _parse(body, url, headers, key, skip)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile body must fail its feed, not the run
        raise ParseError(key, f"parser failed: {type(exc).__name__}: {exc}") from exc


def _parse(body: bytes, url: str, headers: Mapping[str, str], key: str,
           skip: Collection[str]) -> ParsedFeed:
    if not body or not body.strip():
        raise ParseError(key, "not a feed: the body is empty")
    base = base_url(url, headers)
    if looks_like_json(body):
        return parse_jsonfeed(body, base=base, key=key, parse_date=_parse_date)
    sent = response_headers(headers, base)
    split = try_split(body, base, sent["content-type"])
    if split is not None and skip:
        doc, cut = split.without(skip)
        if cut:
            d = _feedparser(doc, sent)
            # A safety net: the rest must come out one entry per kept item, and clean.
            if len(d.entries) == len(split.spans) - cut and d.get("version") and not _bozo_from_body(d):
                return _feed(d, d.get("version") or "", base, key, split.hashes, cut)
    d = _feedparser(body, sent)
    version = d.get("version") or ""
    if not d.entries and not version:
        raise ParseError(key, not_a_feed_reason(body))
    # Fingerprints count only when they line up one to one with feedparser's entries.
    hashes = split.hashes if split is not None and len(split.spans) == len(d.entries) else ()
    return _feed(d, version, base, key, hashes)


def _feedparser(body: bytes, sent: Mapping[str, str]) -> Any:
    with speedups():  # same results, less CPU (issue 8): see speedups.py
        return feedparser.parse(io.BytesIO(body), response_headers=dict(sent), sanitize_html=False,
                                resolve_relative_uris=False)


def try_split(body: bytes, base: str, content_type: str) -> Split | None:
    """The body cut into fingerprinted items, or None when that is not safe (parse it whole)."""
    try:
        return split_items(body, base=base, content_type=content_type, known_namespaces=KNOWN_NAMESPACES)
    except Unsplittable:
        return None
    except (RecursionError, MemoryError, ValueError):  # expat on a hostile body: not our business
        return None


def _bozo_from_body(d: Any) -> bool:
    """Whether feedparser complained about the document itself (not about its content type)."""
    return bool(d.get("bozo")) and not isinstance(d.get("bozo_exception"), feedparser.NonXMLContentType)


def base_url(url: str, headers: Mapping[str, str]) -> str:
    """The base for relative links: Content-Location (resolved against the URL), else the URL."""
    location = _header(headers, "content-location")
    return (safe_uri(location, url) if location else None) or url


def response_headers(headers: Mapping[str, str], base: str) -> dict[str, str]:
    """The headers feedparser may see. Without a content type it would flag every feed bozo
    and fall back to its slow loose parser, so XML is assumed (the XML declaration decides)."""
    out = {name: one_line(_header(headers, name), 400) for name in _PASSED_HEADERS}
    out = {k: v for k, v in out.items() if v}
    out.setdefault("content-type", "application/xml")
    out["content-location"] = base
    return out


def _header(headers: Mapping[str, str], name: str) -> str:
    for k, v in headers.items():
        if k.lower() == name:
            return str(v)
    return ""


_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def not_a_feed_reason(body: bytes) -> str:
    """One line saying what the body looks like, for a body that holds no feed."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(head):
        return "not a feed: looks like an HTML page"
    if head.startswith(b"<"):
        root = _ROOT.search(re.sub(rb"<[?!][^>]*>", b"", head))
        name = root.group(1).decode("ascii", "replace") if root else "?"
        return f"not a feed: XML whose root element <{name}> is not RSS, Atom or RDF"
    snippet = one_line(head[:40].decode("utf-8", "replace"), 40)
    return f"not a feed: neither XML nor JSON (starts with {snippet!r})"


def _feed(d: Any, version: str, base: str, key: str, hashes: tuple[str, ...] = (),
          skipped: int = 0) -> ParsedFeed:
    f = d.feed
    bozo = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        bozo = one_line(f"{type(exc).__name__}: {exc}" if exc else "malformed feed", 300)
    return ParsedFeed(
        url=key,
        title=title_text(f.get("title"), (f.get("title_detail") or {}).get("type")),
        link=safe_uri(f.get("link"), base),
        feed_id=guid_text(f.get("id")),
        updated=date_from_struct(dict.get(f, "updated_parsed") or dict.get(f, "published_parsed")),
        entries=tuple(_entry(e, version, base) for e in d.entries),
        bozo=bozo,
        item_hashes=hashes,
        skipped=skipped,
        format=format_name(version),
    )


# FeedParserDict.get maps legacy key names on every read (issue 8); the keys read below are the
# canonical ones (none in its keymap), so dict.get finds the same. Not "enclosures": computed.
_get = dict.get


def _entry(e: Any, version: str, base: str) -> Entry:
    link = safe_uri(_get(e, "link"), base)

    def base_of(detail: Mapping[str, Any]) -> str:
        # An explicit xml:base wins; else relative links in HTML are taken as relative
        # to the entry's own page (what publishers mean), else to the feed.
        b = _get(detail, "base")
        return b if b and b != base else (link or base)

    summary = _get(e, "summary_detail") or {}
    contents = [c for c in _get(e, "content") or () if _get(c, "value")]
    content = max(contents, key=lambda c: len(_get(c, "value")), default=None)
    return Entry(
        guid=guid_text(_get(e, "id")),
        link=link,
        title=title_text(_get(e, "title"), _get(_get(e, "title_detail") or {}, "type")),
        summary=html_field(_get(e, "summary"), _get(summary, "type"), base_of(summary)),
        content=html_field(content["value"], _get(content, "type"), base_of(content)) if content else "",
        published=date_from_struct(dict.get(e, "published_parsed")),
        updated=date_from_struct(dict.get(e, "updated_parsed")),  # dict.get: no fallback to published
        authors=_authors(e, version),
        categories=unique(_get(t, "term") or _get(t, "label") for t in _get(e, "tags") or ()),
        enclosures=unique_enclosures(
            enclosure(_get(x, "href"), _get(x, "type"), _get(x, "length"), base)
            for x in e.get("enclosures") or ()  # FeedParserDict.get: built from the links
        ),
    )


def _authors(e: Any, version: str) -> tuple[str, ...]:
    details = _get(e, "authors") or ()
    raw = _get(e, "author")
    if not version.startswith("atom") and raw and len(details) <= 1:
        # feedparser's own split of an RSS "email (Name)" cuts emails with long TLDs.
        return unique([person_from_string(raw)])
    people = []
    for a in details:
        name = _get(a, "name") or ""
        if name.count("(") != name.count(")"):  # the same bug leaks into later Atom authors
            name = ""
        people.append(person(name, _get(a, "email")))
    return unique(people)


# ----------------------------------------------------------------------------- many feeds


@dataclass(frozen=True)
class _Failure:
    """A ParseError in transit: its two-argument __init__ does not survive pickling."""
    url: str
    message: str


def parse_job(job: ParseJob) -> ParsedFeed | ParseError:
    try:
        return parse(job.body, url=job.url, headers=job.headers, key=job.key, skip=job.skip)
    except ParseError as exc:
        return exc


def _parse_chunk(jobs: Sequence[ParseJob]) -> list[ParsedFeed | _Failure]:
    """Top level, so a spawned or forkserver worker can unpickle it."""
    out: list[ParsedFeed | _Failure] = []
    for job in jobs:
        r = parse_job(job)
        out.append(_Failure(r.url, r.message) if isinstance(r, ParseError) else r)
    return out


def pool_size(n_jobs: int, total_bytes: int, workers: int, cpus: int | None) -> int:
    """Processes to use; 1 means parse in this process. ``workers`` 0 = one per CPU."""
    if workers == 0:
        workers = cpus or 1
    workers = min(workers, n_jobs)
    if workers <= 1 or n_jobs < MIN_POOL_JOBS or total_bytes < MIN_POOL_BYTES:
        return 1
    return workers


def worth_a_process(job: ParseJob) -> bool:
    """A feed parsed before (known items cut out) costs 4 ms here, no more than sending it to a process;
    and those slow the fetch: a warm poll at N = 1000 took 2.5 s parsing here, 3.5 s in the pool."""
    return not job.skip


def chunked(jobs: Sequence[ParseJob], workers: int) -> list[list[ParseJob]]:
    """Consecutive runs of jobs, about CHUNKS_PER_WORKER per worker, order kept."""
    size = max(1, math.ceil(len(jobs) / (workers * CHUNKS_PER_WORKER)))
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]


def start_method(threads: int, methods: Sequence[str]) -> str:
    """fork when this process runs one thread: the fastest start, and it never re-imports the
    caller's ``__main__``. With threads (httpx, asyncio's resolver pool) a fork can copy a held
    lock into the child, so forkserver forks from a clean single-threaded server instead."""
    if threads <= 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _die_with_parent(parent: int) -> None:
    """Pool initializer: a worker ends when the process that started it dies, even by
    ``kill -9`` (Linux: PR_SET_PDEATHSIG), instead of living on as an orphan that holds
    its memory and every descriptor it inherited (a database connection among them)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: orphans remain possible there
        return
    if parent > 0 and os.getppid() != parent:  # it died before the prctl
        os._exit(0)


def _context() -> Any:
    method = start_method(threading.active_count(), multiprocessing.get_all_start_methods())
    return multiprocessing.get_context(method)


def parse_many(jobs: Sequence[ParseJob], workers: int) -> list[ParsedFeed | ParseError]:
    """Parse every job; results in job order, a ParseError in place of each failed feed."""
    jobs = list(jobs)
    n = pool_size(len(jobs), sum(len(j.body) for j in jobs), workers, os.cpu_count())
    if n <= 1:
        return [parse_job(j) for j in jobs]
    with ParsePool(n) as pool:
        return pool.map(jobs)


class ParsePool:
    """Parser processes kept across calls, so jobs can be sent as fetch results arrive::

        with ParsePool(workers=0) as pool:          # 0 = one per CPU, 1 = in this process
            future = pool.submit(job)               # Future[ParsedFeed | ParseError]
            results = pool.map(more_jobs)           # in job order

    A future never raises: a feed that fails, or whose worker process dies, gives a
    ParseError. A dead worker breaks a ProcessPoolExecutor for good, so the next submit
    starts a fresh one. Processes start on the first submit, not before.
    """

    def __init__(self, workers: int = 0, cpus: int | None = None):
        self.workers = workers or (cpus if cpus is not None else os.cpu_count()) or 1
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def submit(self, job: ParseJob, *, here: bool = False) -> "Future[ParsedFeed | ParseError]":
        return self._submit_chunk([job], lambda results: results[0], here)

    def map(self, jobs: Iterable[ParseJob]) -> list[ParsedFeed | ParseError]:
        """Parse every job; results in job order. Consecutive jobs travel in chunks."""
        jobs = list(jobs)
        if self.workers <= 1:
            return [parse_job(j) for j in jobs]
        futures = [self._submit_chunk(c, list) for c in chunked(jobs, self.workers)]
        return [r for f in futures for r in f.result()]

    def _submit_chunk(self, jobs: list[ParseJob], shape: Any, here: bool = False) -> Future:
        """*jobs* in a parser process (*here*, or with one worker: in this one, done on return)."""
        out: Future = Future()
        if self.workers <= 1 or here:
            out.set_result(shape([parse_job(j) for j in jobs]))
            return out
        try:
            inner = self._pool().submit(_parse_chunk, jobs)
        except BrokenProcessPool:  # a worker died earlier: start afresh once
            self.close()
            inner = self._pool().submit(_parse_chunk, jobs)

        def done(f: Future) -> None:
            try:
                results = [ParseError(r.url, r.message) if isinstance(r, _Failure) else r for r in f.result()]
            except Exception as exc:  # noqa: BLE001 - a dead worker fails its feeds, not the run
                results = [ParseError(j.key, f"parser process failed: {type(exc).__name__}: {exc}")
                           for j in jobs]
            out.set_result(shape(results))

        inner.add_done_callback(done)
        return out

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            ctx = _context()
            # A forkserver's workers are its children, not ours; it ends when we do.
            parent = os.getpid() if ctx.get_start_method() == "fork" else -1
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                                 initializer=_die_with_parent, initargs=(parent,))
        return self._executor
