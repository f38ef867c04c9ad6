"""Fold each polled feed into the snapshot: its feed state, its outcome, its entries (merged
by ``dedup`` and tagged by ``tag``). The decisions are the stages'; this module only
applies them in order and counts what happened.
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Iterator

from .. import dedup, tag
from ..errors import ParseError, StoreError
from ..fetch import schedule
from ..records import Config, FeedState, FetchResult, ParsedFeed, Snapshot, SourceRef
from ..reports import FeedOutcome
from ..store import NO_CHANGES, Backend, Changes
from .stages import Stopwatch

log = logging.getLogger("aggregator.pipeline")


class Merger:
    """Folds each polled feed into the snapshot: its state, its outcome, its entries (tagged)."""

    def __init__(self, config: Config, snap: Snapshot, now: datetime, outcomes: dict[str, FeedOutcome],
                 store: Backend | None = None, watch: Stopwatch | None = None):
        self.config, self.snap, self.now, self.outcomes = config, snap, now, outcomes
        self.watch = watch or Stopwatch()
        self.store = store  # each parsed feed is merged in one of its transactions
        # The items are read (and indexed) only once some feed has something new to merge:
        # a run where every feed answers 304 never reads them.
        self.index: dedup.ItemIndex | None = None
        self.rules: tag.Rules | None = None  # see _rules
        self.changed: set[str] = set()
        self.new = self.updated = self.merged = 0

    def handle(self, res: FetchResult, parsed: ParsedFeed | ParseError | None, digest: str | None = None) -> None:
        """Fold one polled feed in; *digest*: its body's hash, when its body is gone already."""
        key, settings, now = res.source.key, self.config.settings, self.now
        if res.declined:  # another poller has it: its state is theirs to write
            self.outcomes[key] = FeedOutcome(key, "claimed")
            return
        state = self.snap.feeds.get(key)
        if parsed is None:
            with self.watch.stage("state"):
                self.snap.feeds[key] = schedule.after_poll(res.source, state, res, now, settings, digest=digest)
                self.outcomes[key] = outcome(res, self.snap.feeds[key])
            return
        if isinstance(parsed, ParseError):
            self.snap.feeds[key] = schedule.after_poll(res.source, state, res, now, settings, error=parsed,
                                                       digest=digest)
            self.outcomes[key] = FeedOutcome(key, "failed", res.status, error=str(parsed))
            return
        if parsed.entries and self.index is None:  # updates snap.items in place; read before any lock
            with self.watch.stage("store load"):
                items, tombstones = self.snap.items, self.snap.tombstones
            with self.watch.stage("index"):
                self.index = dedup.ItemIndex(items, tombstones, settings.near_duplicates)
        if parsed.text_reasons:  # a parser process tagged the entries' texts (pipeline.prepare)
            with self.watch.stage("tag"):
                self._rules().remember(zip(map(tag.text_of, parsed.entries), parsed.text_reasons))
        with self._transaction(key) as changes:  # the items and the state of this feed, stored together
            if changes and self.index is not None:
                self.index.refresh(changes.changed, changes.removed)
            self._fold(res, parsed, state, digest)

    def _transaction(self, key: str) -> AbstractContextManager[Changes]:
        return self.store.transaction(self.snap, feeds=[key]) if self.store is not None else _nothing()

    def _fold(self, res: FetchResult, parsed: ParsedFeed, state: FeedState | None, digest: str | None) -> None:
        key, settings, now = res.source.key, self.config.settings, self.now
        n_new = n_upd = n_merged = 0
        if parsed.entries:  # none: e.g. only <lastBuildDate> moved, every item was known
            changed: set[str] = set()
            try:
                with self.watch.stage("merge"):
                    n_new, n_upd, n_merged = _merge(self.index, parsed, res.source.name, now, changed)
            except StoreError:
                raise  # the store itself is damaged: stop before saving anything
            except Exception as exc:  # noqa: BLE001 - a bug met by one feed must not cost the others
                log.debug("merging %s failed", key, exc_info=True)
                error = f"{key}: internal error while merging its entries: {type(exc).__name__}: {exc}"
                self.outcomes[key] = FeedOutcome(key, "failed", res.status, error=_one_line_text(error))
                self._tag(changed)  # it may have changed some items before it failed
                return
            self._tag(changed)
        with self.watch.stage("state"):
            self.snap.feeds[key] = schedule.after_poll(res.source, state, res, now, settings, parsed=parsed,
                                                       digest=digest)
        self.new, self.updated, self.merged = self.new + n_new, self.updated + n_upd, self.merged + n_merged
        self.outcomes[key] = FeedOutcome(key, "fetched", res.status, new=n_new, updated=n_upd, merged=n_merged)

    def _tag(self, ids: set[str]) -> None:
        """Tag what one feed changed, now (an item a later feed changes again is tagged again):
        the topics depend on nothing but the item itself."""
        with self.watch.stage("tag"):
            if ids:
                rules, items = self._rules(), self.snap.items
                for item_id in ids:
                    items[item_id] = rules.tag(items[item_id])
            self.changed |= ids

    def _rules(self) -> tag.Rules:
        if self.rules is None:  # compiled when the first item changes
            self.rules = tag.Rules.compile(self.config.topics, self.config.sources, remember=True)
        return self.rules

    def changed_topics(self) -> tuple[str, ...]:
        """Topics of the changed items, as they are and as they were."""
        if self.index is None:
            return ()
        topics: set[str] = set()
        heads = self.snap.heads()
        for item_id in self.changed:
            head = heads.get(item_id)  # None: another poller pruned it since
            if head is not None:
                topics.update(head.topics)
            before = self.index.before.get(item_id)
            if before is not None:
                topics.update(before.topics)
        return tuple(sorted(topics))


