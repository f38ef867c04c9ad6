"""When to poll each feed: pure decisions, no I/O, the clock passed in as ``now``.

A feed is polled again after its interval: the configured one, or one adapted
to how often it publishes (median gap between its recent entries), never
shorter than the server's ``Cache-Control: max-age``, spread by a ±10 % jitter
so that feeds added together do not stay in step forever. Failures back off
exponentially (never giving up); ``Retry-After`` is honoured, capped; a 410
stops polling. A permanent redirect is adopted only after it was seen on
``settings.redirect_confirmations`` consecutive successful polls.

Gone feeds stay gone until the config changes: state is keyed by
``Source.key`` (the configured URL), so editing a gone feed's URL gives it a
new key and it starts afresh with no state.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from ..errors import FeedGone
from ..records import FeedState, FetchResult, ParsedFeed, Settings, Source, utc
from ..text import one_line

JITTER = 0.10  # ±10 % of every interval
RECENT_ENTRIES = 10  # how many of the newest entries set the adaptive interval
_MAX_EXPONENT = 32  # 2**32 times any interval is far past any sane max_backoff


def is_due(source: Source, state: FeedState | None, now: datetime, *, force: bool = False) -> bool:
    """Whether *source* should be polled at *now*. Gone feeds are never due, even with *force*."""
    if state is None or state.url != source.key:
        return True  # never polled, or state of another (older) config entry
    if state.gone:
        return False
    if force or state.next_poll is None:
        return True
    return utc(now) >= utc(state.next_poll)


def body_hash(body: bytes) -> str:
    """sha256 hex digest of a feed body; equal hashes mean the feed need not be parsed again."""
    return hashlib.sha256(body).hexdigest()


# ----------------------------------------------------------------------------- header parsing


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` (delta-seconds or HTTP-date) as an aware UTC time; None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return utc(now) + timedelta(seconds=min(int(value), 10 * 365 * 86_400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return utc(when) if when is not None else None


def parse_max_age(cache_control: str | None) -> int | None:
    """``max-age`` seconds of a Cache-Control header (``s-maxage`` is for shared caches, not us)."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():
                return int(value)
    return None


# ----------------------------------------------------------------------------- intervals


def backoff(interval: float, errors: int, max_backoff: float) -> float:
    """Seconds to wait after *errors* consecutive failures: ``min(interval * 2**errors, max_backoff)``."""
    return float(min(interval * 2 ** min(max(errors, 0), _MAX_EXPONENT), max_backoff))


def adaptive_interval(parsed: ParsedFeed | None, settings: Settings,
                      previous: int | None = None, known_newest: datetime | None = None) -> int:
    """Median gap between the newest entries' dates, clamped to min..max_interval.

    With fewer than two dated entries the feed keeps its previous interval (or
    the default): an undated feed tells us nothing about its rhythm. When the
    parser skipped items it had seen before, *known_newest* (the newest date seen
    then) stands in for them, so one new item still yields a gap.
    """
    fallback = previous if previous else settings.default_interval
    if parsed is None:
        return fallback
    found = {d for e in parsed.entries if (d := utc(e.published or e.updated)) is not None}
    if parsed.skipped and known_newest is not None:
        found.add(utc(known_newest))
    dates = sorted(found, reverse=True)[:RECENT_ENTRIES]
    if len(dates) < 2:
        return fallback
    gaps = [(a - b).total_seconds() for a, b in zip(dates, dates[1:])]
    median = statistics.median(gaps)
    return int(min(max(median, settings.min_interval), settings.max_interval))


def jitter(seconds: float, rng: random.Random, ceiling: float | None = None) -> float:
    """*seconds* ± 10 %. Above *ceiling* the excess is reflected below it, so capped feeds still spread."""
    value = seconds * (1 + rng.uniform(-JITTER, JITTER))
    if ceiling is not None and value > ceiling:
        value = max(ceiling - (value - ceiling), 0.0)
    return value


def _rng(source: Source, now: datetime) -> random.Random:
    # Deterministic when none is injected, yet different per feed and per poll.
    return random.Random(f"{source.key}|{utc(now).isoformat()}")


def _base_interval(source: Source, state: FeedState | None, settings: Settings,
                   parsed: ParsedFeed | None) -> int:
    if source.interval:
        return source.interval
    return adaptive_interval(parsed, settings, state.interval if state else None,
                             state.updated if state else None)


# ----------------------------------------------------------------------------- after a poll


def _redirect(state: FeedState, result: FetchResult, settings: Settings) -> FeedState:
    """Count consecutive sightings of a permanent redirect; adopt it once confirmed."""
    target = result.permanent_redirect
    if target is None:  # no redirect, or a temporary one: forget any half-confirmed target
        return replace(state, redirect_target=None, redirect_count=0)
    count = state.redirect_count + 1 if target == state.redirect_target else 1
    if count >= settings.redirect_confirmations:
        return replace(state, current_url=target, redirect_target=None, redirect_count=0)
    return replace(state, redirect_target=target, redirect_count=count)


