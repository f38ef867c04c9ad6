"""Health verdict and Prometheus metrics: pure functions, table-driven."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from aggregator.publish.health import escape_label, health_verdict, is_failing, metrics_text, standing
from aggregator.records import FeedState, Item, Snapshot, Source
from aggregator.reports import FeedOutcome, RunReport

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
A, B, C, D = (Source(url=f"https://{x}.example/feed") for x in "abcd")


def ok_state(src: Source, ago: timedelta = timedelta(minutes=5)) -> FeedState:
    return FeedState(url=src.url, last_attempt=NOW - ago, last_success=NOW - ago, last_status=200)


def bad_state(src: Source, errors: int = 3) -> FeedState:
    return FeedState(url=src.url, last_attempt=NOW, error_count=errors, last_error="HTTP 500")


def DEFERRED(src: Source) -> FeedState:  # noqa: N802 - reads as a constant in the tables
    return FeedState(url=src.url, last_attempt=NOW, last_status=429, error_count=1, last_error="HTTP 500 before",
                     deferred_until=NOW + timedelta(hours=1), deferred_reason="host answered 429",
                     deferred_host="b.example", deferred_since=NOW)


def snap(*states: FeedState, items: dict | None = None) -> Snapshot:
    return Snapshot(items=items or {}, feeds={s.url: s for s in states})


@pytest.mark.parametrize("state, failing", [
    (None, False),
    (FeedState(url="u"), False),
    (FeedState(url="u", error_count=1), True),
    # a server's wishes: neither a gone feed nor a deferred one is failing
    (FeedState(url="u", gone=True), False),
    (FeedState(url="u", gone=True, error_count=1, last_status=410), False),
    (FeedState(url="u", error_count=2, deferred_until=NOW + timedelta(hours=1)), False),
    (FeedState(url="u", error_count=2, deferred_until=NOW - timedelta(hours=1)), False),  # until its next answer
])
def test_is_failing(state, failing) -> None:
    assert is_failing(state) is failing


@pytest.mark.parametrize("snapshot, sources, share, ok, line", [
    (snap(), [], 0.5, False, "FAIL: no feeds configured"),
    (snap(ok_state(A), ok_state(B, timedelta(hours=3))), [A, B], 0.5, True,
     "OK: 0/2 feeds failing (0%, limit 50%); last success 5m ago"),
    (snap(ok_state(A), bad_state(B)), [A, B], 0.5, True,
     "OK: 1/2 feeds failing (50%, limit 50%); last success 5m ago"),
    (snap(ok_state(A), bad_state(B), FeedState(url=C.url, last_attempt=NOW, gone=True)), [A, B, C], 0.5, True,
     "OK: 1/3 feeds failing (33%, limit 50%), 1 gone; last success 5m ago"),
    (snap(bad_state(A), bad_state(B), FeedState(url=C.url, last_attempt=NOW, gone=True)), [A, B, C], 0.5, False,
     f"FAIL: 2/3 feeds failing (67%, limit 50%), 1 gone; failing: {A.url}, {B.url}"),
    (snap(ok_state(A), DEFERRED(B), FeedState(url=C.url, last_attempt=NOW, gone=True, error_count=1)), [A, B, C],
     0.0, True, "OK: 0/3 feeds failing (0%, limit 0%), 1 deferred by their host, 1 gone; last success 5m ago"),
    (snap(bad_state(A), bad_state(B), bad_state(C), bad_state(D)), [A, B, C, D], 0.9, False,
     f"FAIL: 4/4 feeds failing (100%, limit 90%); failing: {A.url}, {B.url}, {C.url} and 1 more"),
    (snap(ok_state(A, timedelta(days=2, hours=1))), [A, B], 0.5, True,
     "OK: 0/2 feeds failing (0%, limit 50%), 1 never polled; last success 2d ago"),
    # state of a feed no longer configured does not count
    (snap(ok_state(A), bad_state(B)), [A], 0.0, True, "OK: 0/1 feeds failing (0%, limit 0%); last success 5m ago"),
])
def test_health_verdict(snapshot, sources, share, ok, line) -> None:
    assert health_verdict(snapshot, sources, NOW, max_failing_share=share) == (ok, line)


@pytest.mark.parametrize("raw, escaped", [
    ("plain", "plain"), ('say "hi"', 'say \\"hi\\"'), ("back\\slash", "back\\\\slash"), ("two\nlines", "two\\nlines"),
])
def test_escape_label(raw: str, escaped: str) -> None:
    assert escape_label(raw) == escaped


def item(i: int, *topics: str) -> Item:
    return Item(id=f"i{i}", keys=(f"k{i}",), canonical_url=None, link=None, title=f"t{i}", topics=topics)


ITEMS = {x.id: x for x in [item(1, "nato"), item(2, "nato", "ukraine"), item(3)]}
WEIRD = Source(url='https://w.example/feed?q="x"\\y')


def samples(text: str) -> dict[str, str]:
    return {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1] for line in text.splitlines() if not line.startswith("#")}


def test_metrics_text_with_report() -> None:
    text = metrics_text(snap(ok_state(A), bad_state(B, 2), items=ITEMS), [A, B, WEIRD],
                        RunReport(outcomes=(FeedOutcome(A.url, "fetched"),), new_items=4, updated_items=2,
                                  merged_items=1, duration=1.25), NOW)
    got = samples(text)
    assert got == {
        "aggregator_feeds_total": "3",
        "aggregator_feeds_failing": "1",
        "aggregator_feeds_deferred": "0",
        "aggregator_feeds_gone": "0",
        "aggregator_run_updated_items": "2",
        "aggregator_run_merged_items": "1",
        "aggregator_items_total": "3",
        'aggregator_items_by_topic{topic="nato"}': "2",
        'aggregator_items_by_topic{topic="ukraine"}': "1",
        f'aggregator_feed_errors{{feed="{A.url}"}}': "0",
        f'aggregator_feed_errors{{feed="{B.url}"}}': "2",
        'aggregator_feed_errors{feed="https://w.example/feed?q=\\"x\\"\\\\y"}': "0",
        f'aggregator_feed_last_success_timestamp_seconds{{feed="{A.url}"}}': str(int((NOW - timedelta(minutes=5)).timestamp())),
        "aggregator_run_duration_seconds": "1.25",
        "aggregator_run_new_items": "4",
        "aggregator_last_run_timestamp_seconds": str(int(NOW.timestamp())),
    }
    assert text.endswith("\n")


def test_metrics_every_metric_has_help_and_type_once() -> None:
    text = metrics_text(snap(ok_state(A), items=ITEMS), [A, WEIRD], RunReport(duration=0.5), NOW)
    names = {re.match(r"[a-z_]+", line).group(0) for line in text.splitlines() if not line.startswith("#")}
    for name in names:
        assert text.count(f"# HELP {name} ") == 1 and text.count(f"# TYPE {name} gauge") == 1
    for line in text.splitlines():  # the exposition grammar, line by line
        assert re.fullmatch(r'# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z]+="(?:[^"\\\n]|\\.)*"\})? [0-9.e+-]+', line), line


@pytest.mark.parametrize("states, report, last_run", [
    ((ok_state(A, timedelta(hours=1)), bad_state(B)), None, NOW),  # newest attempt in the store
    ((ok_state(A, timedelta(hours=1)),), None, NOW - timedelta(hours=1)),
    ((), None, None),  # never run: no sample rather than a made-up time
])
def test_metrics_without_report(states, report, last_run) -> None:
    got = samples(metrics_text(snap(*states), [A, B], report, NOW))
    assert "aggregator_run_duration_seconds" not in got
    if last_run is None:
        assert "aggregator_last_run_timestamp_seconds" not in got
    else:
        assert got["aggregator_last_run_timestamp_seconds"] == str(int(last_run.timestamp()))


def test_metrics_count_deferred_and_gone_apart() -> None:
    gone = FeedState(url=C.url, last_attempt=NOW, gone=True, error_count=1)
    got = samples(metrics_text(snap(ok_state(A), DEFERRED(B), gone, bad_state(D)), [A, B, C, D], None, NOW))
    assert (got["aggregator_feeds_failing"], got["aggregator_feeds_deferred"], got["aggregator_feeds_gone"]) == (
        "1", "1", "1")


@pytest.mark.parametrize("state, kind, words", [
    (None, "new", "never polled"),
    (FeedState(url="u"), "new", "never polled"),
    (ok_state(A), "ok", "ok"),
    (bad_state(A), "failing", "failing (3 in a row): HTTP 500"),
    (DEFERRED(B), "deferred", "deferred until 13:00 UTC: host answered 429"),
    (FeedState(url="u", last_attempt=NOW, deferred_until=NOW + timedelta(days=2), deferred_reason="host answered 503"),
     "deferred", "deferred until 2026-12-01 12:00 UTC: host answered 503"),  # another day: with its date
    (FeedState(url="u", last_attempt=NOW - timedelta(hours=2), deferred_until=NOW - timedelta(hours=1),
               deferred_reason="host answered 429"),
     "deferred", "deferred until 11:00 UTC (over: asked again at the next run): host answered 429"),
    (FeedState(url="u", last_attempt=NOW, gone=True, error_count=1, next_poll=None), "gone",
     "gone (HTTP 410): not polled until `aggregator feeds reset URL`"),
])
def test_standing(state, kind, words) -> None:
    assert standing(state, NOW) == (kind, words)
