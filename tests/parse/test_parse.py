"""parse/feeds.py: every fixture format, encodings, relative links, bozo feeds, not-a-feed, sanitising,
and parse_many giving the same records in one process or many."""

from __future__ import annotations

from paths import FEEDS
import time
from datetime import datetime, timezone

import pytest

from aggregator.parse import pool as pool_mod
from aggregator.errors import ParseError
from aggregator.parse.feeds import ParseJob, not_a_feed_reason, parse
from aggregator.parse.pool import chunked, parse_many, pool_size
from aggregator.parse.fields import format_name, int_or_none, person_from_string, title_text
from aggregator.records import Enclosure, ParsedFeed

RSS_URL = "https://baltic-defence.example/feed.xml"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def load(name: str, url: str, content_type: str = "application/xml") -> ParsedFeed:
    return parse((FEEDS / name).read_bytes(), url=url, headers={"Content-Type": content_type}, key=url)


def test_rss2_entries():
    feed = load("rss2.xml", RSS_URL, "application/rss+xml")
    assert (feed.url, feed.title, feed.link, feed.bozo) == (
        RSS_URL, "Baltic Defence Monitor", "https://baltic-defence.example/", None)
    assert feed.updated == utc(2024, 6, 4, 6, 30)
    first, second, third = feed.entries
    assert first.guid == "bdm-2024-0604-001"
    assert first.link == "https://baltic-defence.example/news/2024/06/baltic-defence-line"  # was relative
    assert first.title == "Estonia and Latvia sign Baltic Defence Line agreement"  # markup stripped
    assert first.published == utc(2024, 6, 4, 6, 15) and first.updated is None
    assert first.authors == ("Kristiina Tamm",)
    assert first.categories == ("Baltic states", "NATO")
    assert first.enclosures == (Enclosure("https://baltic-defence.example/media/bunkers.jpg", "image/jpeg", 48213),)
    assert 'href="https://baltic-defence.example/tags/estonia"' in first.summary
    assert second.authors == ("Jonas Petrauskas",)  # from "desk@… (Jonas Petrauskas)"
    assert second.content.startswith("<p>Four fighters") and "Šiauliai" in second.title
    assert third.enclosures == (Enclosure("https://cdn.baltic-defence.example/audio/drones.mp3", "audio/mpeg", None),)
    assert third.published == utc(2024, 6, 2, 16, 45)


def test_rss2_more_adds_two_items_on_top():
    base = load("rss2.xml", RSS_URL)
    more = load("rss2_more.xml", RSS_URL)
    assert [e.guid for e in more.entries] == ["bdm-2024-0606-002", "bdm-2024-0605-004"] + [
        e.guid for e in base.entries]
    assert more.entries[2:] == base.entries


def test_rss1_rdf():
    feed = load("rss1.rdf", "https://nordic-security.example/rdf")
    assert feed.title == "Nordic Security Review" and feed.updated == utc(2024, 6, 4, 7)
    assert [e.guid for e in feed.entries] == [
        "https://nordic-security.example/analysis/gotland", "https://nordic-security.example/analysis/ukraine-aid"]
    gotland = feed.entries[0]
    assert gotland.updated == utc(2024, 6, 4, 4, 30) and gotland.published is None  # dc:date
    assert gotland.authors == ("Erik Lindqvist",) and gotland.categories == ("NATO",)
    assert gotland.summary == "<p>Sweden's island sits in the middle of the <em>Baltic Sea</em>.</p>"


def test_atom():
    feed = load("atom.xml", "https://eastern-flank.example/atom.xml", "application/atom+xml")
    assert feed.title == "Eastern Flank & Allies"  # type="html" title, entity decoded once
    assert feed.feed_id == "tag:eastern-flank.example,2024:feed"
    assert feed.link == "https://eastern-flank.example/"
    a, b = feed.entries
    assert a.link == "https://eastern-flank.example/articles/latvia-conscription"  # xml:base
    assert (a.published, a.updated) == (utc(2024, 6, 4, 5), utc(2024, 6, 4, 6, 30))
    assert a.authors == ("Ilze Bērziņa", "desk@eastern-flank.example")  # email when no name
    assert a.categories == ("Baltic states", "conscription")
    assert a.enclosures == (Enclosure("https://eastern-flank.example/docs/conscription-law.pdf",
                                      "application/pdf", 120400),)
    assert "<strong>military service</strong>" in a.content
    assert b.title == "Ukraine & NATO: the road to the Washington summit"
    assert b.link == "https://eastern-flank.example/ukraine/washington-summit"  # entry xml:base
    assert 'href="https://eastern-flank.example/ukraine/background"' in b.content
    assert b.published is None and b.updated == utc(2024, 6, 3, 16, 20)


