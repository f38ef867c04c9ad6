"""Which stored items to prune, and for how long to remember them: pure decisions.

Rules (``plan_prune``):

* **Age** — an item whose ``Item.date`` is older than ``retention_days`` is pruned.
  An item without any date is never pruned by age: there is no evidence it is old.
* **Count per source** — each source (``SourceRef.feed_url``) keeps its newest
  ``max_items_per_source`` items. An item carried by several sources is pruned by
  the cap only when it is *not* among the newest N of *any* of its sources: a source
  that still lists it among its newest keeps it alive. Items are ranked newest first
  by (date, id), undated items last; every item counts toward its sources' ranks,
  including those in ``keep`` and those kept by another source. So a source can
  hold more than N items, never fewer than min(N, its items).
* **Keep** — an id in ``keep`` (the published windows) is never pruned.

A pruned item's identity keys become tombstones, so that the same entry, still in a
feed, is not re-added as new. Tombstones expire after twice the retention (or 90
days without one), which keeps the store small: by then a feed has long dropped
the entry, and if not, its date is past the retention anyway.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Mapping

from ..records import Item, Settings, Snapshot

DEFAULT_TOMBSTONE_DAYS = 90
_UNDATED = datetime.min.replace(tzinfo=timezone.utc)  # ranks after every dated item


def plan_prune(items: Mapping[str, Item], now: datetime, *, retention_days: float | None,
               max_items_per_source: int | None, keep: set[str] | frozenset[str] = frozenset()
               ) -> set[str]:
    """The ids of the items to prune (see the module docstring for the rules)."""
    prune: set[str] = set()
    if retention_days is not None:
        cutoff = now - timedelta(days=retention_days)
        prune |= {i for i, item in items.items() if item.date is not None and item.date < cutoff}
    if max_items_per_source is not None:
        prune |= over_cap(items, max_items_per_source)
    return prune - set(keep)


def over_cap(items: Mapping[str, Item], cap: int) -> set[str]:
    """Ids of the sourced items that are not among the newest *cap* of any of their sources."""
    by_source: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for item_id, item in items.items():
        for feed in item.feed_urls:
            by_source[feed].append((item.date or _UNDATED, item_id))
    within: set[str] = set()
    for ranked in by_source.values():
        ranked.sort(reverse=True)
        within.update(item_id for _, item_id in ranked[:max(cap, 0)])
    return {i for i, item in items.items() if item.feed_urls and i not in within}


def tombstone_ttl(retention_days: float | None) -> timedelta:
    """How long a pruned item's keys are remembered."""
    return timedelta(days=2 * retention_days if retention_days else DEFAULT_TOMBSTONE_DAYS)


def expire_tombstones(tombstones: Mapping[str, datetime], now: datetime,
                      retention_days: float | None) -> dict[str, datetime]:
    """The tombstones younger than :func:`tombstone_ttl`."""
    cutoff = now - tombstone_ttl(retention_days)
    return {key: at for key, at in tombstones.items() if at >= cutoff}


def next_prune(items: Mapping[str, Item], retention_days: float | None,
               keep: set[str] | frozenset[str] = frozenset()) -> datetime | None:
    """When the next item outside *keep* passes ``retention_days`` (None: never, by age alone).

    Saved after each run that read the items, so that a run where no feed changed reads
    them again only once time alone has made something prunable. The count cap is left
    out: only new items push an item over it, and a run with new items reads them anyway.
    """
    if retention_days is None:
        return None
    dates = [item.date for item_id, item in items.items() if item.date is not None and item_id not in keep]
    return min(dates) + timedelta(days=retention_days) if dates else None


def apply_prune(snapshot: Snapshot, now: datetime, settings: Settings, keep: set[str]) -> int:
    """Prune *snapshot* in place: drop the planned items, tombstone their keys, expire
    old tombstones. Returns the number of items pruned."""
    heads = snapshot.heads()  # what the rules read, for every item, without decoding it
    ids = plan_prune(heads, now, retention_days=settings.retention_days,
                     max_items_per_source=settings.max_items_per_source, keep=keep)
    tombstones = expire_tombstones(snapshot.tombstones, now, settings.retention_days)
    for item_id in ids:
        for key in heads[item_id].keys or (item_id,):
            tombstones[key] = now
        del snapshot.items[item_id]
    snapshot.tombstones = tombstones
    return len(ids)
