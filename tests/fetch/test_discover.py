"""Feed autodiscovery from <link rel="alternate">: table-driven over real-world page shapes."""

from __future__ import annotations

import pytest

from aggregator.fetch.discover import FeedLink, decode_html, find_feed_links, looks_like_html

PAGE = "https://news.example.lv/section/defence/index.html"


@pytest.mark.parametrize("html, expected", [
    pytest.param('<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="News">',
                 [FeedLink("https://news.example.lv/feed.xml", "application/rss+xml", "News")], id="root-relative"),
    pytest.param('<link rel="alternate" type="application/atom+xml" href="atom.xml">',
                 [FeedLink("https://news.example.lv/section/defence/atom.xml", "application/atom+xml")],
                 id="relative-to-page"),
    pytest.param('<base href="https://cdn.example.lv/x/"><link rel=alternate type=application/rss+xml href=f.rss>',
                 [FeedLink("https://cdn.example.lv/x/f.rss", "application/rss+xml")], id="base-href-unquoted"),
    pytest.param('<LINK REL="Alternate" TYPE="Application/RSS+XML; charset=utf-8" HREF="//feeds.example.lv/a">',
                 [FeedLink("https://feeds.example.lv/a", "application/rss+xml")], id="case-params-scheme-relative"),
    pytest.param('<link rel="alternate" type="application/feed+json" href="/feed.json">'
                 '<link rel="alternate" type="application/json" href="/old.json">',
                 [FeedLink("https://news.example.lv/feed.json", "application/feed+json"),
                  FeedLink("https://news.example.lv/old.json", "application/feed+json")], id="json-feed"),
    pytest.param('<link rel="alternate" hreflang="lv" type="text/html" href="/lv/">'
                 '<link rel="alternate stylesheet" type="application/rss+xml" href="/s.xml">'
                 '<link rel="stylesheet" href="/a.css"><link rel="alternate" type="application/rss+xml" href="">',
                 [], id="not-feeds"),
    pytest.param('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
                 '<link rel="alternate" type="application/rss+xml" href="ftp://x/feed">', [], id="bad-schemes"),
    pytest.param('<link rel="alternate" type="application/rss+xml" href="/a.xml">'
                 '<link rel="alternate" type="application/rss+xml" href="https://news.example.lv/a.xml">',
                 [FeedLink("https://news.example.lv/a.xml", "application/rss+xml")], id="deduplicated"),
    pytest.param('<link rel="alternate" type="application/atom+xml" href="/b.atom" title=" Comments\n feed ">'
                 '<link rel="alternate" type="application/rss+xml" href="/a.rss">',
                 [FeedLink("https://news.example.lv/b.atom", "application/atom+xml", "Comments feed"),
                  FeedLink("https://news.example.lv/a.rss", "application/rss+xml")], id="document-order"),
    pytest.param('<html><head><link rel="alternate" type="application/rss+xml" href="/x?a=1&amp;b=2"/>'
                 '<p>unclosed <div', [FeedLink("https://news.example.lv/x?a=1&b=2", "application/rss+xml")],
                 id="entities-and-broken-markup"),
])
def test_find_feed_links(html: str, expected: list[FeedLink]) -> None:
    assert find_feed_links(html, PAGE) == expected


@pytest.mark.parametrize("body, ctype, expected", [
    (b"<rss version='2.0'><channel/></rss>", "text/html; charset=utf-8", True),  # the header wins
    (b"<!DOCTYPE html><html></html>", "application/rss+xml", False),
    (b"\xef\xbb\xbf  <!doctype HTML>\n<html>", "", True),
    (b"<?xml version='1.0'?>\n<!-- c -->\n<html xmlns='http://www.w3.org/1999/xhtml'>", "text/plain", True),
    (b"<?xml version='1.0'?><rss/>", "", False),
    (b'{"version": "https://jsonfeed.org/version/1.1"}', "application/octet-stream", False),
])
def test_looks_like_html(body: bytes, ctype: str, expected: bool) -> None:
    assert looks_like_html(body, ctype) is expected


@pytest.mark.parametrize("body, ctype, expected", [
    ("Rīga".encode("utf-8"), "text/html; charset=utf-8", "Rīga"),
    ("Rīga".encode("iso-8859-13"), "text/html; charset=ISO-8859-13", "Rīga"),
    (b'<meta charset="windows-1257">' + "Rīga".encode("cp1257"), "text/html", '<meta charset="windows-1257">Rīga'),
    (b"abc", "text/html; charset=no-such-charset", "abc"),
])
def test_decode_html(body: bytes, ctype: str, expected: str) -> None:
    assert decode_html(body, ctype) == expected
