"""What ``output/health.atom`` says: one entry per configured source that needs an eye.

Pure (config, feed states, fallback time) -> HealthView; ``publish.render_health`` turns
it into Atom through feedgen, like the topic feeds. Decisions:

* Listed: failing sources (``health.is_failing``: the last poll failed), gone ones (410)
  and deferred ones (their host asked us to wait: 429/503 with Retry-After). Only
  configured sources count; never-polled ones are not listed.
* An entry's id is stable for one episode, so a reader shows it once, not every run:
  the source key's digest plus the time the episode began. For a failure, that is the
  last success before the streak ("never" if none): the same outage keeps its entry
  (updated moves with each failed attempt), a new outage after a recovery gets a new
  one. A deferral is dated by ``deferred_since`` (one deferral following another is one
  episode), and is updated at that time only; a gone feed is never polled again, so
  its last attempt dates it for good.
* Entries newest first, ties by source key.
* The feed's own updated is its newest entry's; an empty feed takes *fallback*
  (FALLBACK_TIME), never the run time: all-good runs leave the file's bytes alone, and
  the feed depends on the feed states alone, so a run that read no item can write it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Mapping

from .model import FALLBACK_TIME, display_title, file_url, site_url
from .health import is_deferred, is_failing
from ..records import Config, FeedState, Source, utc
from ..text import one_line, safe_uri

FILE = "health.atom"
ENTRY_ID_PREFIX = "urn:aggregator:health:"


@dataclass(frozen=True)
class Problem:
    """One failing source, as an entry of the health feed."""

    key: str  # Source.key
    id: str  # urn:aggregator:health:<digest of key>:<streak start | never>
    title: str  # "Failing: <name> (HTTP 500)", "Gone: <name> (HTTP 410)", "Deferred: <name> (host answered 429)"
    link: str | None  # the source feed, when it is an http(s) URL
    updated: datetime  # the last attempt
    since: datetime | None  # the last success before this streak
    content_html: str  # the details, escaped HTML


@dataclass(frozen=True)
class HealthView:
    self_url: str
    site_url: str
    title: str
    subtitle: str
    updated: datetime
    problems: tuple[Problem, ...]


def _when(dt: datetime | None, missing: str) -> str:
    return utc(dt).strftime("%Y-%m-%d %H:%M:%S UTC") if dt else missing


def reason(state: FeedState) -> str:
    """Short cause for the title: the HTTP status, or what went wrong without one."""
    status = state.last_status
    if state.gone or status == 410:
        return "HTTP 410"
    if status is None:
        return "no response"
    if status >= 400:
        return f"HTTP {status}"
    return f"unusable body, HTTP {status}"  # e.g. not a feed, too large


def entry_id(key: str, state: FeedState) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    since = state.last_success
    episode = utc(since).strftime("%Y%m%dT%H%M%SZ") if since else "never"
    return f"{ENTRY_ID_PREFIX}{digest}:{episode}"


def deferred_problem(source: Source, state: FeedState, fallback: datetime) -> Problem:
    """The entry of a feed whose host asked us to wait: dated once, when the deferral began."""
    name = display_title(one_line(source.name) or one_line(state.title or "") or source.key)
    since = utc(state.deferred_since or state.last_attempt or fallback)
    digest = hashlib.sha256(source.key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    rows = [
        ("Feed", one_line(state.current_url or source.key, 2_000)),
        ("Deferred until", _when(state.deferred_until, "unknown")),
        ("Why", one_line(state.deferred_reason or "host asked to wait", 2_000)),
        ("Host", one_line(state.deferred_host or "", 200)),
        ("Since", _when(since, "unknown")),
        ("Next poll", "after the time above; --force does not override a server's Retry-After"),
    ]
    content = "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"
    return Problem(
        key=source.key,
        id=f"{ENTRY_ID_PREFIX}{digest}:deferred:{since.strftime('%Y%m%dT%H%M%SZ')}",
        title=f"Deferred: {name} ({one_line(state.deferred_reason or 'host asked to wait')})",
        link=safe_uri(state.current_url or source.key),
        updated=since,
        since=utc(state.last_success) if state.last_success else None,
        content_html=content,
    )


def problem(source: Source, state: FeedState, fallback: datetime) -> Problem:
    if is_deferred(state):
        return deferred_problem(source, state, fallback)
    # Titles are text, and the validator warns on markup in them (a feed's own title can hold some).
    name = display_title(one_line(source.name) or one_line(state.title or "") or source.key)
    kind = "Gone" if state.gone else "Failing"
    if state.gone:
        next_poll = "never: gone (410) until `aggregator feeds reset URL` (or the feed is added again)"
    else:
        next_poll = _when(state.next_poll, "not scheduled")
    rows = [
        ("Feed", one_line(state.current_url or source.key, 2_000)),
        ("Last error", one_line(state.last_error or "", 2_000) or "(none recorded)"),
        ("Failed polls in a row", str(state.error_count)),
        ("Last attempt", _when(state.last_attempt, "never")),
        ("Last success", _when(state.last_success, "never")),
        ("Next poll", next_poll),
    ]
    content = "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows) + "</dl>"
    return Problem(
        key=source.key,
        id=entry_id(source.key, state),
        title=f"{kind}: {name} ({reason(state)})",
        link=safe_uri(state.current_url or source.key),
        updated=utc(state.last_attempt) if state.last_attempt else fallback,
        since=utc(state.last_success) if state.last_success else None,
        content_html=content,
    )


def _listed(state: FeedState | None) -> bool:
    return state is not None and (is_failing(state) or state.gone or is_deferred(state))


def health_view(config: Config, feeds: Mapping[str, FeedState],
                fallback: datetime = FALLBACK_TIME) -> HealthView:
    """The health feed's content: failing configured sources, newest attempt first."""
    sources = {s.key: s for s in reversed(config.sources)}  # one entry per key: the first
    found = [problem(s, feeds[k], fallback) for k, s in sources.items() if _listed(feeds.get(k))]
    found.sort(key=lambda p: (-p.updated.timestamp(), p.key))
    site = one_line(config.settings.title) or "aggregator"
    return HealthView(
        self_url=file_url(config.settings, FILE),
        site_url=site_url(config.settings),
        title=f"{site}: feed health",
        subtitle="Configured feeds whose last poll failed, that are gone, or whose host asked us to wait. "
                 "Empty when all is well.",
        updated=max((p.updated for p in found), default=fallback),
        problems=tuple(found),
    )


__all__ = ["FILE", "HealthView", "Problem", "health_view", "entry_id", "reason"]
