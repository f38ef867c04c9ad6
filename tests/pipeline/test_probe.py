"""``feeds probe``: the verdict table, and the command end to end against the local HTTP server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.cli.probe import EXIT_CODES
from aggregator.pipeline import VERDICTS, FeedFacts, Seen, decide, probe_feeds
from aggregator.pipeline.probe import facts_of, says_more, sources_to_probe
from aggregator import config as configuration
from aggregator.records import Entry, ParsedFeed, Source
from clihelpers import FEEDS, invoke, write_config
from feedserver import FeedServer, send

U = "https://a.example/feed"
FEED = FeedFacts(format="RSS 2.0", items=3, with_summary=3)
RSS = (FEEDS / "rss2.xml").read_bytes()
ATOM = (FEEDS / "atom.xml").read_bytes()


# ----------------------------------------------------------------------------- the verdict, pure


@pytest.mark.parametrize("seen, kind, reason, use", [
    pytest.param(Seen(U, status=200, final_url=U, feed=FEED), "ok", "", None, id="ok"),
    pytest.param(Seen(U, status=200, final_url="https://b.example/rss", permanent=True, feed=FEED),
                 "moved", "put https://b.example/rss in feeds.yaml", "https://b.example/rss", id="moved"),
    pytest.param(Seen(U, status=200, final_url="https://b.example/rss", permanent=False, feed=FEED),
                 "ok", "", None, id="temporary-redirect-keeps-the-address"),
    pytest.param(Seen(U, status=200, final_url=U, permanent=True, feed=FEED), "ok", "", None,
                 id="no-redirect-is-not-moved"),
    pytest.param(Seen(U, status=410, error="HTTP 410 Gone"), "gone", "drop it from feeds.yaml", None, id="gone"),
    pytest.param(Seen(U, status=410, final_url="https://b.example/", permanent=True, error="HTTP 410 Gone"),
                 "gone", "HTTP 410", None, id="gone-after-a-redirect"),
    pytest.param(Seen(U, status=403, error="HTTP 403 Forbidden"), "blocked", "HTTP 403 Forbidden", None,
                 id="403"),
    pytest.param(Seen(U, status=401, error="HTTP 401 Unauthorized"), "blocked", "HTTP 401", None, id="401"),
    pytest.param(Seen(U, status=404, error="HTTP 404 Not Found"), "failing", "HTTP 404 Not Found", None,
                 id="404"),
    pytest.param(Seen(U, status=503, error="HTTP 503 Service Unavailable"), "failing", "HTTP 503", None,
                 id="503"),
    pytest.param(Seen(U, error="NetworkError: connection refused"), "failing", "connection refused", None,
                 id="no-answer"),
    pytest.param(Seen(U, status=200, error="empty body (HTTP 200)"), "failing", "empty body", None,
                 id="empty-body"),
    pytest.param(Seen(U, status=200, html=True, not_feed="looks like an HTML page",
                      announced="https://a.example/rss", announced_feed=FEED),
                 "not a feed", "announces https://a.example/rss (RSS 2.0, 3 items): put that in feeds.yaml",
                 "https://a.example/rss", id="page-announcing-a-working-feed"),
    pytest.param(Seen(U, status=200, html=True, announced="https://a.example/rss",
                      announced_error="HTTP 404 Not Found"),
                 "not a feed", "which does not work either (HTTP 404 Not Found)", None,
                 id="page-announcing-a-dead-feed"),
    pytest.param(Seen(U, status=200, html=True, not_feed="looks like an HTML page"),
                 "not a feed", "an HTML page that announces no feed", None, id="page-without-feed"),
    pytest.param(Seen(U, status=200, not_feed="neither XML nor JSON (starts with 'oops')"),
                 "not a feed", "neither XML nor JSON", None, id="garbage"),
    pytest.param(Seen(U, status=200, final_url="https://a.example/", permanent=True, html=True,
                      announced="https://a.example/rss", announced_feed=FEED),
                 "not a feed", "put that in feeds.yaml", "https://a.example/rss",
                 id="redirected-to-the-home-page"),
])
def test_decide(seen: Seen, kind: str, reason: str, use: str | None) -> None:
    verdict = decide(seen)
    assert verdict.kind == kind
    assert reason in verdict.reason and (reason or not verdict.reason)
    assert verdict.use == use
    assert "\n" not in verdict.reason


def test_every_verdict_has_its_own_exit_code_and_only_ok_is_zero() -> None:
    assert set(EXIT_CODES) == set(VERDICTS)
    assert EXIT_CODES["ok"] == 0 and 0 not in {c for k, c in EXIT_CODES.items() if k != "ok"}
    assert len(set(EXIT_CODES.values())) == len(VERDICTS)
    assert not set(EXIT_CODES.values()) & {1, 2, 3, 4, 5, 6}  # the codes every command already uses


def entry(title: str, summary: str = "", content: str = "", day: int | None = None) -> Entry:
    date = datetime(2026, 9, day, tzinfo=timezone.utc) if day else None
    return Entry(guid=None, link=None, title=title, summary=summary, content=content, published=date)


@pytest.mark.parametrize("e, more", [
    (entry("NATO summit"), False),
    (entry("NATO summit", summary="<p>NATO summit</p>"), False),  # a summary that repeats the title
    (entry("NATO summit", summary="<p> </p>"), False),
    (entry("NATO summit", summary="Leaders meet in The Hague."), True),
    (entry("NATO summit", content="<p>Leaders meet.</p>"), True),  # JSON Feed: content, no summary
])
def test_says_more(e: Entry, more: bool) -> None:
    assert says_more(e) is more


@pytest.mark.parametrize("entries, carries, newest", [
    ((), "no items", None),
    ((entry("a", day=1), entry("b", day=3)), "title only", datetime(2026, 9, 3, tzinfo=timezone.utc)),
    ((entry("a", "x", day=2), entry("b", "y")), "summaries", datetime(2026, 9, 2, tzinfo=timezone.utc)),
    ((entry("a", "x"), entry("b")), "some summaries", None),
])
def test_facts_of(entries: tuple[Entry, ...], carries: str, newest: datetime | None) -> None:
    facts = facts_of(ParsedFeed(url=U, entries=entries, format="Atom 1.0"))
    assert (facts.carries, facts.newest, facts.items, facts.format) == (carries, newest, len(entries), "Atom 1.0")


def test_sources_are_the_config_or_the_urls_named(tmp_path: Path) -> None:
    conf = configuration.load(write_config(tmp_path, ["https://a.example/feed", "https://b.example/rss"]))
    assert [s.url for s in sources_to_probe(conf)] == ["https://a.example/feed", "https://b.example/rss"]
    named = sources_to_probe(conf, ["https://B.example/rss", "https://c.example/"])
    assert named[0].name == "Feed 1"  # configured: probed as configured, under its name
    assert named[1] == Source(url="https://c.example/")  # not configured: probed all the same


# ----------------------------------------------------------------------------- end to end

TITLE_ONLY = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>War.gov news</title>
<link>https://www.war.example/</link><description>d</description>
<item><title>Secretary meets Baltic ministers</title><link>https://www.war.example/1</link>
<description></description><pubDate>Tue, 29 Sep 2026 14:00:00 GMT</pubDate></item>
<item><title>Exercise in Lithuania</title><link>https://www.war.example/2</link>
<pubDate>Mon, 28 Sep 2026 09:30:00 GMT</pubDate></item></channel></rss>"""