def _newest(parsed: ParsedFeed) -> datetime | None:
    dates = [utc(d) for e in parsed.entries for d in (e.published, e.updated) if d is not None]
    if parsed.updated is not None:
        dates.append(utc(parsed.updated))
    return max(dates) if dates else None


def after_poll(source: Source, state: FeedState | None, result: FetchResult, now: datetime,
               settings: Settings, *, parsed: ParsedFeed | None = None,
               error: Exception | None = None, rng: random.Random | None = None) -> FeedState:
    """The feed's state after one poll: validators, error count, redirect, next poll time.

    *error* is a failure found after the fetch (e.g. a ParseError); *parsed* is
    the feed when it parsed. A deferred result (never requested) only moves
    the next poll to the host's Retry-After.
    """
    now = utc(now)
    rng = rng or _rng(source, now)
    old = state if state is not None and state.url == source.key else FeedState(url=source.key)
    cap = now + timedelta(seconds=settings.retry_after_cap)

    if result.deferred:
        until = min(result.retry_after or now, cap)
        current = utc(old.next_poll)
        return replace(old, next_poll=max(until, current) if current else until)

    error = error or result.error
    if error is not None:
        errors = old.error_count + 1
        gone = isinstance(error, FeedGone) or result.status == 410
        base = _base_interval(source, old, settings, None)
        wait = jitter(backoff(base, errors, settings.max_backoff), rng, settings.max_backoff)
        next_poll = now + timedelta(seconds=wait)
        if result.retry_after is not None and utc(result.retry_after) > now:
            next_poll = min(utc(result.retry_after), cap)
        return replace(old, last_attempt=now, last_status=result.status, error_count=errors,
                       last_error=one_line(str(error)) or type(error).__name__,
                       gone=gone, next_poll=None if gone else next_poll)

    # Success: 304, a body that parsed, or a body identical to the last one parsed.
    new = replace(_redirect(old, result, settings), last_attempt=now, last_success=now,
                  last_status=result.status, error_count=0, last_error=None, gone=False)
    if result.not_modified:
        new = replace(new, etag=result.etag or old.etag,
                      last_modified=result.last_modified or old.last_modified)
    else:
        new = replace(new, etag=result.etag, last_modified=result.last_modified)
        if result.body is not None:
            digest = body_hash(result.body)
            if parsed is not None or digest == old.body_hash:
                new = replace(new, body_hash=digest)
    if parsed is not None:
        newest = max((d for d in (_newest(parsed), utc(old.updated)) if d is not None), default=None)
        new = replace(new, title=parsed.title or old.title, link=parsed.link or old.link,
                      feed_id=parsed.feed_id or old.feed_id, updated=newest,
                      item_hashes=parsed.item_hashes)

    interval = _base_interval(source, old, settings, parsed)
    wait = float(interval)
    if result.max_age:  # the server says the feed cannot change sooner; believe it, up to max_interval
        wait = max(wait, float(min(result.max_age, settings.max_interval)))
    ceiling = None if source.interval else settings.max_interval
    wait = jitter(wait, rng, ceiling)
    return replace(new, interval=interval, next_poll=now + timedelta(seconds=wait))


# ----------------------------------------------------------------------------- hosts


def host_of(url: str) -> str:
    """The host a URL is served from, lower-case ('' if none): the unit of politeness."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def spread_host_deferrals(states: Mapping[str, FeedState], sources: Iterable[Source],
                          results: Iterable[FetchResult]) -> dict[str, FeedState]:
    """Push every feed on a host that sent Retry-After to at least that time.

    Call it with the states already updated by :func:`after_poll`: the
    deferring feed's own (capped) next poll then bounds how far its host's
    other feeds move, so one hostile Retry-After cannot park them for years.
    """
    until: dict[str, datetime] = {}
    for r in results:
        if r.retry_after is None:
            continue
        when = utc(r.retry_after)
        own = states.get(r.source.key)
        if own is not None and own.next_poll is not None:
            when = min(when, utc(own.next_poll))
        host = host_of(r.final_url)  # the host that answered, not one that redirected to it
        if host and (host not in until or until[host] < when):
            until[host] = when
    out = dict(states)
    if not until:
        return out
    for source in sources:
        st = out.get(source.key)
        host = host_of((st.current_url if st and st.current_url else None) or source.url)
        when = until.get(host)
        if when is None or (st is not None and st.gone):
            continue
        st = st or FeedState(url=source.key)
        if st.next_poll is None or utc(st.next_poll) < when:
            out[source.key] = replace(st, next_poll=when)
    return out


__all__ = [
    "JITTER", "adaptive_interval", "after_poll", "backoff", "body_hash", "host_of", "is_due",
    "jitter", "parse_max_age", "parse_retry_after", "spread_host_deferrals",
]