@contextmanager
def _nothing() -> Iterator[Changes]:
    yield NO_CHANGES


def outcome(res: FetchResult, state: FeedState) -> FeedOutcome:
    """The outcome of a poll whose body was not parsed; *state* is the feed's state after it."""
    key = res.source.key
    if res.deferred:  # not requested: its host asked us to wait, earlier in this run
        return FeedOutcome(key, "deferred", deferred_until=state.deferred_until)
    if state.deferred_until is not None:  # the server answered "wait": said once, on stderr
        return FeedOutcome(key, "deferred", res.status, error=_one_line(res.error),
                           deferred_until=state.deferred_until)
    if res.error is not None:
        return FeedOutcome(key, "failed", res.status, error=str(res.error))
    if res.not_modified:
        return FeedOutcome(key, "not_modified", 304)
    return FeedOutcome(key, "unchanged", res.status)  # the same bytes as last time


def not_due(key: str, state: FeedState | None, now: datetime) -> FeedOutcome:
    """The outcome of a feed not polled this run: gone, deferred by its host, or not due yet."""
    status = state.last_status if state else None
    if state is not None and state.gone:
        return FeedOutcome(key, "gone", status, error=state.last_error)
    if state is not None and state.deferred_at(now):
        return FeedOutcome(key, "deferred", status, deferred_until=state.deferred_until)
    return FeedOutcome(key, "skipped", status)


def _merge(index: "dedup.ItemIndex", parsed: ParsedFeed, name: str, now: datetime,
           changed: set[str]) -> tuple[int, int, int]:
    """(new, updated, merged) entries of one feed folded into the index; *changed* gets the ids."""
    base = SourceRef(feed_url=parsed.url, name=name or parsed.title, feed_title=parsed.title,
                     feed_link=parsed.link, seen=now)
    counts = {"new": 0, "updated": 0, "merged": 0}
    for entry in parsed.entries:
        item, status = index.upsert(entry, dataclasses.replace(base, link=entry.link, guid=entry.guid), now)
        if item is None or status not in counts:  # unchanged, tombstoned
            continue
        changed.add(item.id)
        counts[status] += 1
    return counts["new"], counts["updated"], counts["merged"]


def _one_line(err: Exception | None) -> str | None:
    return None if err is None else _one_line_text(str(err))


def _one_line_text(text: str) -> str:
    return " ".join(text.split())
