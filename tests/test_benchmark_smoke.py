"""The benchmark harness works end to end: farm, floor, report, and a tiny N=5 run.

No timing assertions: only that every round did the work it is meant to measure.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import httpx
import pytest

# benchmarks/ is not an installed package: import it from the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import floor, report, synth  # noqa: E402
from benchmarks.farm import Body, Farm, is_not_modified, mutation_sample  # noqa: E402

EPOCH = datetime(2025, 3, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def farm():
    with Farm(8, seed=3, hosts=3, epoch=EPOCH) as f:
        yield f


# ----------------------------------------------------------------------------- synthetic feeds


@pytest.mark.parametrize("i, kind", [(0, "rss20"), (1, "rss20"), (2, "atom10"), (5, "atom10")])
def test_feed_is_a_valid_feed_of_50_items(i, kind):
    body = synth.feed_bytes(1, i, 0, EPOCH)
    d = feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/xml"})
    assert not d.bozo, d.get("bozo_exception")
    assert d.version == kind
    assert len(d.entries) == 50
    assert len({e.id for e in d.entries}) == 50
    # Relative links in the HTML were resolved against the feed: they are there to be resolved.
    assert any('href="https://site' in e.summary and "/tag/" in e.summary for e in d.entries)


def test_feeds_are_about_60kb_and_some_items_are_topical():
    bodies = [synth.feed_bytes(1, i, 0, EPOCH) for i in range(30)]
    mean = sum(map(len, bodies)) / len(bodies)
    assert 50_000 < mean < 75_000
    text = b"".join(bodies)
    for word in (b"NATO", b"Ukraine", b"Baltic"):
        assert word in text


def test_generation_is_deterministic_and_a_new_version_adds_five_items():
    assert synth.feed_bytes(7, 4, 0, EPOCH) == synth.feed_bytes(7, 4, 0, EPOCH)
    assert synth.feed_bytes(7, 4, 0, EPOCH) != synth.feed_bytes(8, 4, 0, EPOCH)

    def ids(v: int) -> list[str]:
        return [e.id for e in feedparser.parse(io.BytesIO(synth.feed_bytes(7, 4, v, EPOCH))).entries]

    v0, v1 = ids(0), ids(1)
    assert len(set(v1) - set(v0)) == 5
    assert v1[5:] == v0[:45]  # newest first: five new on top, five oldest dropped


@pytest.mark.parametrize("n, fraction, expected", [(100, 0.2, 20), (5, 0.2, 1), (8, 0.5, 4), (3, 0.0, 0)])
def test_mutation_sample(n, fraction, expected):
    got = mutation_sample(n, fraction, 1, seed=1)
    assert len(got) == expected == len(set(got))
    assert all(0 <= i < n for i in got)
    assert got == mutation_sample(n, fraction, 1, seed=1)


_B = Body(b"", 0, '"e1"', "Sat, 01 Mar 2025 00:00:00 GMT", "application/xml")


@pytest.mark.parametrize("headers, expected", [
    ({}, False),
    ({"if-none-match": '"e1"'}, True),
    ({"if-none-match": '"e0", "e1"'}, True),
    ({"if-none-match": "*"}, True),
    ({"if-none-match": '"e0"'}, False),
    ({"if-modified-since": _B.last_modified}, True),
    ({"if-modified-since": "Fri, 28 Feb 2025 00:00:00 GMT"}, False),
    ({"if-none-match": '"e0"', "if-modified-since": _B.last_modified}, False),  # INM wins
])
def test_is_not_modified(headers, expected):
    assert is_not_modified(headers, _B) is expected


# ----------------------------------------------------------------------------- the farm and the floor


def test_farm_serves_gzip_with_validators_and_304(farm):
    farm.reset()
    url = farm.url(4)
    assert url.startswith("http://127.0.0.2:")  # spread over the loopback hosts
    r = httpx.get(url)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.content == synth.feed_bytes(3, 4, 0, EPOCH)
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert httpx.get(url, headers={"If-Modified-Since": lm}).status_code == 304
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == r.content
    assert httpx.get(farm.url(4).replace("/4.xml", "/99.xml")).status_code == 404
    stats = farm.stats()
    assert (stats["200"], stats["304"], stats["404"]) == (2, 2, 1)


def test_floor_cold_then_warm_after_mutation(farm):
    farm.reset()
    urls = [farm.url(i) for i in range(8)]
    cold = floor.run_round(urls)
    assert (cold.fetched, cold.not_modified, cold.failed, cold.entries) == (8, 0, 0, 400)
    changed = farm.mutate(8, 0.25, 1)
    assert len(changed) == 2
    warm = floor.run_round(urls, cold.validators)
    assert (warm.fetched, warm.not_modified, warm.failed) == (2, 6, 0)
    assert set(warm.validators) == {urls[i] for i in changed}
    r = httpx.get(urls[changed[0]], headers={"If-None-Match": cold.validators[urls[changed[0]]].etag})
    assert r.status_code == 200  # the old ETag no longer matches: the body is the new version
    assert r.content == synth.feed_bytes(3, changed[0], 1, EPOCH)


def test_isolated_floor_rounds_pass_the_validators_between_processes(farm):
    from benchmarks import isolated

    farm.reset()
    urls = [farm.url(i) for i in range(8)]
    cold = isolated.floor_round(urls)
    assert (cold.fetched, cold.not_modified, cold.failed, cold.entries) == (8, 0, 0, 400)
    assert set(cold.validators) == set(urls) and cold.seconds > 0
    changed = farm.mutate(8, 0.25, 1)
    warm = isolated.floor_round(urls, cold.validators)  # the ETags reached the second process
    assert (warm.fetched, warm.not_modified, warm.failed) == (2, 6, 0)
    assert set(warm.validators) == {urls[i] for i in changed}


def test_an_isolated_round_that_fails_names_its_error(tmp_path):
    from benchmarks import isolated

    bad = tmp_path / "feeds.yaml"
    bad.write_text("settings: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"^isolated poll round: .*ConfigError: .*feeds\.yaml:2: invalid YAML"):
        isolated.poll(bad)  # the child's last line of stderr: the config's own one-line error


# ----------------------------------------------------------------------------- the report


def _result(n: int, cold: float, **over) -> dict:
    r = {"n": n, "floor_cold": {"seconds": 10.0}, "cold": {"seconds": cold},
         "floor_warm": {"seconds": 2.0}, "warm": {"seconds": 1.0}, "nochange": {"seconds": 0.5},
         "publish": {"seconds": 0.4}, "publish_again": {"seconds": 0.1},
         "store_load": {"seconds": 0.2}, "store_save": {"seconds": 0.3},
         "store_bytes": 10 * report.MB, "rss_self": 300 * report.MB, "rss_children": 50 * report.MB,
         "cron_run": {"seconds": 1.5, "rss": 100 * report.MB}}
    r.update(over)
    return r


@pytest.mark.parametrize("key, ratio, ok", [
    ("cold", 0.5, True),           # 5 s / floor 10 s: on the target
    ("warm", 0.5, True),           # 1 s / floor warm 2 s
    ("nochange", 0.1, True),       # 0.5 s / cold 5 s
    ("publish", 0.08, False),      # 0.4 s / cold 5 s > 0.05
    ("publish_again", 0.02, True),
    ("floor_cold", None, None),
    ("rss_cron", None, True),      # 100 MB < 4 × 10 MB + 80 MB
    ("rss_self", None, None),      # the benchmark process, all rounds: informational
])
def test_figures_ratios_and_targets(key, ratio, ok):
    f = {f.key: f for f in report.figures(_result(100, 5.0))}[key]
    assert f.ratio == pytest.approx(ratio) if ratio is not None else f.ratio is None
    assert f.ok is ok


def test_rss_over_its_limit_misses():
    over = {"cron_run": {"seconds": 1.5, "rss": 121 * report.MB}}
    f = {f.key: f for f in report.figures(_result(100, 5.0, **over))}["rss_cron"]
    assert f.ok is False


@pytest.mark.parametrize("colds, ratio, ok", [((1.0, 13.0), 1.3, True), ((1.0, 20.0), 2.0, False)])
def test_scaling(colds, ratio, ok):
    sc = report.scaling([_result(100, colds[0]), _result(1000, colds[1])])
    assert sc.ratio == pytest.approx(ratio) and sc.ok is ok
    assert report.scaling([_result(100, 1.0)]) is None


def test_table_and_compare():
    results = [_result(100, 5.0), _result(500, 30.0)]
    text = report.table(results)
    assert "N=100" in text and "N=500" in text and "cold poll" in text and "MISS" in text
    assert "scaling: per-feed N=500 / N=100 = 1.20×" in text
    cmp = report.compare({"results": [_result(100, 5.0)]}, {"results": results})
    assert "cold poll" in cmp and "1.00×" in cmp and "  500 " not in cmp


def test_curve_checks_the_goals_and_that_the_ratios_hold_as_n_grows():
    small = _result(100, 3.0, nochange={"seconds": 0.2, "rss": 90 * report.MB})  # cold 0.30× the floor
    large = _result(2000, 4.0, warm={"seconds": 0.4})  # cold 0.40×: over the goal, and 1.33× the ratio at N=100
    text = report.curve([large, small])
    rows = text.splitlines()
    assert rows[0].startswith("N ") and rows[2].startswith("100 ") and rows[3].startswith("2000 ")
    assert "0.30 ok" in rows[2] and "0.40 MISS" in rows[3]  # cold ≤ 0.35 × the floor
    assert "0.50 MISS" in rows[2] and "0.20 ok" in rows[3]  # warm ≤ 0.25 × the floor's warm round
    assert "100 MB / 120 MB ok" in rows[2] and "90 MB / 120 MB ok" in rows[2]  # cron run; rounds (upper bound)
    assert "cold 1.33× MISS" in text and "warm 0.40× ok" in text
    assert report.curve([]) == ""


@pytest.mark.parametrize("colds, median", [
    ((), 0.30),                    # one round: its own ratio
    ((5.0,), 0.50),                # two: the higher middle one, never an average
    ((5.0, 4.0), 0.40),            # three: 0.30, 0.50, 0.40
])
def test_with_rounds_the_goals_use_the_median_of_each_rounds_ratio_to_its_own_floor(colds, median):
    repeats = [{"floor_cold": 10.0, "cold": c, "floor_warm": 2.0, "warm": 1.0, "nochange": 0.5} for c in colds]
    r = _result(2000, 3.0, repeats=repeats)
    assert report.goal_ratio(r, "cold") == pytest.approx(median)
    assert report.goal_ratios(r, "nochange") == pytest.approx([0.5 / 3.0, *(0.5 / c for c in colds)])
    text = report.curve([r])
    assert f"{median:.2f} {'ok' if median <= 0.35 else 'MISS'}" in text.splitlines()[2]
    assert ("N=2000 cold: 0.30 " in text) is bool(colds)  # each round, when there are several


# ----------------------------------------------------------------------------- end to end


def test_tiny_run_end_to_end(tmp_path, capsys):
    from benchmarks.__main__ import main

    out = tmp_path / "r.json"
    code = main(["--n", "3", "5", "--json", str(out), "--hosts", "2", "--rounds", "2"])
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    errors = [r.get("error") for r in doc["results"] if "error" in r]
    assert code == 0 and not errors, errors
    r5 = {r["n"]: r for r in doc["results"]}[5]
    assert report.sanity(r5) == []
    assert r5["floor_cold"]["entries"] == 250 and r5["changed"] == 1
    assert r5["cold"]["new_items"] > 0 and r5["store_bytes"] > 0
    assert r5["publish"]["written"] > 0 and r5["publish_again"]["written"] == 0
    assert r5["store_load"]["items"] >= 200
    assert "no-change poll" in printed and "N=5" in printed
    assert "ratio to the baseline, N=5 ÷ N=3" in printed and "seconds per stage" in printed
    assert r5["cold"]["stages"]["fetch"] > 0 and set(r5["pool_startup"]) >= {"fork_first", "fork_closed"}
    # --rounds 2: the timed polls once more, into a fresh store, beside a floor of their own
    assert [sorted(x) for x in r5["repeats"]] == [["cold", "floor_cold", "floor_warm", "nochange", "warm"]]
    assert all(v > 0 for v in r5["repeats"][0].values()) and "N=5 cold: " in printed
    again = main(["--compare", str(out), str(out)])
    assert again == 0 and "1.00×" in capsys.readouterr().out


@pytest.mark.parametrize("over, expected", [
    ({}, 0),
    ({"cold": {"seconds": 1.0, "outcomes": {"fetched": 99, "failed": 1}}}, 1),
    ({"nochange": {"seconds": 1.0, "outcomes": {"not_modified": 100}}}, 0),
    ({"nochange": {"seconds": 1.0, "outcomes": {"fetched": 100}}}, 1),
    ({"changed": 20, "warm": {"seconds": 1.0, "outcomes": {"fetched": 20, "not_modified": 80}}}, 0),
    ({"changed": 20, "warm": {"seconds": 1.0, "outcomes": {"fetched": 100}}}, 1),
    ({"floor_cold": {"seconds": 1.0, "failed": 3}}, 1),
])
def test_sanity_flags_rounds_that_did_not_do_their_work(over, expected):
    base = {"n": 100, "floor_cold": {"seconds": 1.0}, "cold": {"seconds": 1.0, "outcomes": {"fetched": 100}}}
    assert len(report.sanity({**base, **over})) == expected
