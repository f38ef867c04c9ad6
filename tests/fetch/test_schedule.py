"""fetch/schedule.py: every decision as a table."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.fetch import schedule
from aggregator.errors import FeedGone, FetchTimeout, HTTPStatusError, NetworkError, ParseError
from aggregator.records import Entry, FeedState, FetchResult, ParsedFeed, Settings, Source
from aggregator.fetch.schedule import adaptive_interval, after_poll, backoff, body_hash, is_due, jitter, parse_max_age, parse_retry_after, spread_host_deferrals

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
URL = "http://a.test/feed"
SRC = Source(URL)
S = Settings(config_path=Path("f.yaml"), store=Path("s.json"), output_dir=Path("o"))
H = timedelta(hours=1)


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 0.0


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def feed(*ages_hours: float, title: str = "T") -> ParsedFeed:
    """A parsed feed whose entries were published the given hours before NOW."""
    return ParsedFeed(url=URL, title=title, link="https://a.test/", feed_id="urn:x", entries=tuple(
        Entry(guid=str(i), link=None, title="e", published=NOW - timedelta(hours=h)) for i, h in enumerate(ages_hours)))


def result(status: int | None = 200, body: bytes | None = b"<rss/>", **kw) -> FetchResult:
    return FetchResult(source=kw.pop("source", SRC), requested_url=URL, final_url=kw.pop("final_url", URL),
                       status=status, body=body, **kw)


def poll(state, res, *, source=SRC, settings=S, **kw) -> FeedState:
    return after_poll(source, state, res, NOW, settings, rng=NoJitter(), **kw)


# ----------------------------------------------------------------------------- is_due


@pytest.mark.parametrize("state, force, due", [
    (None, False, True),
    (FeedState(url=URL), False, True),  # never scheduled
    (FeedState(url=URL, next_poll=at(60)), False, False),
    (FeedState(url=URL, next_poll=at(60)), True, True),
    (FeedState(url=URL, next_poll=NOW), False, True),
    (FeedState(url=URL, next_poll=at(-1)), False, True),
    (FeedState(url=URL, next_poll=(NOW + H).replace(tzinfo=None)), False, False),  # naive = UTC
    (FeedState(url=URL, gone=True), False, False),
    (FeedState(url=URL, gone=True), True, False),  # force does not revive a 410
    (FeedState(url="http://a.test/old-url", gone=True, next_poll=at(60)), False, True),  # new key: fresh
])
def test_is_due(state, force, due):
    assert is_due(SRC, state, NOW, force=force) is due


# ----------------------------------------------------------------------------- header parsing


@pytest.mark.parametrize("value, expect", [
    ("120", at(120)), ("0", NOW), (" 30 ", at(30)),
    ("Sat, 01 Mar 2025 14:00:00 GMT", NOW + 2 * H),
    ("Sat, 01 Mar 2025 11:00:00 GMT", NOW - H),  # in the past: the caller decides
    ("soon", None), ("-5", None), ("", None), (None, None), ("1.5", None),
    ("99999999999999", at(10 * 365 * 86_400)),  # absurd values are capped, not overflowed
])
def test_parse_retry_after(value, expect):
    assert parse_retry_after(value, NOW) == expect


@pytest.mark.parametrize("value, expect", [
    ("max-age=600", 600), ("public, max-age=60, must-revalidate", 60), ("MAX-AGE=5", 5),
    ('max-age="30"', 30), ("s-maxage=100", None), ("no-cache", None), ("max-age=abc", None),
    ("", None), (None, None), ("max-age=0", 0),
])
def test_parse_max_age(value, expect):
    assert parse_max_age(value) == expect


def test_body_hash():
    assert body_hash(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# ----------------------------------------------------------------------------- intervals


@pytest.mark.parametrize("interval, errors, cap, expect", [
    (3600, 0, 86_400, 3600), (3600, 1, 86_400, 7200), (3600, 3, 86_400, 28_800),
    (3600, 5, 86_400, 86_400), (300, 3, 86_400, 2400), (3600, 10_000, 86_400, 86_400),
])
def test_backoff(interval, errors, cap, expect):
    assert backoff(interval, errors, cap) == expect


@pytest.mark.parametrize("parsed, previous, expect", [
    (feed(0, 1, 2, 3), None, 3600),
    (feed(0, 1, 3, 4), None, 3600),  # median, not mean: one long gap does not stretch it
    (feed(0, 0.01, 0.02), None, S.min_interval),
    (feed(0, 72, 144), None, S.max_interval),
    (feed(5), 1800, 1800),  # one dated entry tells nothing: keep the previous interval
    (feed(), None, S.default_interval),
    (None, 7200, 7200),
    (feed(*range(10), *range(1000, 5000, 400)), None, 3600),  # only the newest 10 count
    (feed(0, 0, 2, 2), None, 7200),  # duplicate dates collapse
])
def test_adaptive_interval(parsed, previous, expect):
    assert adaptive_interval(parsed, S, previous) == expect


@pytest.mark.parametrize("new_ages, skipped, known_newest_age, expect", [
    ((0,), 49, 2, 7200),  # one new item after 49 known ones: the gap to the newest known date
    ((0, 1), 48, 3, 5400),  # two new ones: median of the 1h and 2h gaps
    ((0,), 0, 2, 1800),  # nothing skipped: the known date is not used (one entry: keep previous)
    ((0,), 49, None, 1800),  # no known date: keep previous
])
def test_adaptive_interval_with_skipped_items(new_ages, skipped, known_newest_age, expect):
    parsed = replace(feed(*new_ages), skipped=skipped)
    known = None if known_newest_age is None else NOW - timedelta(hours=known_newest_age)
    assert adaptive_interval(parsed, S, 1800, known) == expect


def test_after_poll_keeps_item_hashes_and_newest_date_across_skips():
    old = after_poll(SRC, None, result(), NOW, S, parsed=replace(feed(1, 2), item_hashes=("a", "b")))
    parsed = replace(feed(), item_hashes=("c", "a", "b"), skipped=2)  # nothing new parsed
    new = after_poll(SRC, old, result(body=b"<rss>2</rss>"), NOW + H, S, parsed=parsed)
    assert new.item_hashes == ("c", "a", "b")
    assert new.updated == old.updated == NOW - H


def test_adaptive_interval_uses_updated_when_no_published():
    parsed = ParsedFeed(url=URL, entries=tuple(Entry(guid=None, link=None, title="", updated=NOW - i * 2 * H)
                                               for i in range(3)))
    assert adaptive_interval(parsed, S) == 7200


@pytest.mark.parametrize("seed", range(50))
def test_jitter_stays_within_ten_percent_and_under_ceiling(seed):
    rng = random.Random(seed)
    assert 3240 <= jitter(3600, rng) <= 3960
    assert 3240 <= jitter(3600, rng, ceiling=3600) <= 3600


def test_jitter_spreads_feeds():
    values = {round(jitter(3600, random.Random(s))) for s in range(20)}
    assert len(values) > 15


# ----------------------------------------------------------------------------- after_poll: success


OLD = FeedState(url=URL, etag='"old"', last_modified="Fri, 28 Feb 2025 10:00:00 GMT", body_hash=body_hash(b"<rss/>"),
                error_count=3, last_error="boom", interval=1800, title="Old", link="https://old/", feed_id="urn:old")


@pytest.mark.parametrize("res, parsed, expect", [
    # 304 without validators keeps the old ones
    (result(304, None), None, dict(etag='"old"', last_modified=OLD.last_modified, body_hash=OLD.body_hash,
                                   interval=1800, title="Old")),
    # 304 with new validators takes them
    (result(304, None, etag='"new"'), None, dict(etag='"new"', last_modified=OLD.last_modified)),
    # a new body that parsed: everything from the response and the feed
    (result(200, b"<rss>new</rss>", etag='"e2"'), feed(0, 2, 4, title="New"),
     dict(etag='"e2"', last_modified=None, body_hash=body_hash(b"<rss>new</rss>"), interval=7200,
          title="New", link="https://a.test/", feed_id="urn:x", updated=NOW)),
    # the same body as last time: success, no parse needed, hash kept
    (result(200, b"<rss/>", etag='"e3"'), None, dict(etag='"e3"', body_hash=OLD.body_hash, interval=1800)),
    # a changed body not (yet) parsed: the hash is not advanced, so it will be parsed next time
    (result(200, b"<rss>x</rss>"), None, dict(body_hash=OLD.body_hash)),
])
def test_success(res, parsed, expect):
    new = poll(OLD, res, parsed=parsed)
    assert (new.error_count, new.last_error, new.last_success, new.last_attempt, new.gone) == (0, None, NOW, NOW, False)
    assert new.last_status == res.status
    for k, v in expect.items():
        assert getattr(new, k) == v, k
    assert new.next_poll == NOW + timedelta(seconds=new.interval)


@pytest.mark.parametrize("res, parsed", [
    (result(200, b"<rss>new</rss>", etag='"e2"'), feed(0, 2, 4, title="New")),
    (result(200, b"<rss/>", etag='"e3"'), None),
    (result(200, b"<rss>x</rss>"), None),
    (result(304, None, etag='"new"'), None),
])
def test_a_digest_given_stands_for_the_body(res, parsed):
    """The pipeline hashes each body once and lets it go before the feed is merged."""
    digest = body_hash(res.body) if res.body is not None else None
    assert poll(OLD, replace(res, body=None), parsed=parsed, digest=digest) == poll(OLD, res, parsed=parsed)


@pytest.mark.parametrize("source, state, parsed, max_age, wait", [
    (SRC, None, None, None, S.default_interval),
    (Source(URL, interval=600), OLD, feed(0, 5, 10), None, 600),  # configured interval wins
    (SRC, OLD, None, 7200, 7200),  # max-age is a lower bound ...
    (SRC, OLD, None, 60, 1800),  # ... not an upper one
    (SRC, OLD, None, 10**9, S.max_interval),  # and is believed only up to max_interval
    (Source(URL, interval=600), OLD, None, 900, 900),
])
def test_next_poll_interval(source, state, parsed, max_age, wait):
    new = poll(state, result(200, b"<rss/>", max_age=max_age), source=source, parsed=parsed)
    assert new.next_poll == at(wait)


def test_jitter_is_applied_and_deterministic_without_rng():
    a = after_poll(SRC, OLD, result(304, None), NOW, S)
    b = after_poll(SRC, OLD, result(304, None), NOW, S)
    c = after_poll(Source("http://b.test/"), None, result(304, None), NOW, S)
    assert a.next_poll == b.next_poll != NOW + timedelta(seconds=1800)
    assert at(1620) <= a.next_poll <= at(1980) and c.next_poll != a.next_poll


def test_state_of_another_key_is_ignored():
    new = poll(replace(OLD, url="http://a.test/old-url", gone=True), result(304, None))
    assert new.url == URL and new.etag is None and not new.gone


# ----------------------------------------------------------------------------- after_poll: errors


@pytest.mark.parametrize("res, error, count, wait", [
    (result(None, None, error=NetworkError(URL, "refused")), None, 4, min(1800 * 16, S.max_backoff)),
    (result(None, None, error=FetchTimeout(URL, "slow")), None, 1, 3600 * 2),  # from no state
    (result(200, b"<html>"), ParseError(URL, "not a feed"), 4, 28_800),
    (result(500, None, error=HTTPStatusError(URL, 500)), None, 4, 28_800),
])
def test_errors_back_off(res, error, count, wait):
    state = OLD if count == 4 else None
    new = poll(state, res, error=error)
    assert new.error_count == count and new.next_poll == at(wait) and new.last_attempt == NOW
    assert new.last_error == str(error or res.error) and not new.gone
    if state is not None:  # validators and hash untouched, so the next poll re-fetches and re-parses
        assert (new.etag, new.body_hash, new.last_success) == (OLD.etag, OLD.body_hash, OLD.last_success)


def test_backoff_never_gives_up_and_is_capped():
    state = replace(OLD, error_count=500)
    new = poll(state, result(None, None, error=NetworkError(URL, "x")))
    assert new.error_count == 501 and new.next_poll == at(S.max_backoff) and not new.gone


def test_error_message_is_one_line():
    new = poll(None, result(None, None, error=NetworkError(URL, "x")), error=ValueError("a\nb\n  c"))
    assert new.last_error == "a b c"


@pytest.mark.parametrize("res", [
    result(410, None, error=FeedGone(URL)),
    result(410, None, error=HTTPStatusError(URL, 410)),
])
def test_gone(res):
    new = poll(OLD, res)
    assert new.gone and new.next_poll is None and not is_due(SRC, new, NOW + 1000 * H, force=True)


# ----------------------------------------------------------------------------- a server's wishes


def answer(status, retry_after=None, **kw) -> FetchResult:
    """A poll's answer with the error the poller would attach to it."""
    error = None if status in (200, 304) else FeedGone(URL) if status == 410 else HTTPStatusError(URL, status)
    body = b"<rss/>" if status == 200 else None
    return result(status, body, error=error, retry_after=retry_after, **kw)


