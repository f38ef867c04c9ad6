"""parse/speedups.py: feedparser patched for speed (issue 8) gives exactly what it gives as shipped,
and the patches are in place only while one of our parses runs."""

from __future__ import annotations

from paths import ROOT, FEEDS
import importlib.util
import sys
import warnings
from datetime import datetime, timezone

import pytest

from aggregator.parse import feeds as parse_mod
from aggregator.parse import speedups as parse_speedups
from aggregator.parse.feeds import parse


_XML_BASE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/root/">
 <title>B</title><link href="home"/><id>tag:x</id>
 <entry xml:base="sub/"><title>one</title><link href="one.html"/><id>e1</id>
  <content type="xhtml" xml:base="../other/"><div xmlns="http://www.w3.org/1999/xhtml">
   <p>a &amp; b &lt;c&gt; <a href="x.html">x</a> "q"</p></div></content></entry>
 <entry xml:base="javascript:alert(1)"><title>two</title><link href="two.html"/><id>e2</id>
  <summary type="html">&lt;a href="rel"&gt;r&lt;/a&gt;</summary></entry>
 <entry xml:base="//cdn.example/p/"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">T <b>3</b>
  &amp;</div></title><link href="three"/><id>e3</id></entry>
 <entry xml:base="http://[bad/"><title>four</title><link href="four"/><id>e4</id></entry>
</feed>"""


def _patch_corpus() -> list[tuple[str, bytes, dict[str, str]]]:
    sys.path.insert(0, str(ROOT))
    from benchmarks import synth

    ep = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = [(f"https://f.example/{p.name}", p.read_bytes(), {"content-type": "application/xml"})
           for p in sorted(FEEDS.iterdir()) if p.suffix != ".json"]
    out += [(f"http://127.0.0.1/feed/{i}.xml", synth.feed_bytes(3, i, 0, ep), {}) for i in range(3)]
    out += [("https://b.example/f", _XML_BASE_FEED, {"Content-Location": "/moved/f.xml"}),
            ("https://b.example/bozo", _XML_BASE_FEED.replace(b"</entry>", b"</entry", 1), {}),
            ("https://b.example/t", b"<rss><channel><item><title>a &amp; b</title></item></channel></rss>",
             {"content-type": "text/plain"})]
    return out


def _raw(body: bytes, url: str, headers: dict[str, str]) -> tuple:
    d = parse_mod._feedparser(body, parse_mod.response_headers(headers, parse_mod.base_url(url, headers)))
    exc = d.get("bozo_exception")
    return d.get("version"), d.feed, d.entries, d.get("namespaces"), d.get("bozo"), repr(exc)


def test_feedparser_speedups_change_no_result(monkeypatch):
    """The memoised URI joins and the inlined ``characters`` give what feedparser gives alone."""
    corpus = _patch_corpus()
    hits = parse_speedups.CACHED_URI_FUNCS[1].cache_info().hits
    patched = [(_raw(b, u, h), parse(b, url=u, headers=h, key=u)) for u, b, h in corpus]
    assert parse_speedups.CACHED_URI_FUNCS[1].cache_info().hits > hits  # the patch is really used
    assert not parse_speedups.patched()  # only while we parse: the floor gets feedparser as shipped
    monkeypatch.setattr(parse_speedups, "SPEEDUPS", False)
    original = [(_raw(b, u, h), parse(b, url=u, headers=h, key=u)) for u, b, h in corpus]
    assert patched == original
    xhtml = patched[-3][0][2][0]["content"][0]["value"]
    assert "a &amp; b &lt;c&gt;" in xhtml  # the xhtml branch of characters ran (escaped text)


def test_feedparser_speedups_stay_while_another_thread_parses():
    with parse_speedups.speedups():
        with parse_speedups.speedups():
            assert parse_speedups.patched()
        assert parse_speedups.patched()  # the outer parse still has them
    assert not parse_speedups.patched()


def test_feedparser_gets_the_same_sax_reader_without_searching_for_a_missing_driver():
    import xml.sax

    import feedparser

    shipped = type(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS))
    with parse_speedups.speedups():
        # Only drivers that can be imported are asked for (drv_libxml2 is not installed here).
        assert all(importlib.util.find_spec(n) for n in feedparser.api.PREFERRED_XML_PARSERS)
        assert type(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)) is shipped
    assert feedparser.api.PREFERRED_XML_PARSERS == ["drv_libxml2"]  # as shipped again


def test_text_comes_in_runs_and_content_params_are_copied_directly(monkeypatch):
    """Patches 4 and 5 are used (and undone after the parse): fewer ``characters`` calls, and
    contentparams copied without deepcopy's machinery, equal to what deepcopy gives."""
    import copy
    import xml.sax.expatreader

    import feedparser

    sys.path.insert(0, str(ROOT))
    from benchmarks import synth

    body = synth.feed_bytes(3, 1, 0, datetime(2026, 1, 1, tzinfo=timezone.utc))
    calls = {"characters": 0, "direct": 0}
    real_chars, real_copy = parse_speedups._characters, parse_speedups._DeepCopy.deepcopy

    def characters(self, text):
        calls["characters"] += 1
        return real_chars(self, text)

    def deepcopy(x, memo=None):
        out = real_copy(x, memo)
        if out is not x and type(x) is feedparser.util.FeedParserDict:
            assert out == copy.deepcopy(x) and type(out) is type(x) and out is not x
            calls["direct"] += 1
        return out

    monkeypatch.setattr(parse_speedups, "_characters", characters)
    monkeypatch.setattr(parse_speedups._DeepCopy, "deepcopy", staticmethod(deepcopy))
    buffered = parse(body, url="https://f.example/1", headers={}, key="k")
    runs = calls["characters"]
    monkeypatch.setattr(parse_speedups, "_buffered_reset", parse_speedups._EXPAT_RESET)
    assert parse(body, url="https://f.example/1", headers={}, key="k") == buffered
    assert calls["characters"] - runs > 3 * runs  # expat's pieces, against one call per run
    assert calls["direct"] >= 50  # at least one text element per item
    assert feedparser.mixin.copy is copy
    assert xml.sax.expatreader.ExpatParser.reset is parse_speedups._EXPAT_RESET
    assert feedparser.util.FeedParserDict.get is parse_speedups._DICT_GET
    for name, method in parse_speedups._FPD_METHODS.items():  # patch 7, undone
        assert vars(feedparser.util.FeedParserDict)[name] is method


