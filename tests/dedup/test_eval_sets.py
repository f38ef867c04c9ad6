"""The story matcher on the labelled dev sets (tests/data/eval, see its README), through
``aggregator eval``'s library: every report upserted as a run would, one feed per outlet.

The goals are those of issue 19 for the dev split; where the matcher does better than a goal,
the floor is what it reaches (a regression guard). The held-out split is never read here.
``stories_dev-extra.yaml`` holds cases written for what the dev split covers thinly (its header
says which). The ``*_dev-retired.yaml`` files are the first held-out split: scored once, on
2026-12-06 (README, "Quality"), then moved to dev and worked on; a fresh held-out split replaced it.
Run with -s to see the figures and the pairs missed or merged wrongly.
"""

from __future__ import annotations

from paths import DATA

import pytest

from aggregator import config as configuration
from aggregator.pipeline.evaluation import score_merges
from aggregator.records import NearDupSettings

EVAL = DATA / "eval"


def scored(kind: str, path=None):
    result = score_merges(configuration.load_merge_set(path or EVAL / f"{kind}_dev.yaml"), NearDupSettings())
    print(f"\n{kind}: recall {result.recall:.3f} ({result.merged}/{result.possible}), false merges {result.false}"
          + "".join(f"\n  missed: {a!r} / {b!r}" for a, b in result.missed)
          + "".join(f"\n  FALSE:  {a!r} / {b!r}" for a, b in result.wrong))
    return result


def test_the_dev_sets_are_the_labelled_ones():
    stories = configuration.load_merge_set(EVAL / "stories_dev.yaml")
    headlines = configuration.load_merge_set(EVAL / "headlines_dev.yaml")
    busy = configuration.load_merge_set(EVAL / "busyday_dev.yaml")
    more = configuration.load_merge_set(EVAL / "stories_dev-extra.yaml")
    assert (len(stories.same), len(stories.lookalikes)) == (103, 50)
    assert (len(headlines.same), len(headlines.lookalikes)) == (63, 63)
    assert len(busy.reports) == 120 and len(busy.same) == 10 and busy.lookalikes is None
    assert (len(more.same), len(more.lookalikes), len(more.reports)) == (16, 16, 63)


def test_headlines_alone_recall_and_no_false_merge():
    result = scored("headlines")
    assert result.false == 0
    assert result.recall >= 0.88  # 56/63; the goal is 0.85


def test_busy_days_no_false_merge_among_seven_thousand_pairs():
    result = scored("busyday")
    assert result.lookalikes > 7000 and result.false == 0
    assert result.merged >= 9  # of 10 (the goal on held-out days: 5 of 7)


def test_reports_with_summaries_reach_the_goal():
    result = scored("stories")
    assert result.false == 0
    assert result.recall >= 0.95  # 98/103: the goal of issue 19


def test_extra_cases_no_false_merge_and_recall_floor():
    result = scored("extra", EVAL / "stories_dev-extra.yaml")
    assert result.false == 0  # the look-alikes: durations, two fires, places named only in summaries
    assert result.recall >= 0.81  # 13/16 (12/16 before durations were read in hours)


@pytest.mark.parametrize("name, floor", [
    # The retired held-out splits, scored once each before they were worked on (README): the
    # first 17/31, 16/21, 6/7; the second 31/47, 20/30, 3/7; the third 25/47, 24/30, 3/7. The
    # floors are what the matcher reaches since (a regression guard).
    ("stories_dev-retired", 0.83), ("headlines_dev-retired", 0.95), ("busyday_dev-retired", 1.0),
    ("stories_dev-retired2", 0.68), ("headlines_dev-retired2", 0.83), ("busyday_dev-retired2", 0.57),
    ("stories_dev-retired3", 0.76), ("headlines_dev-retired3", 0.93), ("busyday_dev-retired3", 0.85)])
def test_the_retired_held_out_splits_no_false_merge_and_recall_floor(name, floor):
    result = scored(name, EVAL / f"{name}.yaml")
    assert result.false == 0
    assert result.recall >= floor


@pytest.mark.parametrize("name, floor", [
    # Written with the second held-out split, for the dev side: people named for their office,
    # number formats and units. Before the matcher read them: 38/57 (2 false) and 21/30.
    ("stories_dev-more", 0.82), ("headlines_dev-more", 0.9),
    # A cross-section of a news week, scored first as written: 27/60 (1 false) and 15/30.
    ("stories_dev-third", 0.58), ("headlines_dev-third", 0.7)])
def test_the_more_dev_cases_no_false_merge_and_recall_floor(name, floor):
    result = scored(name, EVAL / f"{name}.yaml")
    assert result.false == 0
    assert result.recall >= floor
