"""The shipped feeds.yaml on the labelled dev tagging set (tests/data/eval/tagging_dev.yaml):
F1 of at least 0.97 for nato and baltic-defence (issue 19). The held-out split is never read here."""

from __future__ import annotations

from paths import DATA, ROOT

import pytest

from aggregator import config as configuration, tag
from aggregator.records import Item
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


@pytest.mark.parametrize("name", [
    "tagging_dev-retired",  # the first held-out split (scored once: nato F1 0.963, baltic-defence 0.902)
    "tagging_dev-retired2", "tagging_dev-retired3",  # the second and third (0.986/0.896, 0.971/0.914)
    "tagging_dev-more", "tagging_dev-third"])  # more dev cases, written later by colleagues
def test_shipped_rules_on_the_later_dev_tagging_sets(name):
    cases = configuration.load_tag_cases(DATA / "eval" / f"{name}.yaml")
    result = score_tags(configuration.load(ROOT / "feeds.yaml"), cases)
    f1 = {t.slug: t.f1 for t in result.topics}
    assert f1["nato"] >= 0.97 and f1["baltic-defence"] >= 0.97 and f1["ukraine"] >= 0.95, result.wrong  # ukraine: no goal; 0.95 floor


@pytest.mark.parametrize("text, topics", [
    ("Vilnius bids to host 2028 NATO summit", {"nato", "baltic-defence"}),  # a year is no calibre
    ("Troops test new 5.56 NATO rifle rounds", set()),
    ("Tallinn requests Article 4 talks after Russian jets breach Estonian airspace", {"nato", "baltic-defence"}),
    ("Court rules on Article 5 of the constitution", set()),
    ("Kariuomenė Pabradėje pradėjo pratybas", {"baltic-defence"}),  # Lithuanian: the army at Pabradė
    ("Ämari radar station upgrade completed", {"baltic-defence"}),  # a base named alone
    ("Estonia closes Narva crossing over Russian border works", {"baltic-defence"}),
    ("Polish farmers block border crossing with Lithuania over grain prices", set()),
    ("US sanctions Rosneft and Lukoil", {"ukraine"}),
    ("Russian soldiers' wives protest in Moscow", {"ukraine"}),
    ("Russian missile strike on Ternopil kills 25", {"ukraine"}),
    ("Tornado warning issued for Odessa and Midland, Texas", set()),
    ("NATO generalinis sekretorius Rutte lankysis Vilniuje", {"nato", "baltic-defence"}),  # Vilnius, inflected
    ("NATO troops train in Narvik", {"nato"}),  # Narvik is no Narva
    ("Undersea cable to Hiiumaa damaged", {"baltic-defence"}),
    ("Latvia finishes fence along its Belarus border", {"baltic-defence"}),
    ("Tallinn flights disrupted by GPS interference", {"baltic-defence"}),
    ("Ramstein-format talks to be held in London", {"ukraine"}),  # the contact group, not NATO
    ("Первая ракетка Эстонии вышла в финал турнира", set()),  # a top-ranked player, not a missile
    ("В Эстонии ракетные комплексы HIMARS прибыли на полигон", {"baltic-defence"}),
    ("Lietuvos rankininkų gynyba neatlaikė", set()),  # the handball team's defence
    ("Odessa, Ontario man wins lottery jackpot", set()),
    ("Wolves kill 30 sheep on farm near the Ukrainian border", set()),  # a place's neighbour
    ("Ukrainian border guards detain smugglers", {"ukraine"}),
])
def test_shipped_rules_read_what_a_reader_would(text, topics):
    rules = tag.Rules.compile(configuration.load(ROOT / "feeds.yaml").topics, ())
    item = Item(id="x", keys=("x",), canonical_url=None, link="https://example.org/x", title=text)
    assert set(rules.tag(item).topics) == topics