def page(*links: str) -> bytes:
    return ("<!DOCTYPE html><html><head><title>News</title>" + "".join(links) + "</head><body>x</body></html>").encode()


def serve_cases(server: FeedServer) -> dict[str, str]:
    good = server.add("/feed.xml", RSS, content_type="application/rss+xml")
    return {
        "good": good,
        "missing": server.url("/missing.xml"),  # the server answers 404 for unknown paths
        "forbidden": server.add("/forbidden.xml", b"Forbidden", status=403, content_type="text/plain"),
        "page": server.add("/news/", page('<link rel="alternate" type="application/atom+xml" href="/news/atom">'),
                           content_type="text/html; charset=utf-8"),
        "nofeed": server.add("/about", page(), content_type="text/html"),
        "moved": server.add("/old-rss", lambda req: send(req, 301, headers={"Location": good})),
        "title-only": server.add("/title-only.xml", TITLE_ONLY, content_type="application/rss+xml"),
        "empty": server.add("/empty.xml", b"", content_type="application/rss+xml"),
        "gone": server.add("/gone.xml", b"", status=410, content_type="text/plain"),
    }


@pytest.fixture
def cases(server: FeedServer) -> dict[str, str]:
    urls = serve_cases(server)
    server.add("/news/atom", ATOM, content_type="application/atom+xml")
    return urls


