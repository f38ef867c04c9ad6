"""Health verdict and Prometheus metrics from the store snapshot (pure: no I/O, ``now`` passed in).

``health_verdict`` backs ``aggregator stats --health`` (exit 0/1 for a monitor);
``metrics_text`` is written to ``output/metrics.prom`` for the node exporter's
textfile collector, or any scraper that reads the text exposition format.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Mapping

from ..records import FeedState, Item, Snapshot, Source, utc
from ..reports import RunReport


def is_failing(state: FeedState | None) -> bool:
    """A feed is failing when its last poll failed. Never polled is not failing, and neither are
    the feeds a server asked us to leave alone: gone (410) or deferred (Retry-After)."""
    return state is not None and state.error_count > 0 and not state.gone and state.deferred_until is None


def is_deferred(state: FeedState | None) -> bool:
    """The host's last word was "wait" (a deferral lasts until the next answer)."""
    return state is not None and not state.gone and state.deferred_until is not None


def when(dt: datetime, now: datetime) -> str:
    """``17:05 UTC`` today, ``2026-12-01 17:05 UTC`` on another day."""
    dt = utc(dt)
    return dt.strftime("%H:%M UTC") if dt.date() == utc(now).date() else dt.strftime("%Y-%m-%d %H:%M UTC")


def standing(state: FeedState | None, now: datetime) -> tuple[str, str]:
    """(kind, words) of one configured feed, for ``stats``, ``feeds list`` and the health feed.

    kind: "new" (never polled), "gone", "deferred", "failing" or "ok"; words:
    "deferred until 17:05 UTC: host answered 429", "gone (HTTP 410): …".
    """
    if state is None or state.last_attempt is None and not state.deferred_until:
        return "new", "never polled"
    if state.gone:
        return "gone", "gone (HTTP 410): not polled until `aggregator feeds reset URL`"
    if state.deferred_until is not None:
        over = "" if state.deferred_at(now) else " (over: asked again at the next run)"
        return "deferred", (f"deferred until {when(state.deferred_until, now)}{over}: "
                            f"{state.deferred_reason or 'host asked'}")
    if state.error_count:
        return "failing", f"failing ({state.error_count} in a row): {state.last_error or 'unknown error'}"
    return "ok", "ok"


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def health_verdict(snapshot: Snapshot, sources: Iterable[Source], now: datetime,
                   max_failing_share: float = 0.5) -> tuple[bool, str]:
    """(ok, one line). Not ok when no feed is configured, or more than *max_failing_share* of them fail.

    Only the configured sources count: state left in the store by a feed since
    removed from feeds.yaml says nothing about health.
    """
    keys = [s.key for s in sources]
    if not keys:
        return False, "FAIL: no feeds configured"
    states = [snapshot.feeds.get(k) for k in keys]
    failing = [k for k, st in zip(keys, states) if is_failing(st)]
    never = sum(1 for st in states if st is None or st.last_attempt is None)
    share = len(failing) / len(keys)
    ok = share <= max_failing_share
    line = (f"{'OK' if ok else 'FAIL'}: {len(failing)}/{len(keys)} feeds failing "
            f"({share:.0%}, limit {max_failing_share:.0%})")
    if never:
        line += f", {never} never polled"
    deferred = sum(1 for st in states if is_deferred(st))
    gone = sum(1 for st in states if st is not None and st.gone)
    if deferred:
        line += f", {deferred} deferred by their host"
    if gone:
        line += f", {gone} gone"
    successes = [utc(st.last_success) for st in states if st is not None and st.last_success]
    if successes:
        line += f"; last success {_ago((utc(now) - max(successes)).total_seconds())} ago"
    if failing and not ok:
        shown = ", ".join(failing[:3]) + (f" and {len(failing) - 3} more" if len(failing) > 3 else "")
        line += f"; failing: {shown}"
    return ok, line


# ----------------------------------------------------------------------------- Prometheus


def escape_label(value: str) -> str:
    """A label value as the text exposition format wants it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(v: float) -> str:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf")
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    return str(int(v))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_: str,
               samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for labels, value in samples:
            lab = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{lab}}} {_num(value)}" if lab else f"{name} {_num(value)}")


def item_counts(items: Mapping[str, Item]) -> dict[str, Any]:
    """``{"total": n, "by_topic": {slug: n}}``: kept in the store's meta, so that the metrics
    of a run that read no item need not read them."""
    by_topic: Counter[str] = Counter()
    for item in items.values():
        by_topic.update(set(item.topics))
    return {"total": len(items), "by_topic": dict(sorted(by_topic.items()))}


def metrics_text(snapshot: Snapshot, sources: Iterable[Source], report: RunReport | None,
                 now: datetime, counts: Mapping[str, Any] | None = None) -> str:
    """The store and the last run in the Prometheus text exposition format (version 0.0.4).

    ``report`` is the run that just ended (its end is *now*); without one the last
    run time is the newest poll attempt in the store, and the duration is left out.
    *counts* (from :func:`item_counts`) stands in for the items when given.
    """
    sources = list(sources)
    states = {s.key: snapshot.feeds.get(s.key) for s in sources}
    counts = counts if counts is not None else item_counts(snapshot.items)
    by_topic = counts["by_topic"]
    w = _Writer()
    w.metric("aggregator_feeds_total", "gauge", "Feeds in the config.", [({}, len(sources))])
    w.metric("aggregator_feeds_failing", "gauge", "Configured feeds whose last poll failed (not gone, not deferred).",
             [({}, sum(1 for st in states.values() if is_failing(st)))])
    w.metric("aggregator_feeds_deferred", "gauge", "Configured feeds whose host asked to wait (429/503 Retry-After).",
             [({}, sum(1 for st in states.values() if is_deferred(st)))])
    w.metric("aggregator_feeds_gone", "gauge", "Configured feeds gone (410), not polled until reset.",
             [({}, sum(1 for st in states.values() if st is not None and st.gone))])
    w.metric("aggregator_items_total", "gauge", "Items in the store.", [({}, counts["total"])])
    w.metric("aggregator_items_by_topic", "gauge", "Items in the store per topic.",
             [({"topic": t}, n) for t, n in sorted(by_topic.items())])
    w.metric("aggregator_feed_errors", "gauge", "Consecutive failed polls per feed (0 when the last one worked).",
             [({"feed": k}, st.error_count if st else 0) for k, st in states.items()])
    w.metric("aggregator_feed_last_success_timestamp_seconds", "gauge",
             "Unix time of the last successful poll per feed.",
             [({"feed": k}, utc(st.last_success).timestamp()) for k, st in states.items()
              if st is not None and st.last_success is not None])
    if report is not None:
        w.metric("aggregator_run_duration_seconds", "gauge", "Wall-clock duration of the last run.",
                 [({}, float(report.duration))])
        w.metric("aggregator_run_new_items", "gauge", "Items the last run added.", [({}, report.new_items)])
        w.metric("aggregator_run_updated_items", "gauge", "Items the last run changed.", [({}, report.updated_items)])
        w.metric("aggregator_run_merged_items", "gauge",
                 "Reports the last run merged into a story from another source.", [({}, report.merged_items)])
        last_run: datetime | None = now
    else:
        attempts = [st.last_attempt for st in snapshot.feeds.values() if st.last_attempt]
        last_run = max((utc(a) for a in attempts), default=None)
    if last_run is not None:
        w.metric("aggregator_last_run_timestamp_seconds", "gauge", "Unix time the last run ended.",
                 [({}, utc(last_run).timestamp())])
    return "\n".join(w.lines) + "\n"
