"""pipeline/upkeep.py: what time alone has changed by now, as a table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.pipeline.upkeep import RETENTION, UNPUBLISHED, due
from aggregator.records import Config, Settings, Topic

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
PAST, FUTURE = (NOW - timedelta(minutes=1)).isoformat(), (NOW + timedelta(minutes=1)).isoformat()


def conf(retention: float | None = None, *ages: float | None) -> Config:
    s = Settings(config_path=Path("f.yaml"), store=Path("s.json"), output_dir=Path("o"), retention_days=retention)
    topics = tuple(Topic(f"t{i}", f"T{i}", max_age_days=a) for i, a in enumerate(ages))
    return Config(path=s.config_path, settings=s, topics=topics, sources=())


@pytest.mark.parametrize("config, meta, publishing, expect", [
    (conf(), {}, True, set()),  # nothing ages: never due
    (conf(None, None, None), {}, True, set()),
    # retention: unknown (a new or older store) is due once; then by the time saved
    (conf(30), {}, True, {RETENTION}),
    (conf(30), {"retention_due": None}, True, set()),  # nothing that can age out
    (conf(30), {"retention_due": FUTURE}, True, set()),
    (conf(30), {"retention_due": PAST}, False, {RETENTION}),
    (conf(30), {"retention_due": NOW.isoformat()}, True, {RETENTION}),
    (conf(30), {"retention_due": "garbage"}, True, {RETENTION}),  # unreadable: read the items to know
    # topics with max_age_days, only when the run publishes
    (conf(None, 2, None), {}, True, {"t0"}),
    (conf(None, 2, None), {}, False, set()),
    (conf(None, 2, 3), {"publish_due": {"t0": PAST, "t1": FUTURE}}, True, {"t0"}),
    (conf(None, 2, 3), {"publish_due": {"t0": None, "t1": FUTURE}}, True, set()),
    (conf(None, 2, 3), {"publish_due": {"t0": FUTURE}}, True, {"t1"}),  # a topic new since
    (conf(None, 2), {"publish_due": ["t0"]}, True, {"t0"}),
    (conf(10, 2), {"publish_due": {"t0": PAST}, "retention_due": PAST}, True, {"t0", RETENTION}),
    # topics a poll changed without publishing: due at the next run that publishes, whatever the times
    (conf(), {UNPUBLISHED: ["t0", "all"]}, True, {"t0", "all"}),
    (conf(), {UNPUBLISHED: ["t0"]}, False, set()),
    (conf(None, 2), {UNPUBLISHED: ["t1"], "publish_due": {"t0": FUTURE}}, True, {"t1"}),
    (conf(), {UNPUBLISHED: "t0"}, True, set()),  # not a list: not ours
])
def test_due(config, meta, publishing, expect):
    assert due(config, meta, NOW, publishing=publishing) == expect


def test_due_takes_naive_times_as_utc():
    config = conf(30)
    assert due(config, {"retention_due": (NOW - timedelta(hours=1)).replace(tzinfo=None).isoformat()}, NOW,
               publishing=True) == {RETENTION}
