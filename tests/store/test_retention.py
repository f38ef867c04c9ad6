"""Retention: which items to prune (age, per-source cap, keep) and when tombstones expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.records import Item, Settings, Snapshot, SourceRef
from aggregator.store.retention import apply_prune, expire_tombstones, over_cap, plan_prune, tombstone_ttl
from aggregator.store import Store

NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)


def item(name: str, age_days: float | None, *feeds: str) -> Item:
    """An item *age_days* old (None: undated), carried by *feeds* (letters)."""
    when = None if age_days is None else NOW - timedelta(days=age_days)
    return Item(id=name, keys=(name, f"url:x/{name}"), canonical_url=None, link=None, title=name,
                published=when, sources=tuple(SourceRef(feed_url=f) for f in feeds))


def items(*made: Item) -> dict[str, Item]:
    return {i.id: i for i in made}


PLAN_CASES = [
    # (case, items, retention_days, max_per_source, keep, pruned)
    ("nothing configured", items(item("a", 900, "A")), None, None, set(), set()),
    ("age: older than retention", items(item("old", 31, "A"), item("new", 29, "A")), 30, None, set(), {"old"}),
    ("age: exactly at the cutoff stays", items(item("edge", 30, "A")), 30, None, set(), set()),
    ("age: undated is never pruned by age", items(item("u", None, "A")), 1, None, set(), set()),
    ("age: keep wins", items(item("old", 99, "A")), 30, None, {"old"}, set()),
    ("cap: oldest beyond N go",
     items(item("a1", 1, "A"), item("a2", 2, "A"), item("a3", 3, "A"), item("b1", 9, "B")),
     None, 2, set(), {"a3"}),
    ("cap: undated rank last",
     items(item("a1", 1, "A"), item("au", None, "A"), item("a5", 5, "A")), None, 2, set(), {"au"}),
    ("cap: ties broken by id, highest first",
     items(item("x", 1, "A"), item("y", 1, "A"), item("z", 1, "A")), None, 2, set(), {"x"}),
    ("cap: kept by a source where it is still among the newest",
     items(item("a1", 1, "A"), item("a2", 2, "A"), item("both", 3, "A", "B")), None, 2, set(), set()),
    ("cap: pruned when over the cap in every source",
     items(item("a1", 1, "A"), item("b1", 1, "B"), item("a2", 2, "A"), item("b2", 2, "B"),
           item("both", 3, "A", "B")), None, 2, set(), {"both"}),
    ("cap: the same feed twice counts once",
     items(item("a1", 1, "A"), item("dup", 2, "A", "A")), None, 2, set(), set()),
    ("cap: kept items still take a slot",
     items(item("k", 1, "A"), item("a2", 2, "A"), item("a3", 3, "A")), None, 1, {"k", "a3"}, {"a2"}),
    ("cap: no sources, no cap", items(item("orphan", 5)), None, 1, set(), set()),
    ("cap: zero prunes every sourced item", items(item("a", 1, "A"), item("o", 1)), None, 0, set(), {"a"}),
    ("age and cap together",
     items(item("a1", 1, "A"), item("a2", 2, "A"), item("a40", 40, "A"), item("b40", 40, "B")),
     30, 2, set(), {"a40", "b40"}),
]


@pytest.mark.parametrize("case, stored, days, cap, keep, expected", PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_plan_prune(case, stored, days, cap, keep, expected) -> None:
    assert plan_prune(stored, NOW, retention_days=days, max_items_per_source=cap, keep=keep) == expected


def test_over_cap_keeps_at_least_n_per_source() -> None:
    stored = items(*(item(f"a{n}", n, "A") for n in range(10)), *(item(f"b{n}", n, "A", "B") for n in range(10)))
    pruned = over_cap(stored, 3)
    for feed in ("A", "B"):
        left = [i for i in stored.values() if i.id not in pruned and any(s.feed_url == feed for s in i.sources)]
        assert len(left) >= 3


@pytest.mark.parametrize("days, ttl_days", [(None, 90), (0, 90), (7, 14), (30, 60), (0.5, 1)])
def test_tombstone_ttl(days, ttl_days) -> None:
    assert tombstone_ttl(days) == timedelta(days=ttl_days)


@pytest.mark.parametrize("days, ages, kept", [
    (None, {"k1": 10, "k2": 89, "k3": 91}, {"k1", "k2"}),
    (30, {"k1": 59, "k2": 60, "k3": 61}, {"k1", "k2"}),
    (7, {}, set()),
])
def test_expire_tombstones(days, ages, kept) -> None:
    tombstones = {k: NOW - timedelta(days=d) for k, d in ages.items()}
    assert set(expire_tombstones(tombstones, NOW, days)) == kept


def test_apply_prune_removes_items_and_tombstones_every_key() -> None:
    settings = Settings(config_path=Path("f.yaml"), store=Path("s.json"), output_dir=Path("o"),
                        retention_days=30, max_items_per_source=None)
    snap = Snapshot(items=items(item("old", 40, "A"), item("kept", 50, "A"), item("new", 1, "A")),
                    tombstones={"ancient": NOW - timedelta(days=61), "recent": NOW - timedelta(days=5)})
    assert Store.prune(snap, NOW, settings, keep={"kept"}) == 1
    assert set(snap.items) == {"kept", "new"}
    assert snap.tombstones == {"recent": NOW - timedelta(days=5), "old": NOW, "url:x/old": NOW}
    assert apply_prune(snap, NOW, settings, keep={"kept"}) == 0  # idempotent
