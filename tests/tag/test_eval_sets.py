"""The shipped feeds.yaml on the labelled dev tagging set (tests/data/eval/tagging_dev.yaml):
F1 of at least 0.97 for nato and baltic-defence (issue 19). The held-out split is never read here."""

from __future__ import annotations

from paths import DATA, ROOT

from aggregator import config as configuration
from aggregator.pipeline.evaluation import score_tags


def test_shipped_rules_reach_f1_on_the_dev_tagging_set():
    cases = configuration.load_tag_cases(DATA / "eval" / "tagging_dev.yaml")
    result = score_tags(configuration.load(ROOT / "feeds.yaml"), cases)
    table = "\n".join(f"  {t.slug:16} P {t.precision:.3f} R {t.recall:.3f} F1 {t.f1:.3f}" for t in result.topics)
    wrong = "\n".join(f"  {title!r}: expected {list(e)}, got {list(g)}" for title, e, g in result.wrong)
    print(f"\n{result.cases} cases\n{table}\n{wrong}")
    assert result.cases >= 200
    f1 = {t.slug: t.f1 for t in result.topics}
    assert f1["nato"] >= 0.97 and f1["baltic-defence"] >= 0.97, f"{table}\n{wrong}"
