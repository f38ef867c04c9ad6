"""When to poll each feed: pure decisions, no I/O, the clock passed in as ``now``.

A feed is polled again after its interval: the configured one, or one adapted
to how often it publishes (median gap between its recent entries), never
shorter than the server's ``Cache-Control: max-age``, spread by a ±10 % jitter
so that feeds added together do not stay in step forever. Failures back off
exponentially (never giving up). A permanent redirect is adopted only after it
was seen on ``settings.redirect_confirmations`` consecutive successful polls.

A server's wishes bind every run, ``--force`` included (``--force`` overrides only
our own schedule: the interval, adaptive polling, backoff after errors):

* 429 or 503 with a ``Retry-After`` in the future (seconds or an HTTP date, capped
  at ``settings.retry_after_cap``) defers the feed, and every feed on the host that
  answered, until then (``FeedState.deferred_until``). Not an error: a deferred
  feed is not failing. A 503 without Retry-After is an ordinary failure.
* 429 without a usable Retry-After is a failure whose backoff ``--force`` does not
  override either: the host said "too many requests".
* 410 marks the feed gone: no run asks again until the operator says so
  (``feeds reset URL``, or ``feeds add`` again: :func:`reset`).
"""

from __future__ import annotations

import hashlib
import random
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Iterable, Mapping, NamedTuple
from urllib.parse import urlsplit

from ..errors import FeedGone
from ..records import FeedState, FetchResult, ParsedFeed, Settings, Source, utc
from ..text import one_line

JITTER = 0.10  # ±10 % of every interval
TOO_MANY_REQUESTS = 429
RETRY_STATUSES = frozenset({429, 503})  # the statuses whose Retry-After we honour
RECENT_ENTRIES = 10  # how many of the newest entries set the adaptive interval
_MAX_EXPONENT = 32  # 2**32 times any interval is far past any sane max_backoff


def is_due(source: Source, state: FeedState | None, now: datetime, *, force: bool = False) -> bool:
    """Whether *source* should be polled at *now*. *force* overrides our own schedule, never
    a server's wish: a gone feed, a deferral, or the backoff after a 429."""
    if state is None or state.url != source.key:
        return True  # never polled, or state of another (older) config entry
    if state.gone or state.deferred_at(now):
        return False
    if state.next_poll is None:
        return True
    if force and state.last_status != TOO_MANY_REQUESTS:
        return True
    return utc(now) >= utc(state.next_poll)


class Wish(NamedTuple):
    """A server's request to wait: until when, why, and which host asked."""

    until: datetime
    reason: str
    host: str


def server_wish(result: FetchResult, now: datetime, settings: Settings) -> Wish | None:
    """The deferral a poll's answer asks for, or None.

    A deferred result (not requested: its host asked earlier in this run) carries its
    host's time; a 429 or 503 defers when its Retry-After lies after *now*. The time is
    capped at ``settings.retry_after_cap``, so one hostile header cannot park a feed for years.
    """
    status = result.deferred_by if result.deferred else result.status
    if status not in RETRY_STATUSES or result.retry_after is None:
        return None
    # Retry-After seconds count from the answer (fetch_one's clock: *now* plus the poll's time),
    # so "Retry-After: 0" asks for nothing.
    answered = utc(now) + timedelta(seconds=result.elapsed)
    until = utc(result.retry_after)
    if until <= answered:
        return None
    until = min(until, answered + timedelta(seconds=settings.retry_after_cap))
    return Wish(until, f"host answered {status}", host_of(result.final_url))


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


def _redirect(state: FeedState, result: FetchResult, settings: Settings) -> dict[str, Any]:
    """The changes to *state*: count consecutive sightings of a permanent redirect; adopt it once
    confirmed."""
    target = result.permanent_redirect
    if target is None:  # no redirect, or a temporary one: forget any half-confirmed target
        return dict(redirect_target=None, redirect_count=0)
    count = state.redirect_count + 1 if target == state.redirect_target else 1
    if count >= settings.redirect_confirmations:
        return dict(current_url=target, redirect_target=None, redirect_count=0)
    return dict(redirect_target=target, redirect_count=count)


def _newest(parsed: ParsedFeed) -> datetime | None:
    dates = [utc(d) for e in parsed.entries for d in (e.published, e.updated) if d is not None]
    if parsed.updated is not None:
        dates.append(utc(parsed.updated))
    return max(dates) if dates else None


