"""The story matcher on the labelled dev sets (tests/data/eval, see its README), through
``aggregator eval``'s library: every report upserted as a run would, one feed per outlet.

The goals are those of issue 19 for the dev split. The held-out split is never read here.
Run with -s to see the figures and the pairs missed or merged wrongly.
"""

from __future__ import annotations

from paths import DATA

import pytest

from aggregator import config as configuration
from aggregator.pipeline.evaluation import score_merges
from aggregator.records import NearDupSettings

EVAL = DATA / "eval"


def scored(kind: str):
    result = score_merges(configuration.load_merge_set(EVAL / f"{kind}_dev.yaml"), NearDupSettings())
    print(f"\n{kind}: recall {result.recall:.3f} ({result.merged}/{result.possible}), false merges {result.false}"
          + "".join(f"\n  missed: {a!r} / {b!r}" for a, b in result.missed)
          + "".join(f"\n  FALSE:  {a!r} / {b!r}" for a, b in result.wrong))
    return result


def test_the_dev_sets_are_the_labelled_ones():
    stories = configuration.load_merge_set(EVAL / "stories_dev.yaml")
    headlines = configuration.load_merge_set(EVAL / "headlines_dev.yaml")
    busy = configuration.load_merge_set(EVAL / "busyday_dev.yaml")
    assert (len(stories.same), len(stories.lookalikes)) == (103, 50)
    assert (len(headlines.same), len(headlines.lookalikes)) == (63, 63)
    assert len(busy.reports) == 120 and len(busy.same) == 10 and busy.lookalikes is None


def test_headlines_alone_recall_and_no_false_merge():
    result = scored("headlines")
    assert result.false == 0
    assert result.recall >= 0.85


def test_busy_days_no_false_merge_among_seven_thousand_pairs():
    result = scored("busyday")
    assert result.lookalikes > 7000 and result.false == 0
    assert result.merged >= 7  # of 10 (the goal on held-out days: 5 of 7)


def test_reports_with_summaries_no_false_merge_and_recall_floor():
    result = scored("stories")
    assert result.false == 0
    assert result.recall >= 0.81  # what the matcher reaches today (84/103): a regression guard, not the goal


@pytest.mark.xfail(strict=True, reason="issue 19 goal not reached: dev recall 0.82 for reports with summaries; "
                                       "the misses are paraphrases sharing few words (see the report)")
def test_reports_with_summaries_reach_the_goal():
    result = scored("stories")
    assert result.false == 0 and result.recall >= 0.95
