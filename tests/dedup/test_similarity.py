"""The candidate index itself (dedup/similarity.py): counts per bucket, ids listed only for the
tokens a lookup can probe, and the same answers whichever way an item came in."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from aggregator.dedup.similarity import POSTING_CAP, NearDupIndex
from aggregator.records import NearDupSettings

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
EVERY_TERM = lambda _term: 10 ** 6  # noqa: E731 - sharing()'s reach: every term telling


def test_a_token_back_under_the_cap_is_probed_again_in_the_order_indexed():
    near = NearDupIndex(NearDupSettings())
    for i in range(POSTING_CAP + 3):
        near.add(f"i{i:03}", frozenset({"common", f"own{i}"}), T0)
    assert near.sharing(frozenset({"common"}), T0, EVERY_TERM, least=1) == []  # too common to probe
    for i in range(0, POSTING_CAP + 3, 2):  # half of them get another headline
        near.add(f"i{i:03}", frozenset({"other", f"own{i}"}), T0)
    found = near.sharing(frozenset({"common"}), T0, EVERY_TERM, least=1)
    assert found == [f"i{i:03}" for i in range(1, POSTING_CAP + 3, 2)][:16]
    assert near.frequencies(T0)("common") == len(range(1, POSTING_CAP + 3, 2))


def test_items_indexed_before_their_bucket_is_read_come_first():
    stored = {"s1": ("nato tapa", T0), "s2": ("nato tapa tank", T0 + timedelta(hours=1))}
    near = NearDupIndex(NearDupSettings(), lambda i: stored[i])
    for item_id, (_terms, when) in stored.items():
        near.defer(item_id, when)
    near.add("new", frozenset({"tapa", "nato"}), T0)
    assert near.sharing(frozenset({"tapa", "nato"}), T0, EVERY_TERM) == ["new", "s1", "s2"]
    assert near.terms_of("s2") == frozenset({"nato", "tapa", "tank"})  # stored as text, a set when asked


def test_an_item_re_indexed_before_its_bucket_is_read_is_not_indexed_twice():
    stored = {"s1": ("tapa tank", T0)}
    near = NearDupIndex(NearDupSettings(), lambda i: stored[i])
    near.defer("s1", T0)
    near.add("s1", frozenset({"tapa", "explos"}), T0)
    assert near.frequencies(T0)("tapa") == 1 and near.frequencies(T0)("tank") == 0
    assert near.sharing(frozenset({"tapa", "explos"}), T0, EVERY_TERM) == ["s1"]


def test_counts_are_those_of_the_items_around_a_time_however_they_came_in():
    """Against a plain count over every item's latest terms and date (a random history of
    deferred, added and re-indexed items, and removed ones that load as nothing)."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(40)]
    latest: dict[str, tuple[frozenset[str], datetime | None]] = {}
    stored = {}
    for i in range(600):
        stored[f"s{i}"] = (frozenset(rng.sample(vocab, rng.randint(1, 6))), T0 + timedelta(hours=rng.uniform(0, 400)))
    gone = set(rng.sample(sorted(stored), 20))  # removed by another writer before their bucket was read

    def load(item_id):
        if item_id in gone:
            return frozenset(), None
        terms, when = stored[item_id]
        return " ".join(sorted(terms)), when
    near = NearDupIndex(NearDupSettings(), load)
    for item_id, (terms, when) in stored.items():
        near.defer(item_id, when)
        latest[item_id] = (frozenset(), None) if item_id in gone else (terms, when)
    for step in range(400):
        item_id = f"n{step}" if rng.random() < 0.5 else rng.choice(sorted(set(stored) - gone))
        terms, when = frozenset(rng.sample(vocab, rng.randint(1, 6))), T0 + timedelta(hours=rng.uniform(0, 400))
        near.add(item_id, terms, when)
        latest[item_id] = (terms, when)
        if step % 40 == 0:
            at = T0 + timedelta(hours=rng.uniform(0, 400))
            count = near.frequencies(at)
            b = near._bucket(at)
            for tok in vocab:
                expected = sum(1 for terms, when in latest.values()
                               if when is not None and abs(near._bucket(when) - b) <= 1 and tok in terms)
                assert count(tok) == expected, (step, tok)