WAS = replace(OLD, next_poll=at(-60), error_count=3)  # due, three failures behind it


@pytest.mark.parametrize("res, until, reason, errors, next_poll", [
    # 429/503 with a Retry-After in the future: deferred, no error counted
    (answer(429, at(3600)), at(3600), "host answered 429", 3, at(3600)),
    (answer(503, at(120)), at(120), "host answered 503", 3, at(120)),
    (answer(429, at(10 * 86_400)), at(S.retry_after_cap), "host answered 429", 3, at(S.retry_after_cap)),  # capped
    # Retry-After already past (or "0"), or none: an ordinary failure, backing off
    (answer(429, at(-60)), None, None, 4, at(28_800)),
    (answer(429, NOW), None, None, 4, at(28_800)),
    (answer(503), None, None, 4, at(28_800)),
    # Retry-After on any other status is not a wish
    (answer(500, at(3600)), None, None, 4, at(28_800)),
    # a deferred result (never requested: its host said 429 earlier in this run)
    (result(None, None, deferred=True, deferred_by=429, retry_after=at(900)), at(900), "host answered 429", 3,
     at(900)),
    # any real answer ends the deferral
    (answer(200), None, None, 0, at(1800)),
    (answer(304), None, None, 0, at(1800)),
])
def test_server_wishes(res, until, reason, errors, next_poll):
    new = poll(WAS, res)
    assert (new.deferred_until, new.deferred_reason, new.error_count, new.next_poll) == (
        until, reason, errors, next_poll)
    if until is not None:
        assert new.deferred_host == "a.test" and new.deferred_since == NOW and not new.gone
        assert new.last_error == WAS.last_error  # a wish is not an error


