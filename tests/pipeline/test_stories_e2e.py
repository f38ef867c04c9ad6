"""One story, several outlets, end to end: real HTTP on 127.0.0.1, a real store, real feeds read back.

A story told in other words by three outlets becomes one item that credits all three in
RSS, Atom and JSON Feed; a later outlet joining updates the same item; ``explain`` says
why; ``unmerge`` splits a report off for good, and the next run brings it back alone.
"""

from __future__ import annotations

import json
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from aggregator import config as configuration, pipeline
from clihelpers import invoke, write_config
from feedserver import FeedServer

STORY = [  # (outlet, link, title, summary, published)
    ("a", "https://news.a.example/1609630412/estonia-expels-russian-embassy-diplomat",
     "Estonia expels Russian embassy diplomat",
     "The Ministry of Foreign Affairs declared a counsellor at the Russian embassy persona non grata, "
     "saying he repeatedly tried to interfere in Estonia's domestic affairs.", datetime(2025, 3, 12, 9, 40)),
    ("b", "https://b.example/world/europe/russian-diplomat-ordered-leave-tallinn-2025-03-12/",
     "Russian diplomat ordered to leave Tallinn",
     "Estonia gave a counsellor at Russia's embassy until Sunday to leave the country, accusing him of "
     "meddling in its internal politics, the foreign minister said.", datetime(2025, 3, 12, 11, 5)),
    ("c", "https://c.example/news/articles/c9d2v7k4mwxo",
     "Tallinn orders out Moscow's embassy counsellor",
     "A senior Russian diplomat has been told to leave Estonia within days after officials accused him of "
     "trying to sway local politics.", datetime(2025, 3, 12, 13, 20)),
]
OTHER = ("a", "https://news.a.example/1609630999/latvia-beat-lithuania", "Latvia beat Lithuania 2-1 in Baltic Cup",
         "A late goal in Riga settled the match.", datetime(2025, 3, 12, 20, 0))


def rss(*entries) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid><description>{summary}</description>"
        f"<pubDate>{format_datetime(when.replace(tzinfo=timezone.utc), usegmt=True)}</pubDate></item>"
        for _outlet, link, title, summary, when in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed</title>'
            f"<link>https://example.org/</link><description>d</description>{items}</channel></rss>").encode()


@pytest.fixture
def outlets(tmp_path: Path, server: FeedServer):
    urls = {name: server.add(f"/{name}.xml", rss(*[e for e in STORY + [OTHER] if e[0] == name and e[0] != "c"]),
                             content_type="application/rss+xml") for name in "abc"}
    return write_config(tmp_path, [urls[n] for n in "abc"]), urls


def entries(path: Path) -> list:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return parsed.entries


def test_one_story_from_three_outlets_is_one_item_crediting_each(tmp_path: Path, outlets, server: FeedServer):
    config, urls = outlets
    assert invoke(config, "run").exit_code == 0
    out = tmp_path / "output"
    first = [e for e in entries(out / "all.atom") if "diplomat" in e.title]
    assert len(first) == 1 and first[0].title == "Estonia expels Russian embassy diplomat"
    assert [l.href for l in first[0].links if l.rel == "via"] == [STORY[1][1]]
    assert f'href="{STORY[1][1]}"' in first[0].summary and "Also reported by" in first[0].summary
    rss_item = next(e for e in entries(out / "all.rss") if "diplomat" in e.title)
    assert "Also reported by" in rss_item.summary and STORY[1][1] in rss_item.summary
    feed = json.loads((out / "all.json").read_text(encoding="utf-8"))
    item = next(i for i in feed["items"] if "diplomat" in i["title"])
    links = [s.get("link") for s in item["_aggregator"]["sources"]]
    assert links == [STORY[0][1], STORY[1][1]]
    assert item["_aggregator"]["sources"][1]["title"] == STORY[1][2]
    before = item["date_modified"]

    # A third outlet reports the story later: the same entry, now crediting it, updated.
    server.add("/c.xml", rss(STORY[2]), content_type="application/rss+xml")
    later = datetime.now(timezone.utc) + timedelta(minutes=30)  # the next cron run, not the same second
    pipeline.run(configuration.load(config), now=later, force=True)
    feed = json.loads((out / "all.json").read_text(encoding="utf-8"))
    same = [i for i in feed["items"] if i["_aggregator"]["id"] == item["_aggregator"]["id"]]
    assert len(same) == 1 and len([i for i in feed["items"] if "iplomat" in i["title"]]) == 1
    assert [s.get("link") for s in same[0]["_aggregator"]["sources"]] == [STORY[0][1], STORY[1][1], STORY[2][1]]
    assert same[0]["date_modified"] > before

    shown = invoke(config, "explain", item["_aggregator"]["id"])
    assert shown.exit_code == 0
    assert "near duplicate of" in shown.stdout and "score" in shown.stdout and "vetoes checked" in shown.stdout
    assert STORY[2][2] in shown.stdout  # each merged report's own headline


def test_unmerge_splits_a_report_off_for_good(tmp_path: Path, outlets, server: FeedServer):
    config, urls = outlets
    assert invoke(config, "run").exit_code == 0
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    item_id = next(i for i in feed["items"] if "diplomat" in i["title"])["_aggregator"]["id"]

    wrong = invoke(config, "unmerge", item_id, "https://nowhere.example/x")
    assert wrong.exit_code == 2 and "no merged report" in wrong.stderr
    done = invoke(config, "unmerge", item_id, STORY[1][1])
    assert done.exit_code == 0, done.output
    assert "next poll" in done.stdout

    for _ in range(2):  # the split survives later runs: the report comes back alone, and stays alone
        assert invoke(config, "run", "--force").exit_code == 0
        feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
        story = [i for i in feed["items"] if "iplomat" in i["title"]]
        assert sorted(len(i["_aggregator"]["sources"]) for i in story) == [1, 1]
        assert {i["url"] for i in story} == {STORY[0][1], STORY[1][1]}
