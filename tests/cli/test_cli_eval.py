"""``aggregator eval`` through click: figures on the dev sets, JSON for scripts, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

from paths import DATA, ROOT

from clihelpers import invoke

FEEDS = ROOT / "feeds.yaml"


def test_eval_prints_recall_false_merges_and_topic_scores():
    result = invoke(FEEDS, "eval", "--data", str(DATA / "eval"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for words in ("split dev", "stories", "headlines", "busyday", "false merges", "nato", "baltic-defence", "F1"):
        assert words in out, words


def test_eval_json_has_every_set_and_topic():
    result = invoke(FEEDS, "eval", "--data", str(DATA / "eval"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Each file of the split is scored on its own: KIND_dev.yaml, then its companions KIND_dev-NAME.yaml.
    assert data["split"] == "dev" and {"stories", "stories-extra", "stories-retired", "headlines", "headlines-retired",
                                       "busyday", "busyday-retired"} <= set(data["merging"])
    assert all(name.split("-")[0] in ("stories", "headlines", "busyday") for name in data["merging"])
    busy = data["merging"]["busyday"]
    assert busy["lookalike_pairs"] == 120 * 119 // 2 - busy["possible_pairs"]
    assert 0 <= busy["recall"] <= 1 and busy["false_merges"] == busy["lookalikes_merged"]
    assert {"nato", "baltic-defence", "ukraine"} <= set(data["tagging"]["topics"])


def test_eval_scores_the_split_asked_for(tmp_path: Path):
    (tmp_path / "headlines_heldout.yaml").write_text(
        "same:\n- {a: {source: x, title: Estonia expels Russian diplomat, published: 2025-03-12T09:40:00Z},"
        " b: {source: y, title: 'Estonia expels Russian diplomat | Reuters', published: 2025-03-12T10:00:00Z}}\n"
        "different:\n- {a: {source: x, title: Latvia beat Estonia 2-1, published: 2025-06-06T20:10:00Z},"
        " b: {source: x, title: Latvia beat Lithuania 2-1, published: 2025-06-06T22:05:00Z}}\n", encoding="utf-8")
    data = json.loads(invoke(FEEDS, "eval", "--split", "heldout", "--data", str(tmp_path), "--json").stdout)
    assert data["merging"] == {"headlines": {"recall": 1.0, "merged_pairs": 1, "possible_pairs": 1,
                                             "false_merges": 0, "lookalike_pairs": 1, "lookalikes_merged": 0,
                                             "false_share": 0.0}}
    assert data["tagging"] is None


def test_eval_without_sets_is_a_clean_error(tmp_path: Path):
    missing = invoke(FEEDS, "eval", "--data", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no folder of labelled sets" in missing.stderr
    empty = invoke(FEEDS, "eval", "--data", str(tmp_path))
    assert empty.exit_code == 2 and "no *_dev.yaml" in empty.stderr
    (tmp_path / "stories_dev.yaml").write_text("groups: [oops\n", encoding="utf-8")
    broken = invoke(FEEDS, "eval", "--data", str(tmp_path))
    assert broken.exit_code == 2 and "stories_dev.yaml" in broken.stderr and broken.stderr.count("\n") == 1