@pytest.mark.parametrize("state, force, now, due", [
    # deferred: not before its time, forced or not
    (replace(WAS, deferred_until=at(3600), next_poll=at(3600)), False, NOW, False),
    (replace(WAS, deferred_until=at(3600), next_poll=at(3600)), True, NOW, False),
    (replace(WAS, deferred_until=at(3600), next_poll=at(3600)), True, at(3599), False),
    (replace(WAS, deferred_until=at(3600), next_poll=at(3600)), False, at(3600), True),
    # a deferral past its time, not yet cleared: due as usual
    (replace(WAS, deferred_until=at(-1), next_poll=at(-1)), False, NOW, True),
    # gone: never, forced or not
    (replace(WAS, gone=True, next_poll=None), True, at(10**6), False),
    # our own schedule: force overrides it (the interval, the backoff after errors) ...
    (replace(WAS, next_poll=at(7200), last_status=500), True, NOW, True),
    (replace(WAS, next_poll=at(7200), last_status=None), True, NOW, True),
    # ... but not the backoff after a 429 without Retry-After: the host said "too many requests"
    (replace(WAS, next_poll=at(7200), last_status=429), True, NOW, False),
    (replace(WAS, next_poll=at(7200), last_status=429), False, at(7200), True),
])
def test_force_never_overrides_a_server(state, force, now, due):
    assert is_due(SRC, state, now, force=force) is due