def test_the_plain_get_reads_what_feedparsers_get_reads():
    import feedparser

    d = feedparser.util.FeedParserDict({"type": "text/html", "published": "p", "summary": "s",
                                        "tags": [{"term": "t"}], "links": []})
    with warnings.catch_warnings():  # "updated" falls back to "published", and says so
        warnings.simplefilter("ignore", DeprecationWarning)
        for key in ("type", "missing", "updated", "description", "category", "enclosures", "license", 3):
            assert parse_speedups._plain_get(d, key, "dflt") == parse_speedups._DICT_GET(d, key, "dflt"), key


def test_the_direct_copy_falls_back_to_deepcopy_for_anything_else():
    import feedparser

    nested = feedparser.util.FeedParserDict({"type": "text/html", "x": ["a"]})
    got = parse_speedups._DeepCopy.deepcopy(nested)
    assert got == nested and got["x"] is not nested["x"]  # a real deep copy
    flat = feedparser.util.FeedParserDict({"type": "text/html", "language": None, "base": "https://a/"})
    assert parse_speedups._DeepCopy.deepcopy(flat) == flat


def test_the_plain_dict_methods_do_what_feedparsers_do():
    """Patch 7: for every kind of key (plain, mapped, special, missing, not a string), the
    patched methods give, raise and store what FeedParserDict's own do."""
    import feedparser

    def fresh():
        return feedparser.util.FeedParserDict({"type": "text/html", "published": "p", "summary": "s",
                                               "tags": [{"term": "t"}], "links": [], "rights": "r"})

    keys = ("type", "missing", "updated", "updated_parsed", "description", "copyright", "category",
            "enclosures", "license", "summary", 3, ("a",))
    shipped, plain = parse_speedups._FPD_METHODS, parse_speedups.PLAIN_METHODS
    with warnings.catch_warnings():  # "updated" falls back to "published", and says so
        warnings.simplefilter("ignore", DeprecationWarning)
        for key in keys:
            for name in ("__getitem__", "__contains__"):
                outs = []
                for methods in (shipped, plain):
                    try:
                        outs.append(("ok", methods[name](fresh(), key)))
                    except KeyError as exc:
                        outs.append(("KeyError", exc.args))
                assert outs[0] == outs[1], (name, key)
            a, b = fresh(), fresh()
            shipped["__setitem__"](a, key, "v")
            plain["__setitem__"](b, key, "v")
            assert dict(a) == dict(b), key
            a, b = fresh(), fresh()
            assert shipped["setdefault"](a, key, "d") == plain["setdefault"](b, key, "d"), key
            assert dict(a) == dict(b), key


@pytest.mark.parametrize("text", [
    "Wed, 25 Nov 2026 13:00:00 +0000", "Tue, 03 Jun 2003 09:39:21 GMT", "Sat, 25 Oct 2026 13:00:00 Z",
    "Thu, 01 Jan 1970 00:00:00 EST", "Sun Jan  4 16:29:06 PST 2004", "tuesday", "T", "t12:00", "abcd-01-01",
    "Wed", "Mon, 2026-11-25", "2026-11-25T13:00:00Z", "2026-11-25", "2026-11-25 13:00:00",
    " 2026-11-25T13:00:00+02:00", "20261125T130000Z", "٢٠٢٦-11-25", "-2026-01-01", "+2026-01-01", "25 Nov 2026",
    "", "   ", "Été 2026", "Ωmega 2026-01-01",
])
def test_dates_parse_the_same_with_the_w3dtf_short_cut(text):
    """Patch 8: every date string gets from _parse_date what it gets as shipped; W3C-DTF is
    skipped only where it cannot succeed (text that begins with an ASCII letter)."""
    from feedparser.datetimes import _parse_date, _parse_date_w3dtf

    shipped = _parse_date(text)
    with parse_speedups.speedups():
        assert parse_speedups._w3dtf in parse_speedups._HANDLERS  # the short-cut is in place
        assert _parse_date(text) == shipped
        if text[:1].isascii() and text[:1].isalpha():
            assert _parse_date_w3dtf(text) is None  # what the short-cut assumes
    assert parse_speedups._W3DTF in parse_speedups._HANDLERS and parse_speedups._w3dtf not in parse_speedups._HANDLERS