def test_jsonfeed():
    feed = load("jsonfeed.json", "https://blacksea-watch.example/feed.json", "application/feed+json")
    assert (feed.title, feed.link) == ("Black Sea Watch", "https://blacksea-watch.example/")
    a, b = feed.entries
    assert a.guid == "bsw-5521" and a.link == "https://blacksea-watch.example/reports/odesa-port"
    assert (a.published, a.updated) == (utc(2024, 6, 4, 8), utc(2024, 6, 4, 12, 15))
    assert a.summary == "Grain exports reached pre-war levels &lt;despite&gt; strikes."  # text, escaped
    assert "<script" not in a.content and 'href="https://blacksea-watch.example/ports/odesa"' in a.content
    assert a.authors == ("Iryna Shevchenko",) and a.categories == ("Ukraine", "Black Sea")
    assert a.enclosures == (Enclosure("https://blacksea-watch.example/media/odesa.mp4", "video/mp4", 5242880),)
    assert b.guid == "5522" and b.authors == ("Andrei Popescu",)  # numeric id, JSON Feed 1.0 author
    assert b.content == "The base near Constanța will become the largest NATO base in Europe.<br>Work starts this year."
    assert feed.updated == utc(2024, 6, 4, 12, 15)


def _rss(title: str, encoding_decl: str = "") -> str:
    decl = f'<?xml version="1.0" encoding="{encoding_decl}"?>' if encoding_decl else ""
    return (f'{decl}<rss version="2.0"><channel><title>Feed</title><item><title>{title}</title>'
            '<guid>g1</guid><link>https://x.example/a</link></item></channel></rss>')


def test_cp1252_body_declared_utf8_does_not_crash():
    body = _rss("Tallinn \u2013 Riga \u201cexercise\u201d").encode("cp1252")
    feed = parse(body, url="https://x.example/f", headers={"content-type": "application/rss+xml; charset=utf-8"},
                 key="k")
    assert feed.entries[0].guid == "g1" and "Tallinn" in feed.entries[0].title


def test_header_windows_1252_decodes_properly():
    body = _rss("Tallinn \u2013 Riga \u201cexercise\u201d").encode("cp1252")
    feed = parse(body, url="https://x.example/f",
                 headers={"Content-Type": "application/rss+xml; charset=windows-1252"}, key="k")
    assert feed.entries[0].title == "Tallinn \u2013 Riga \u201cexercise\u201d"


def test_xml_declaration_encoding_respected_without_headers():
    body = _rss("Kraków – Šiauliai", "iso-8859-2").encode("iso-8859-2", errors="replace")
    feed = parse(body, url="https://x.example/f", headers={}, key="k")
    assert feed.entries[0].title.startswith("Kraków") and feed.bozo is None  # no content type: XML assumed


@pytest.mark.parametrize("headers, expected", [
    ({}, "https://mirror.example/feeds/a/news/1"),  # the final URL after redirects
    ({"Content-Location": "/other/feed.xml"}, "https://mirror.example/other/news/1"),
])
def test_relative_links_resolved_against_final_url(headers, expected):
    body = (b'<rss version="2.0"><channel><title>T</title><item><title>x</title><link>news/1</link>'
            b'<description>&lt;a href="pic.jpg"&gt;p&lt;/a&gt;</description></item></channel></rss>')
    entry = parse(body, url="https://mirror.example/feeds/a/rss.xml", headers=headers, key="k").entries[0]
    assert entry.link == expected
    assert f'href="{expected.rsplit("/", 1)[0]}/pic.jpg"' in entry.summary  # relative to the entry link