@pytest.mark.parametrize("case, code, line", [
    ("good", 0, "{url}: HTTP 200, RSS 2.0, 3 items, newest 2024-06-04 06:15 UTC, summaries -> ok"),
    ("missing", 11, "{url}: HTTP 404 -> failing: HTTP 404 Not Found"),
    ("forbidden", 12, "{url}: HTTP 403 -> blocked: HTTP 403 Forbidden: the server refuses this client"),
    ("page", 13, "{url}: HTTP 200, an HTML page -> not a feed: an HTML page that announces {base}/news/atom "
                 "(Atom 1.0, 2 items): put that in feeds.yaml"),
    ("nofeed", 13, "{url}: HTTP 200, an HTML page -> not a feed: an HTML page that announces no feed"),
    ("moved", 10, "{url}: HTTP 200 after a permanent redirect to {base}/feed.xml, RSS 2.0, 3 items, "
                  "newest 2024-06-04 06:15 UTC, summaries -> moved: put {base}/feed.xml in feeds.yaml"),
    ("title-only", 0, "{url}: HTTP 200, RSS 2.0, 2 items, newest 2026-09-29 14:00 UTC, title only -> ok"),
    ("empty", 11, "{url}: HTTP 200 -> failing: empty body (HTTP 200)"),
    ("gone", 14, "{url}: HTTP 410 -> gone: the publisher removed it (HTTP 410): drop it from feeds.yaml or "
                 "find its new address"),
])
def test_each_case_gets_its_verdict_line_and_exit_code(tmp_path: Path, server: FeedServer, cases: dict[str, str],
                                                      case: str, code: int, line: str) -> None:
    url = cases[case]
    result = invoke(write_config(tmp_path, [url]), "feeds", "probe")
    assert result.exit_code == code, result.output
    assert result.stdout.splitlines() == [line.format(url=url, base=server.url("").rstrip("/"))]
    verdict = line.split(" -> ")[1].split(":")[0]
    assert result.stderr.strip() == f"1 feeds: 1 {verdict}"


def test_whole_config_one_line_each_in_order_and_the_highest_code(tmp_path: Path, cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, list(cases.values()))
    result = invoke(cfg, "feeds", "probe")
    lines = result.stdout.splitlines()
    assert [ln.split(": ", 1)[0] for ln in lines] == list(cases.values())
    assert [ln.rsplit(" -> ", 1)[1].split(":")[0] for ln in lines] == [
        "ok", "failing", "blocked", "not a feed", "not a feed", "moved", "ok", "failing", "gone"]
    assert result.exit_code == 14  # gone outranks the rest
    assert result.stderr.strip() == "9 feeds: 2 ok, 1 moved, 2 failing, 1 blocked, 2 not a feed, 1 gone"
    without_gone = invoke(cfg, "feeds", "probe", *[u for k, u in cases.items() if k != "gone"])
    assert without_gone.exit_code == 13


def test_quiet_prints_only_the_feeds_that_need_attention(tmp_path: Path, cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, [cases["good"], cases["title-only"], cases["missing"]])
    result = invoke(cfg, "--quiet", "feeds", "probe")
    assert result.exit_code == 11
    assert result.stdout.splitlines() == [f"{cases['missing']}: HTTP 404 -> failing: HTTP 404 Not Found"]
    assert result.stderr == ""
    ok = invoke(cfg, "-q", "feeds", "probe", cases["good"])
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "", "")


def test_json_shape(tmp_path: Path, server: FeedServer, cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, [cases["good"], cases["moved"], cases["page"], cases["forbidden"]])
    result = invoke(cfg, "feeds", "probe", "--json")
    assert result.exit_code == 13
    data = json.loads(result.stdout)
    assert set(data) == {"feeds", "counts", "exit_code"}
    assert data["exit_code"] == 13
    assert data["counts"] == {"ok": 1, "moved": 1, "failing": 0, "blocked": 1, "not a feed": 1, "gone": 0}
    good, moved, page_, forbidden = data["feeds"]
    assert set(good) == {"url", "name", "verdict", "reason", "use", "status", "final_url", "redirect", "format",
                         "items", "newest", "summaries", "items_with_summary", "error", "html", "announced",
                         "announced_works"}
    assert good == {**good, "url": cases["good"], "name": "Feed 0", "verdict": "ok", "reason": "", "use": None,
                    "status": 200, "final_url": cases["good"], "redirect": None, "format": "RSS 2.0", "items": 3,
                    "newest": "2024-06-04T06:15:00+00:00", "summaries": "summaries", "items_with_summary": 3,
                    "error": None, "html": False, "announced": None, "announced_works": None}
    assert (moved["verdict"], moved["redirect"], moved["use"]) == ("moved", "permanent", cases["good"])
    atom = server.url("/news/atom")
    assert (page_["verdict"], page_["html"], page_["announced"], page_["announced_works"], page_["use"],
            page_["format"]) == ("not a feed", True, atom, True, atom, None)
    assert (forbidden["verdict"], forbidden["status"], forbidden["error"]) == ("blocked", 403, "HTTP 403 Forbidden")


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_probe_writes_nothing_and_ignores_the_feed_state(tmp_path: Path, server: FeedServer,
                                                         cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, [cases["good"], cases["moved"], cases["missing"]])
    assert invoke(cfg, "run").exit_code == 0  # a store with feed states (ETags, errors) and output files
    before = tree(tmp_path)
    assert any(name.startswith("data/") for name in before) and "output/index.html" in before
    server.requests.clear()
    result = invoke(cfg, "feeds", "probe")
    assert result.exit_code == 11
    assert tree(tmp_path) == before  # store, feeds.yaml and output: same bytes, not even rewritten
    assert not any("if-none-match" in h or "if-modified-since" in h for _, h in server.requests)  # no state used

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    cfg = write_config(fresh, [cases["good"]])
    assert invoke(cfg, "feeds", "probe").exit_code == 0
    assert sorted(p.name for p in fresh.iterdir()) == ["feeds.yaml"]  # no store, no output folder


