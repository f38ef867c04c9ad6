"""One run: poll → store → publish. Owns the order of the stages and the clock, no business rules.

Every entry point takes the ``Config`` and optional injections (an ``httpx``
client or transport, ``now``), opens the store (``settings.store``: TinyDB files or a
PostgreSQL database) for its whole duration, and loads it once. The store's
protocol (``store.Backend``) says when what is written: TinyDB once, at ``save``;
PostgreSQL feed by feed, as each is merged (see ``aggregator/store/protocol.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from .. import fetch, gcpolicy, parse
from .. import publish as publisher
from ..fetch import schedule
from ..records import Config, FetchResult, Snapshot
from ..reports import FeedOutcome, PublishReport, RunReport
from ..store import Backend, open_store
from . import upkeep
from .merge import Merger, not_due
from .prepare import TagTexts
from .stages import Stopwatch

log = logging.getLogger(__name__)
OnResult = Callable[[FetchResult], None]
OnStart = Callable[[int], None]
POOL_MIN_JOBS = 8  # fewer feeds than this are parsed in this process


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def session(config: Config, watch: Stopwatch | None = None) -> Iterator[tuple[Backend, Snapshot]]:
    """Open (TinyDB: lock) the store and load it once. The caller saves (or not)."""
    store = open_store(config.settings.store, lock_timeout=config.settings.lock_timeout)
    with store.lock():
        with (watch or Stopwatch()).stage("store load"):
            snap = store.load()
        yield store, snap


def poll(config: Config, *, client: Any = None, transport: Any = None, now: datetime | None = None,
         force: bool = False, on_result: OnResult | None = None, on_start: OnStart | None = None
         ) -> RunReport:
    """Fetch the due feeds, merge their entries into the store, save it once."""
    return _poll(config, publish=False, client=client, transport=transport, now=now, force=force,
                 on_result=on_result, on_start=on_start)


def run(config: Config, *, client: Any = None, transport: Any = None, now: datetime | None = None,
        force: bool = False, on_result: OnResult | None = None, on_start: OnStart | None = None
        ) -> RunReport:
    """The cron job: poll, save, then publish the topics whose items changed."""
    return _poll(config, publish=True, client=client, transport=transport, now=now, force=force,
                 on_result=on_result, on_start=on_start)


def publish(config: Config, *, now: datetime | None = None, topics: set[str] | None = None) -> PublishReport:
    """Write the output files from the store (all topics unless *topics* is given)."""
    now = now or utcnow()
    with session(config) as (store, snap), store.publishing(snap, config.settings.output_dir):
        report = publisher.publish(config, snap, now=now, topics=topics)
    _ping_hub(config, report)
    return report


def _poll(config: Config, *, publish: bool, now: datetime | None, **kwargs: Any) -> RunReport:
    started = time.monotonic()
    watch = Stopwatch()
    now = now or utcnow()
    pub = None
    with gcpolicy.one_run(), session(config, watch) as (store, snap):
        report = poll_snapshot(config, snap, store=store, now=now, watch=watch, **kwargs)
        if not publish and report.changed_topics:  # the next run that publishes renders them
            upkeep.note_unpublished(snap, report.changed_topics)
        with watch.stage("store load"):
            aged = upkeep.due(config, snap.meta, now, publishing=publish)
            if aged:  # time alone changed what is published or stored: read the items
                snap.items  # noqa: B018
            store.verify(snap)  # never silent about a broken store, even when no feed changed
        with watch.stage("upkeep"):
            chosen = upkeep.choose(config, snap, now, publishing=publish)
            report = upkeep.prune(config, store, snap, now, report, chosen)
            upkeep.save_times(config, snap, now, chosen, publishing=publish)
            if snap.items_loaded:  # counts for the metrics of runs that will not read the items
                snap.meta["item_counts"] = publisher.item_counts(snap.heads())
        with watch.stage("store save"):
            store.save(snap)  # saved before publishing: a failed publish loses no item
        if not publish:
            return dataclasses.replace(report, duration=time.monotonic() - started, stages=watch.totals())
        # One publisher at a time writes the output folder (pollers sharing a database store).
        with watch.stage("publish"), store.publishing(snap, config.settings.output_dir) as stale:
            pub = _publish_after_poll(config, snap, now, report, aged - {upkeep.RETENTION}, chosen, stale)
            report = dataclasses.replace(report, publish=pub, duration=time.monotonic() - started)
            # metrics change every run by nature (durations, times); they are not a feed
            metrics = publisher.metrics_text(snap, config.sources, report, now, snap.meta.get("item_counts"))
            publisher.write_atomic(config.settings.output_dir / "metrics.prom", metrics.encode("utf-8"))
    if pub is not None:
        _ping_hub(config, pub)
    return dataclasses.replace(report, stages=watch.totals())


def _publish_after_poll(config: Config, snap: Snapshot, now: datetime, report: RunReport, aged: set[str],
                        chosen: dict[str, list] | None, stale: bool) -> PublishReport:
    """Publish the topics that changed, and those whose items aged out (*aged*). When no item was
    even read (every feed 304, unchanged or failed; nothing aged out) and every file is there,
    rendered for this config, nothing but the health feed can have changed. Every topic, when
    other pollers changed the store since this output folder was last published (*stale*:
    never with TinyDB, whose run holds the whole store). Called under ``store.publishing``."""
    if not stale and not snap.items_loaded and publisher.outputs_complete(config):
        publisher.publish_health(config, snap.feeds)
        return PublishReport()
    topics = None if stale else set(report.changed_topics) | aged
    return publisher.publish(config, snap, now=now, topics=topics, chosen=chosen)


# ----------------------------------------------------------------------------- the poll


def poll_snapshot(config: Config, snap: Snapshot, *, store: Backend | None = None, client: Any = None,
                  transport: Any = None, now: datetime, force: bool = False, on_result: OnResult | None = None,
                  on_start: OnStart | None = None, watch: Stopwatch | None = None) -> RunReport:
    """Poll into an already loaded snapshot (mutated in place). With *store*, a due feed is polled
    only if the store lets this run claim it (right before its request), and each feed's
    merge is one of its transactions; without, no store I/O.

    Bodies go to the parser processes as soon as they arrive, and each feed's entries
    are merged (and tagged) as soon as it and every feed before it in the config are
    parsed: merging overlaps fetching and parsing, and happens in config order, so the
    result is the same however many processes parsed them.
    """
    settings = config.settings
    watch = watch or Stopwatch()
    outcomes: dict[str, FeedOutcome] = {}
    jobs = []
    # A host that asked us to wait holds every feed on it, also one added since.
    snap.feeds.update(schedule.spread_host_deferrals(snap.feeds, config.sources, now))
    for source in config.sources:
        state = snap.feeds.get(source.key)
        if schedule.is_due(source, state, now, force=force):
            jobs.append((source, state))
        else:
            outcomes[source.key] = not_due(source.key, state, now)
    if on_start:
        on_start(len(jobs))
    before = {key: state.current_url for key, state in snap.feeds.items()}
    # A pool costs process start-up: worth it only when there is a lot to parse.
    workers = settings.parse_workers if len(jobs) >= POOL_MIN_JOBS else 1
    merger = Merger(config, snap, now, outcomes, store, watch)
    order = [source.key for source, _state in jobs]
    # Fetched, not merged yet (merged in config order): a body is let go once it is parsed.
    arrived: dict[str, tuple[FetchResult, Future | None, str | None]] = {}
    done = 0  # jobs merged so far, in config order
    parsing = 0  # of the arrived: those sent to a parser (their entries held here until merged)
    known_here = 0  # feeds parsed before, parsed in this process this poll
    ready: Callable[[int], list[FetchResult]] = _nothing_more  # results already here (a fetch process's)

    def advance(wait: bool) -> None:
        nonlocal done, parsing
        while done < len(order) and order[done] in arrived:
            # Results that came meanwhile: their bodies to the parsers first; but no more than
            # AHEAD feeds waiting for their merge whose bodies or entries this process holds
            # (a 304 waiting for its turn holds nothing).
            for res in ready(fetch.process.AHEAD - parsing):
                receive(res)
            res, future, digest = arrived[order[done]]
            if future is not None and not wait and not future.done():
                return
            del arrived[order[done]]
            done += 1
            parsing -= future is not None
            parsed = None
            if future is not None:
                with watch.stage("parse"):  # waits only when the parser is behind
                    parsed = future.result()
            merger.handle(res, parsed, digest)

    with parse.ParsePool(workers, prepare=TagTexts(config.topics)) as pool:
        def receive(res: FetchResult) -> None:
            nonlocal known_here, parsing
            state = snap.feeds.get(res.source.key)
            future = digest = None
            if res.body is not None and _fetched(res):
                digest = schedule.body_hash(res.body)
            if digest is not None and (state is None or state.body_hash != digest):  # else: the same bytes
                skip = frozenset(state.item_hashes) if state else frozenset()
                job = parse.ParseJob(res.body, res.final_url, dict(res.headers), res.source.key, skip)
                here = not parse.worth_a_process(job, known_here)  # a few feeds parsed before: here
                known_here += bool(here and job.skip)
                with watch.stage("parse"):
                    future = pool.submit(job, here=here)
                parsing += 1
            if on_result:
                on_result(res)
            arrived[res.source.key] = (dataclasses.replace(res, body=None) if res.body is not None else res,
                                       future, digest)

        def fetched(res: FetchResult) -> None:
            receive(res)
            advance(wait=False)

        # Other pollers may share the store: a feed is claimed right before its request.
        shared = store is not None and not store.exclusive
        admit = (lambda source: store.claim(snap, source.key)) if shared else None
        if jobs and client is None and transport is None and admit is None \
                and fetch.process.worth_a_process(len(jobs), settings.parse_workers):
            # The requests go on in another process while this one merges (fetch/process.py).
            with watch.stage("fetch"), fetch.FetchProcess(jobs, settings, now=now) as fetcher:
                ready = fetcher.ready
                while (res := fetcher.next()) is not None:
                    fetched(res)
        elif jobs:  # each result is handled as it arrives (fetched), so the list itself is not needed
            with watch.stage("fetch"):
                asyncio.run(fetch.fetch_all(jobs, settings, client=client, transport=transport, now=now,
                                            on_result=fetched, admit=admit, bodies=False))
        ready = _nothing_more
        advance(wait=True)
        with watch.stage("parse"):  # its processes end
            pool.close()

    snap.feeds.update(schedule.spread_host_deferrals(snap.feeds, config.sources, now))
    for key, outcome in outcomes.items():  # report adopted permanent redirects
        state = snap.feeds.get(key)
        if state is not None and state.current_url and state.current_url != before.get(key):
            outcomes[key] = dataclasses.replace(outcome, redirected_to=state.current_url)
    return RunReport(
        outcomes=tuple(outcomes[s.key] for s in config.sources),
        new_items=merger.new, updated_items=merger.updated, merged_items=merger.merged,
        changed_topics=merger.changed_topics(),
    )


def _nothing_more(limit: int) -> list[FetchResult]:
    return []


def _fetched(res: FetchResult) -> bool:
    """A body arrived (to parse, unless it is the same bytes as the last one parsed)."""
    return not (res.deferred or res.declined or res.error is not None or res.not_modified)


def _ping_hub(config: Config, report: PublishReport) -> None:
    hub = config.settings.websub_hub
    if not hub or not report.written:
        return
    urls = publisher.changed_feed_urls(config, report)
    if urls:
        for result in fetch.hub.ping(hub, urls, settings=config.settings):  # a hub outage never fails the run
            if not result.ok:
                log.warning("%s", result.error)