def test_a_deferral_following_a_deferral_is_one_episode():
    first = poll(WAS, answer(429, at(3600)))
    second = after_poll(SRC, first, answer(429, at(7200 + 3600)), at(7200), S, rng=NoJitter())
    assert second.deferred_since == first.deferred_since == NOW and second.deferred_until == at(7200 + 3600)
    recovered = after_poll(SRC, second, answer(304), at(3 * 3600), S, rng=NoJitter())
    assert (recovered.deferred_until, recovered.deferred_reason, recovered.deferred_host,
            recovered.deferred_since) == (None, None, None, None)


@pytest.mark.parametrize("state_next, expect", [(None, at(120)), (at(60), at(120)), (at(600), at(600))])
def test_deferred_result_only_moves_next_poll(state_next, expect):
    state = replace(OLD, next_poll=state_next)
    new = poll(state, result(None, None, deferred=True, deferred_by=503, retry_after=at(120)))
    assert new == replace(state, next_poll=expect, deferred_until=at(120), deferred_reason="host answered 503",
                          deferred_host="a.test", deferred_since=NOW)


def test_reset_revives_a_gone_feed_but_keeps_a_deferral():
    gone = poll(OLD, answer(410))
    assert gone.gone and not is_due(SRC, gone, at(10**6), force=True)
    revived = schedule.reset(gone)
    assert not revived.gone and revived.error_count == 0 and is_due(SRC, revived, NOW)
    deferred = schedule.reset(poll(replace(OLD, error_count=2), answer(429, at(3600))))
    assert deferred.error_count == 0 and deferred.deferred_until == at(3600) and not is_due(SRC, deferred, NOW, force=True)