def test_relative_guid_kept_as_written_while_link_resolves():
    feed = parse(_rss("t").encode(), url="https://x.example/f", headers={}, key="k")
    body = b'<rss version="2.0"><channel><title>T</title><item><guid>item-7</guid></item></channel></rss>'
    alone = parse(body, url="https://x.example/dir/f", headers={}, key="k").entries[0]
    assert feed.entries[0].guid == "g1"
    assert (alone.guid, alone.link) == ("item-7", "https://x.example/dir/item-7")  # permalink guid


def test_bozo_feed_keeps_entries():
    body = (b'<rss version="2.0"><channel><title>T</title><item><title>A & B</title><guid>a</guid></item>'
            b'<item><title>C</title><guid>c</guid></channel></rss>')
    feed = parse(body, url="https://x.example/f", headers={}, key="https://x.example/f")
    assert [e.guid for e in feed.entries] == ["a", "c"]
    assert feed.bozo and "\n" not in feed.bozo and "SAXParseException" in feed.bozo


def test_empty_channel_is_a_feed_without_entries():
    feed = parse(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>', url="https://x.example/f",
                 headers={}, key="k")
    assert feed.title == "Quiet" and feed.entries == ()


@pytest.mark.parametrize("name, content_type, fmt", [
    ("rss2.xml", "application/rss+xml", "RSS 2.0"),
    ("rss1.rdf", "application/rdf+xml", "RSS 1.0"),
    ("atom.xml", "application/atom+xml", "Atom 1.0"),
    ("jsonfeed.json", "application/feed+json", "JSON Feed 1.1"),
])
def test_parsed_feed_names_its_format(name, content_type, fmt):
    assert load(name, RSS_URL, content_type).format == fmt


def test_format_survives_the_known_items_fast_path():
    full = load("rss2.xml", RSS_URL)
    cut = parse((FEEDS / "rss2.xml").read_bytes(), url=RSS_URL, headers={}, key=RSS_URL, skip=full.item_hashes[:1])
    assert cut.skipped == 1 and cut.format == "RSS 2.0"


@pytest.mark.parametrize("version, name", [
    ("rss20", "RSS 2.0"), ("rss10", "RSS 1.0"), ("rss091u", "RSS 0.91"), ("rss", "RSS"), ("atom10", "Atom 1.0"),
    ("atom03", "Atom 0.3"), ("cdf", "CDF"), ("https://jsonfeed.org/version/1", "JSON Feed 1"),
    ("https://jsonfeed.org/version/1.1", "JSON Feed 1.1"), ("", ""), ("rss99", "rss99"),
])
def test_format_name(version, name):
    assert format_name(version) == name