def after_poll(source: Source, state: FeedState | None, result: FetchResult, now: datetime,
               settings: Settings, *, parsed: ParsedFeed | None = None,
               error: Exception | None = None, rng: random.Random | None = None,
               digest: str | None = None) -> FeedState:
    """The feed's state after one poll: validators, error count, redirect, next poll time.

    *error* is a failure found after the fetch (e.g. a ParseError); *parsed* is
    the feed when it parsed. A server's wish (see :func:`server_wish`) defers the
    feed and counts as no error; any other answer ends a deferral. *digest*: the
    ``body_hash`` of the body, when the caller has it (and has let the body go).
    """
    now = utc(now)
    rng = rng or _rng(source, now)
    old = state if state is not None and state.url == source.key else FeedState(url=source.key)

    wish = server_wish(result, now, settings)
    if result.deferred:  # never requested: only the schedule moves
        return defer(old, wish, now) if wish is not None else old
    if wish is not None:
        return defer(replace(old, last_attempt=now, last_status=result.status), wish, now)
    # The changes are gathered, then applied at once: replace() costs ~10 µs a call, and a
    # poll of N feeds computes N states (any answer but a wish ends a deferral).
    changes: dict[str, Any] = dict(deferred_until=None, deferred_reason=None, deferred_host=None,
                                   deferred_since=None)

    error = error or result.error
    if error is not None:
        errors = old.error_count + 1
        gone = isinstance(error, FeedGone) or result.status == 410
        base = _base_interval(source, old, settings, None)
        wait = jitter(backoff(base, errors, settings.max_backoff), rng, settings.max_backoff)
        return replace(old, **changes, last_attempt=now, last_status=result.status, error_count=errors,
                       last_error=one_line(str(error)) or type(error).__name__,
                       gone=gone, next_poll=None if gone else now + timedelta(seconds=wait))

    # Success: 304, a body that parsed, or a body identical to the last one parsed.
    changes.update(_redirect(old, result, settings))
    changes.update(last_attempt=now, last_success=now, last_status=result.status, error_count=0,
                   last_error=None, gone=False)
    if result.not_modified:
        changes.update(etag=result.etag or old.etag, last_modified=result.last_modified or old.last_modified)
    else:
        changes.update(etag=result.etag, last_modified=result.last_modified)
        if digest is None and result.body is not None:
            digest = body_hash(result.body)
        if digest is not None:
            if parsed is not None or digest == old.body_hash:
                changes["body_hash"] = digest
    if parsed is not None:
        newest = max((d for d in (_newest(parsed), utc(old.updated)) if d is not None), default=None)
        changes.update(title=parsed.title or old.title, link=parsed.link or old.link,
                       feed_id=parsed.feed_id or old.feed_id, updated=newest, item_hashes=parsed.item_hashes)

    interval = _base_interval(source, old, settings, parsed)
    wait = float(interval)
    if result.max_age:  # the server says the feed cannot change sooner; believe it, up to max_interval
        wait = max(wait, float(min(result.max_age, settings.max_interval)))
    ceiling = None if source.interval else settings.max_interval
    wait = jitter(wait, rng, ceiling)
    return replace(old, **changes, interval=interval, next_poll=now + timedelta(seconds=wait))


def defer(state: FeedState, wish: Wish, now: datetime) -> FeedState:
    """*state* deferred by *wish*: never earlier than a deferral or a next poll it already has.

    The episode (``deferred_since``) goes on while one deferral follows another. Gone stays gone.
    """
    if state.gone:
        return state
    ongoing = state.deferred_until is not None
    until = max(wish.until, utc(state.deferred_until)) if ongoing else wish.until
    next_poll = max(until, utc(state.next_poll)) if state.next_poll is not None else until
    return replace(state, deferred_until=until, deferred_reason=wish.reason, deferred_host=wish.host,
                   deferred_since=state.deferred_since if ongoing and state.deferred_since else utc(now),
                   next_poll=next_poll)


def reset(state: FeedState) -> FeedState:
    """The operator's ``feeds reset``: no longer gone, no error backoff, polled at the next run.

    A deferral stays: it is the server's wish, not ours to override."""
    return replace(state, gone=False, error_count=0, last_error=None,
                   next_poll=state.deferred_until if state.deferred_until else None)


# ----------------------------------------------------------------------------- hosts


def host_of(url: str) -> str:
    """The host a URL is served from, lower-case ('' if none): the unit of politeness."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def host_deferrals(states: Iterable[FeedState], now: datetime) -> dict[str, Wish]:
    """host -> the latest deferral in force for it at *now*, from the states that carry one."""
    hosts: dict[str, Wish] = {}
    for st in states:
        if st.deferred_host and not st.gone and st.deferred_at(now):
            until = utc(st.deferred_until)
            known = hosts.get(st.deferred_host)
            if known is None or known.until < until:
                hosts[st.deferred_host] = Wish(until, st.deferred_reason or "host asked to wait", st.deferred_host)
    return hosts


def spread_host_deferrals(states: Mapping[str, FeedState], sources: Iterable[Source],
                          now: datetime) -> dict[str, FeedState]:
    """The states of every configured feed on a deferred host, deferred as well (the others untouched).

    A deferral's time is already capped (:func:`server_wish`), so one hostile Retry-After
    cannot park a host's feeds for years. The pipeline calls this before it picks the due
    feeds (a feed added since, or never polled, waits with its host) and after the poll.
    """
    hosts = host_deferrals(states.values(), now)
    out = dict(states)
    if not hosts:
        return out
    for source in sources:
        st = out.get(source.key)
        wish = hosts.get(host_of((st.current_url if st and st.current_url else None) or source.url))
        if wish is None or (st is not None and (st.gone or (st.deferred_at(now)
                                                           and utc(st.deferred_until) >= wish.until))):
            continue
        out[source.key] = defer(st or FeedState(url=source.key), wish, now)
    return out


__all__ = [
    "JITTER", "RETRY_STATUSES", "Wish", "adaptive_interval", "after_poll", "backoff", "body_hash", "defer",
    "host_deferrals", "host_of", "is_due", "jitter", "parse_max_age", "parse_retry_after", "reset", "server_wish",
    "spread_host_deferrals",
]