# ----------------------------------------------------------------------------- redirects


B = "http://b.test/feed"


@pytest.mark.parametrize("target, count, seen, confirmations, expect", [
    (None, 0, B, 3, (None, B, 1)),
    (B, 1, B, 3, (None, B, 2)),
    (B, 2, B, 3, (B, None, 0)),  # confirmed: adopted
    ("http://c.test/", 2, B, 3, (None, B, 1)),  # a different target starts over
    (B, 2, None, 3, (None, None, 0)),  # a temporary redirect (or none) resets
    (None, 0, B, 1, (B, None, 0)),
])
def test_permanent_redirect_adoption(target, count, seen, confirmations, expect):
    state = FeedState(url=URL, redirect_target=target, redirect_count=count)
    new = poll(state, result(200, b"<rss/>", permanent_redirect=seen, final_url=seen or URL),
               settings=replace(S, redirect_confirmations=confirmations))
    assert (new.current_url, new.redirect_target, new.redirect_count) == expect


def test_temporary_redirect_never_changes_current_url():
    state = FeedState(url=URL, current_url=B, redirect_target="http://c.test/", redirect_count=2)
    new = poll(state, result(200, b"<rss/>", final_url="http://tmp.test/"))
    assert (new.current_url, new.redirect_target, new.redirect_count) == (B, None, 0)


def test_failed_poll_leaves_redirect_count_alone():
    state = FeedState(url=URL, redirect_target=B, redirect_count=2)
    new = poll(state, result(500, None, error=HTTPStatusError(URL, 500), permanent_redirect=B))
    assert (new.current_url, new.redirect_target, new.redirect_count) == (None, B, 2)


# ----------------------------------------------------------------------------- host deferrals


def deferred(url: str, until: datetime, host: str = "a.test", **kw) -> FeedState:
    return FeedState(url=url, next_poll=until, deferred_until=until, deferred_reason="host answered 429",
                     deferred_host=host, deferred_since=NOW, **kw)