@pytest.mark.parametrize("body, message", [
    (b"", "not a feed: the body is empty"),
    (b"  \n\t ", "not a feed: the body is empty"),
    (b"<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>",
     "not a feed: looks like an HTML page"),
    (b"<html><body><p>Moved</p></body></html>", "not a feed: looks like an HTML page"),
    (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><title>x</title></svg>",
     "not a feed: XML whose root element <svg> is not RSS, Atom or RDF"),
    (b"hello, plain text", "not a feed: neither XML nor JSON (starts with 'hello, plain text')"),
    (b'{"a": 1}', "not a feed: JSON that is not a JSON Feed (no jsonfeed.org version)"),
    (b'[1, 2]', "not a feed: JSON that is not a JSON Feed (no jsonfeed.org version)"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": ', "not a feed: invalid JSON"),
])
def test_not_a_feed(body, message):
    with pytest.raises(ParseError) as info:
        parse(body, url="https://x.example/f", headers={"content-type": "text/html"}, key="https://x.example/f")
    assert str(info.value).startswith(f"https://x.example/f: {message}")
    assert "\n" not in str(info.value) and info.value.url == "https://x.example/f"


def test_not_a_feed_reason_is_pure():
    assert not_a_feed_reason(b"\xef\xbb\xbf  <HTML lang='en'>") == "not a feed: looks like an HTML page"


HOSTILE_HTML = (
    '<p onclick="steal()">Hi <a href="/rel/page">rel</a> <a href="javascript:alert(1)">js</a>'
    '<img src="x.png" onerror="steal()"><script>alert(1)</script><style>p{}</style>'
    '<iframe src="https://evil.example/"></iframe><object data="x.swf"></object></p>'
)


def test_sanitised_as_safely_as_feedparser_default():
    import feedparser  # only to compare with its own sanitiser, which we switched off
    import html as html_mod
    import io
    body = ('<rss version="2.0"><channel><title>T</title><item><title>t</title>'
            f'<link>https://x.example/a/b</link><description>{html_mod.escape(HOSTILE_HTML)}</description>'
            '</item></channel></rss>').encode()
    ours = parse(body, url="https://x.example/feed", headers={}, key="k").entries[0].summary
    theirs = feedparser.parse(io.BytesIO(body), response_headers={"content-location": "https://x.example/feed"}
                              ).entries[0].summary
    for bad in ("<script", "alert(1)", "<style", "<iframe", "<object", "onclick", "onerror", "javascript:"):
        assert bad not in ours, bad
        assert bad not in theirs, bad  # the bar we must meet
    assert 'href="https://x.example/rel/page"' in ours and 'src="https://x.example/a/x.png"' in ours


@pytest.mark.parametrize("raw, expected", [
    ("desk@baltic-defence.example (Jonas Petrauskas)", "Jonas Petrauskas"),
    ("Jonas Petrauskas <desk@baltic-defence.example>", "Jonas Petrauskas"),
    ("Jonas Petrauskas (desk@baltic-defence.example)", "Jonas Petrauskas"),
    ("desk@baltic-defence.example", "desk@baltic-defence.example"),
    ("desk@baltic-defence.example ()", "desk@baltic-defence.example"),
    ("  Kristiina   Tamm ", "Kristiina Tamm"),
])
def test_person_from_string(raw, expected):
    assert person_from_string(raw) == expected


@pytest.mark.parametrize("value, expected", [
    ("48213", 48213), (" 12 ", 12), (7, 7), (-1, None), ("-1", None), ("abc", None), ("", None),
    (None, None), (True, None), (3.0, 3), ("9" * 30, None),
])
def test_int_or_none(value, expected):
    assert int_or_none(value) == expected


@pytest.mark.parametrize("value, mime, expected", [
    ("A <b>bold</b> &amp; move", "text/html", "A bold & move"),
    ("1 < 2 and 3 > 2", "text/plain", "1 < 2 and 3 > 2"),  # plain text keeps its brackets
    ("line\none\x00\x07", "text/plain", "line one"),
])
def test_title_text(value, mime, expected):
    assert title_text(value, mime) == expected


@pytest.mark.parametrize("n_jobs, size, workers, cpus, expected", [
    (100, 60_000, 1, 8, 1),
    (100, 60_000, 0, 1, 1),
    (100, 60_000, 0, 4, 4),  # 0 = one per CPU, as Settings.parse_workers says
    (100, 60_000, 2, 8, 2),
    (4, 600_000, 2, 8, 1),  # too few jobs
    (100, 100, 2, 8, 1),  # too few bytes
    (9, 600_000, 16, 8, 9),  # never more processes than jobs
])
def test_pool_size(n_jobs, size, workers, cpus, expected):
    assert pool_size(n_jobs, n_jobs * size, workers, cpus) == expected


def test_chunked_keeps_order_and_covers_all():
    jobs = [ParseJob(b"x", "u", {}, str(i)) for i in range(37)]
    chunks = chunked(jobs, 2)
    assert [j for c in chunks for j in c] == jobs and len(chunks) == 8


def _jobs() -> list[ParseJob]:
    fixtures = [(FEEDS / n).read_bytes() for n in ("rss2.xml", "rss1.rdf", "atom.xml", "jsonfeed.json",
                                                    "rss2_more.xml")]
    jobs = [ParseJob(body, f"https://h{i}.example/feed", {"content-type": "application/xml"}, f"k{i}")
            for i, body in enumerate(fixtures * 4)]
    jobs.insert(3, ParseJob(b"<html><body>oops</body></html>", "https://bad.example/", {}, "bad"))
    return jobs


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_parse_many_same_in_process_and_in_pool(monkeypatch, method):
    import multiprocessing
    jobs = _jobs()
    local = parse_many(jobs, workers=1)
    monkeypatch.setattr(pool_mod, "MIN_POOL_BYTES", 0)  # force the pool for these small bodies
    monkeypatch.setattr(pool_mod, "_context", lambda: multiprocessing.get_context(method))
    pooled = parse_many(jobs, workers=2)
    assert len(local) == len(pooled) == len(jobs)
    assert [r.url for r in pooled] == [j.key for j in jobs]  # job order
    for a, b in zip(local, pooled):
        if isinstance(a, ParseError):
            assert type(b) is ParseError and (b.url, b.message) == (a.url, a.message)
        else:
            assert a == b
    assert isinstance(pooled[3], ParseError) and "HTML page" in str(pooled[3])


def test_parse_many_survives_a_dead_worker(monkeypatch):
    monkeypatch.setattr(pool_mod, "MIN_POOL_BYTES", 0)
    jobs = _jobs()
    jobs[0] = ParseJob(b"<rss/>", "u", {}, "poison")
    started = time.monotonic()
    monkeypatch.setattr(pool_mod, "_parse_chunk", _die_on_poison)
    results = pool_mod.parse_many(jobs, workers=2)
    assert isinstance(results[0], ParseError) and "parser process failed" in str(results[0])
    assert len(results) == len(jobs) and time.monotonic() - started < 60  # generous: no hang


def _die_on_poison(jobs):  # a worker killed mid-chunk (OOM, segfault in a C parser)
    if any(j.key == "poison" for j in jobs):
        import os
        os._exit(1)
    return [pool_mod._Failure(r.url, r.message) if isinstance(r, ParseError) else r
            for r in map(pool_mod.parse_job, jobs)]


def test_parse_pool_reuses_its_processes_and_keeps_order(monkeypatch):
    from aggregator.parse.pool import ParsePool
    jobs = _jobs()
    local = parse_many(jobs, workers=1)
    with ParsePool(workers=2) as pool:
        first = pool.map(jobs[:10])
        executor = pool._executor
        futures = [pool.submit(j) for j in jobs[10:]]
        rest = [f.result(timeout=60) for f in futures]
        assert pool._executor is executor and executor is not None  # one set of processes
    assert pool._executor is None  # closed on exit
    for a, b in zip(local, first + rest):
        assert (a.url, a.message) == (b.url, b.message) if isinstance(a, ParseError) else a == b


def test_parse_pool_in_process_when_one_worker():
    from aggregator.parse.pool import ParsePool
    with ParsePool(workers=1) as pool:
        results = pool.map(_jobs()) + [pool.submit(_jobs()[0]).result()]
        assert pool._executor is None
    assert results[-1] == results[0] and isinstance(results[3], ParseError)


def test_parse_pool_recovers_from_a_dead_worker(monkeypatch):
    from aggregator.parse.pool import ParsePool
    monkeypatch.setattr(pool_mod, "_parse_chunk", _die_on_poison)
    good = _jobs()[0]
    with ParsePool(workers=2) as pool:
        dead = pool.submit(ParseJob(b"<rss/>", "u", {}, "poison")).result(timeout=60)
        assert isinstance(dead, ParseError) and dead.url == "poison" and "parser process failed" in str(dead)
        again = pool.submit(good).result(timeout=60)  # a fresh executor replaces the broken one
    assert again == pool_mod.parse_job(good)


def test_parse_job_passes_skip():
    body = (FEEDS / "rss2_more.xml").read_bytes()
    old = parse((FEEDS / "rss2.xml").read_bytes(), url=RSS_URL, headers={}, key=RSS_URL)
    r = pool_mod.parse_job(ParseJob(body, RSS_URL, {}, RSS_URL, frozenset(old.item_hashes)))
    assert (r.skipped, len(r.entries), len(r.item_hashes)) == (3, 2, 5)
