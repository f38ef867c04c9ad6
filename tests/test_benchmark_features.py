"""benchmarks/features.py: what topic tagging and story matching cost a cold poll.

No timing assertions: that each variant polls what it says, and that the costs are the
differences of ratios within a round.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ is not an installed package: import it from the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator import config as configuration  # noqa: E402
from benchmarks import features  # noqa: E402
from benchmarks.run import shipped_topics, write_config  # noqa: E402


@pytest.mark.parametrize("topics, near", [(True, True), (False, True), (True, False), (False, False)])
def test_each_variant_config_has_what_it_says(tmp_path, topics, near):
    path = write_config(tmp_path, ["http://127.0.0.1:9/feed/0.xml"], shipped_topics() if topics else {},
                        near_duplicates=near)
    conf = configuration.load(path)
    assert bool(conf.topics) is topics
    assert conf.settings.near_duplicates.enabled is near


def _round(floor: float, **ratios: float) -> dict:
    names = dict(zip(("whole", "no_topics", "no_stories", "neither"), features.VARIANTS))
    return {"floor": floor, **{names[k]: {"seconds": r * floor, "cpu": 2 * r * floor, "new_items": 1, "ratio": r}
                               for k, r in ratios.items()}}


def test_costs_are_the_whole_polls_ratio_less_the_ratio_without_the_feature():
    rounds = [_round(80.0, whole=0.44, no_topics=0.37, no_stories=0.41, neither=0.31),
              _round(90.0, whole=0.46, no_topics=0.40, no_stories=0.42, neither=0.33)]
    text = "\n".join(features.summary(rounds))
    # Each variant: the median (of two rounds, the higher), then each round.
    assert "whole poll                      0.460  0.440 0.460" in text
    assert "neither                         0.330  0.310 0.330" in text
    assert "cost of topic tagging     +0.070× the floor (each round: +0.070 +0.060)" in text
    assert "cost of story matching    +0.040× the floor (each round: +0.030 +0.040)" in text
    assert "cost of both              +0.130× the floor (each round: +0.130 +0.130)" in text


def test_tiny_run_end_to_end(tmp_path, capsys):
    out = tmp_path / "features.json"
    assert features.main(["--n", "3", "--rounds", "1", "--hosts", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    (only,) = json.loads(out.read_text())["rounds"]
    assert only["floor"] > 0
    for name in features.VARIANTS:
        assert only[name]["new_items"] > 0 and only[name]["seconds"] > 0, name
        assert only[name]["cpu"] > 0 and only[name]["ratio"] == only[name]["seconds"] / only["floor"]
        assert name in printed
    assert "cost of both" in printed