def test_spread_host_deferrals():
    srcs = [Source(f"http://a.test/{i}") for i in range(5)] + [Source("http://b.test/1"),
                                                                 Source("http://old.test/moved")]
    states = {
        "http://a.test/0": deferred("http://a.test/0", at(120)),  # after_poll already ran
        "http://a.test/1": FeedState(url="http://a.test/1", next_poll=at(30)),
        "http://a.test/2": FeedState(url="http://a.test/2", next_poll=at(900)),
        "http://a.test/3": FeedState(url="http://a.test/3", gone=True),
        "http://old.test/moved": FeedState(url="http://old.test/moved", current_url="http://a.test/new"),
    }
    out = spread_host_deferrals(states, srcs, NOW)
    assert out["http://a.test/1"].next_poll == at(120) == out["http://a.test/1"].deferred_until  # moved later
    assert out["http://a.test/1"].deferred_reason == "host answered 429"
    assert out["http://a.test/2"].next_poll == at(900) and out["http://a.test/2"].deferred_until == at(120)  # never earlier
    assert out["http://a.test/3"] == states["http://a.test/3"]  # gone stays as it was
    assert out["http://a.test/4"] == deferred("http://a.test/4", at(120))  # new state
    assert out["http://old.test/moved"].next_poll == at(120)  # its adopted URL is on a.test
    assert "http://b.test/1" not in out and states["http://a.test/1"].next_poll == at(30)  # input untouched
    for key in ("http://a.test/1", "http://a.test/2", "http://a.test/4"):
        assert not is_due(Source(key), out[key], NOW, force=True)


def test_spread_is_bounded_by_the_capped_own_state():
    srcs = [Source("http://a.test/0"), Source("http://a.test/1")]
    res = answer(429, at(10**8), source=srcs[0], final_url="http://a.test/0")
    states = {"http://a.test/0": poll(None, res, source=srcs[0])}
    assert spread_host_deferrals(states, srcs, NOW)["http://a.test/1"].next_poll == at(S.retry_after_cap)


def test_spread_uses_the_host_that_answered():
    srcs = [Source("http://a.test/0"), Source("http://a.test/1"), Source("http://cdn.test/x")]
    res = answer(503, at(60), source=srcs[0], final_url="http://cdn.test/0")
    states = {"http://a.test/0": poll(None, res, source=srcs[0])}
    out = spread_host_deferrals(states, srcs, NOW)
    assert set(out) == {"http://a.test/0", "http://cdn.test/x"} and out["http://cdn.test/x"].next_poll == at(60)


def test_spread_ignores_deferrals_past_their_time():
    srcs = [Source("http://a.test/0"), Source("http://a.test/1")]
    states = {"http://a.test/0": deferred("http://a.test/0", at(-1))}
    assert spread_host_deferrals(states, srcs, NOW) == states


@pytest.mark.parametrize("url, host", [("http://A.Test:8080/x", "a.test"), ("file:///tmp/x", ""), ("nonsense", "")])
def test_host_of(url, host):
    assert schedule.host_of(url) == host


# ----------------------------------------------------------------------------- the whole rule, header to next run


@pytest.mark.parametrize("status, retry_after, forced, later, due, state", [
    # (answer status, its Retry-After header, is the next run forced, how long after, due then?, standing)
    (429, "3600", False, 1800, False, "deferred"),
    (429, "3600", True, 1800, False, "deferred"),  # --force does not re-ask
    (429, "3600", True, 3599, False, "deferred"),
    (429, "3600", False, 3600, True, "deferred"),  # its time has come (the state clears at the answer)
    (429, "Sat, 01 Mar 2025 14:00:00 GMT", True, 3600, False, "deferred"),  # an HTTP date: two hours
    (429, "Sat, 01 Mar 2025 14:00:00 GMT", False, 7200, True, "deferred"),
    (503, "120", True, 60, False, "deferred"),
    (429, str(10 * 86_400), True, 86_399, False, "deferred"),  # capped at a day …
    (429, str(10 * 86_400), False, 86_400, True, "deferred"),  # … and no longer
    (429, None, True, 60, False, "failing"),  # no Retry-After: backoff, which force does not override after a 429
    (429, "0", True, 60, False, "failing"),
    (503, None, True, 60, True, "failing"),  # a 503 without Retry-After: our backoff, which force overrides
    (500, "3600", True, 60, True, "failing"),  # Retry-After means nothing on a 500
    (410, None, True, 10**7, False, "gone"),
])
def test_a_servers_answer_binds_the_next_runs(status, retry_after, forced, later, due, state):
    wish = parse_retry_after(retry_after, NOW)  # even on a 500: only 429 and 503 make it a wish
    new = poll(WAS, answer(status, wish))
    assert is_due(SRC, new, at(later), force=forced) is due
    kind = "gone" if new.gone else "deferred" if new.deferred_until else "failing" if new.error_count > WAS.error_count else "?"
    assert kind == state
