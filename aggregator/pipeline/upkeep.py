"""What a run does besides polling, whether or not a feed changed: retention, and the
time at which the published feeds or the store next change with time alone.

A run where every feed answers 304 never reads the items (the no-change run must stay
cheap). Time still passes: an item passes a topic's ``max_age_days`` and must leave that
topic's feeds, an item passes ``retention_days`` and must leave the store. So each run
that reads the items saves in the store's meta when that will next happen (a time per
topic with ``max_age_days``, one for retention), and a later run reads the items only
once such a time has come: :func:`due`. Unknown (no time saved yet: a new or older
store) counts as due, once. The topics a ``poll`` changed (it renders nothing) are
saved the same way, and are due at the next run that publishes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import publish as publisher
from ..records import Config, Snapshot, utc
from ..reports import RunReport
from ..store import Backend, next_prune

RETENTION = "retention"  # in due(): the store has items to prune by age
UNPUBLISHED = "unpublished"  # in the store's meta: topics a `poll` changed, for the next run that publishes
_UNKNOWN = object()


def _passed(value: Any, now: datetime) -> bool:
    """Whether a saved time (ISO text; None: never) has come; unknown or unreadable: yes."""
    if value is None:
        return False
    if value is _UNKNOWN or not isinstance(value, str):
        return True
    try:
        return utc(datetime.fromisoformat(value)) <= now
    except ValueError:
        return True


def due(config: Config, meta: Mapping[str, Any], now: datetime, *, publishing: bool) -> set[str]:
    """What time alone has changed by *now*: the slugs whose published items age out (when
    *publishing*), and RETENTION when the store holds items to prune by age."""
    now = utc(now)
    found: set[str] = set()
    if config.settings.retention_days and _passed(meta.get("retention_due", _UNKNOWN), now):
        found.add(RETENTION)
    aged = [t.slug for t in config.topics if t.max_age_days is not None]
    if publishing and aged:
        saved = meta.get("publish_due")
        saved = saved if isinstance(saved, Mapping) else {}
        found.update(slug for slug in aged if _passed(saved.get(slug, _UNKNOWN), now))
    if publishing:  # what a `poll` stored without rendering is rendered by the next run, changed or not
        pending = meta.get(UNPUBLISHED)
        if isinstance(pending, list):
            found.update(str(slug) for slug in pending if slug != RETENTION)
    return found


def note_unpublished(snap: Snapshot, topics: Sequence[str]) -> None:
    """Remember *topics* (changed by a run that does not publish: ``poll``) for :func:`due`."""
    pending = snap.meta.get(UNPUBLISHED)
    pending = [str(slug) for slug in pending] if isinstance(pending, list) else []
    snap.meta[UNPUBLISHED] = sorted(set(pending) | set(topics))


def choose(config: Config, snap: Snapshot, now: datetime, *, publishing: bool) -> dict[str, list] | None:
    """``publish.select`` over the item heads, when the run needs it: to publish, or to keep the
    published items out of retention. One selection serves both."""
    s = config.settings
    if not snap.items_loaded or not (publishing or s.retention_days or s.max_items_per_source):
        return None
    return publisher.select(config, snap.heads().values(), now)


def prune(config: Config, store: Backend, snap: Snapshot, now: datetime, report: RunReport,
          chosen: Mapping[str, Sequence[Any]] | None) -> RunReport:
    """Retention (never of a published item), in runs that read the items: when no feed changed,
    the store does not grow, and pruning waits until :func:`due` says an item is old enough.
    In a transaction of its own: with other pollers, on the store as it is now."""
    s = config.settings
    if not (s.retention_days or s.max_items_per_source) or chosen is None:
        return report
    with store.transaction(snap):
        pruned = store.prune(snap, now, s, _published(chosen))
    return dataclasses.replace(report, pruned_items=pruned)


def save_times(config: Config, snap: Snapshot, now: datetime, chosen: Mapping[str, Sequence[Any]] | None,
               *, publishing: bool) -> None:
    """Note in the store's meta when retention and each topic's max_age_days next change something.

    The publish times only when this run publishes (``poll`` renders nothing, so the feeds
    still wait for the times saved by the last run that did)."""
    if chosen is None:
        return
    if config.settings.retention_days:
        when = next_prune(snap.heads(), config.settings.retention_days, _published(chosen))
        snap.meta["retention_due"] = when.isoformat() if when else None
    if publishing:
        snap.meta["publish_due"] = {slug: when.isoformat() if when else None
                                    for slug, when in publisher.expiries(config, chosen, now).items()}
        snap.meta.pop(UNPUBLISHED, None)  # rendered by this run (due() made it read the items)


def _published(chosen: Mapping[str, Sequence[Any]]) -> set[str]:
    return {head.id for heads in chosen.values() for head in heads}