def test_a_named_url_need_not_be_configured(tmp_path: Path, cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, [cases["missing"]])
    result = invoke(cfg, "feeds", "probe", cases["title-only"])
    assert result.exit_code == 0 and result.stdout.startswith(f"{cases['title-only']}: HTTP 200")


@pytest.mark.parametrize("args, message", [
    (["ftp://a.example/feed"], "'ftp://a.example/feed' is not an http(s) URL"),
    (["feed.xml"], "'feed.xml' is not an http(s) URL"),
])
def test_a_bad_url_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(write_config(tmp_path, ["https://a.example/"]), "feeds", "probe", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_a_bad_config_exits_2_before_fetching(tmp_path: Path, server: FeedServer, cases: dict[str, str]) -> None:
    cfg = write_config(tmp_path, [cases["good"]])
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("timeout: 5", "timeout: -1"), encoding="utf-8")
    server.requests.clear()
    result = invoke(cfg, "feeds", "probe")
    assert result.exit_code == 2 and "timeout" in result.stderr and str(cfg) in result.stderr
    assert server.requests == []


def test_probe_uses_the_poller_limits(tmp_path: Path, server: FeedServer) -> None:
    """max_body_bytes and the User-Agent of feeds.yaml apply to a probe as to a poll."""
    url = server.add("/big.xml", RSS, content_type="application/rss+xml", gzip=False)
    cfg = write_config(tmp_path, [url])
    text = cfg.read_text(encoding="utf-8").replace("timeout: 5", "timeout: 5\n  max_body_bytes: 1000\n"
                                                                 "  user_agent: probe-test/1")
    cfg.write_text(text, encoding="utf-8")
    result = invoke(cfg, "feeds", "probe")
    assert result.exit_code == 11 and "over the 1000-byte limit" in result.stdout
    assert server.requests[-1][1]["user-agent"] == "probe-test/1"


def test_library_call_with_a_deferred_host(tmp_path: Path, server: FeedServer) -> None:
    """A host that answers 429 with Retry-After is not asked again: its other feeds say so."""
    busy = server.add("/busy.xml", b"slow down", status=429, content_type="text/plain",
                      headers={"Retry-After": "3600"})
    other = server.add("/other.xml", RSS, content_type="application/rss+xml")
    conf = configuration.load(write_config(tmp_path, [busy, other]))
    conf = configuration.replace_settings(conf, per_host=1, concurrency=1)
    probes = probe_feeds(conf)
    assert [p.verdict.kind for p in probes] == ["failing", "failing"]
    assert "429" in probes[0].verdict.reason and "asked us to wait" in probes[1].verdict.reason


def test_readme_and_cli_docstring_list_the_probe_exit_codes() -> None:
    from aggregator.cli import commands
    from paths import ROOT

    rows = {line.split(" | ")[0].strip("| "): line for line in (ROOT / "README.md").read_text(encoding="utf-8")
            .splitlines() if line.startswith("| ") and "`feeds probe`:" in line.split(" | ")[1]}
    assert {int(code) for code in rows} == {c for c in EXIT_CODES.values() if c}
    for kind, code in EXIT_CODES.items():
        if code:
            assert kind in rows[str(code)], (kind, rows[str(code)])
    assert "10 moved, 11 failing, 12 blocked, 13 not a feed,\n        14 gone" in commands.__doc__


def test_offline_the_shipped_sources_probe_as_failing_one_line_each(tmp_path: Path) -> None:
    """What a newcomer without network sees: every shipped source failing, one line each, exit 11."""
    import re

    from paths import ROOT

    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    text = re.sub(r"url: https?://\S+", lambda m: f"url: http://127.0.0.1:9/{abs(hash(m.group()))}", text)
    text = text.replace("settings:", "settings:\n  timeout: 3", 1) if "timeout:" not in text else text
    cfg = tmp_path / "feeds.yaml"
    cfg.write_text(text, encoding="utf-8")
    shipped = configuration.load(ROOT / "feeds.yaml").sources
    result = invoke(cfg, "feeds", "probe")
    assert result.exit_code == 11
    lines = result.stdout.splitlines()
    assert len(lines) == len(shipped) and all(" -> failing: " in ln and "no answer" in ln for ln in lines)
    assert result.stderr.strip() == f"{len(shipped)} feeds: {len(shipped)} failing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds.yaml"]
