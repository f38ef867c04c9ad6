"""The fast paths of ``safe_uri`` and ``sanitize_html`` (issue 8) give exactly what the slow,
reference implementations give: on a table of hostile and ordinary URLs and fragments, and on
generated ones (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from aggregator import text
from aggregator.text import _safe_uri_reference, _sanitize_html_reference, hide_password, safe_uri, sanitize_html

BASES = [
    None, "", "https://site.example/news/3/slug", "https://site.example/news/", "https://site.example",
    "http://site.example:8080/a/b?q=1#f", "https://site.example/a/./b", "https://site.example/a//b",
    "https://site.example/a;p/b", "https://Site.Example/A/B", "HTTPS://site.example/x",
    "https://user@site.example/x", "http://[::1]/x", "http://[bad/x", "ftp://site.example/x",
    "https://bücher.example/x", "https://site.example/a b/c", "https://site.example?q", "mailto:x@y",
]

URLS = [
    # ordinary
    "https://a.example/x?id=1&x=1", "http://a.example", "http://a.example/", "https://a.example#top",
    "https://a.example:8443/p/q.html?x=1#frag", "/tag/word", "/img/1.jpg", "img/1.jpg", "page.html",
    "a/b/c/", "/", "?q=1", "#frag", "x?y#z", "/.well-known/x", "-a/_b~/c", "%41%zz/x",
    # what the slow path must rewrite
    "../a", "./a", "a/../b", "a/./b", "/a/..", "a//b", "//cdn.example/x.js", "///x", "/a;p", "a;b?c",
    "https://A.example/x", "HTTP://a.example/x", "Https://a.example", "https://a.example/a b",
    " https://a.example/x ", "https://a.example/\u00e9", "https://bücher.example/", "https://a.example?",
    "https://a.example/x#", "https://a.example/x?#f", "https://u:p@a.example/x", "https://[::1]/x",
    "https://[bad/x", "https://a.example:99999/", "https://a.example:/x", "https://a.example/x<y>",
    "https://a.example/x\"y", "https://a.example/\x00x", "https://a.example/x\ty", "https:/a.example",
    "https:a.example", "http://", "https:///x", "https://a.example/%", "a:b", "a/b:c", "/a:b",
    # hostile
    "javascript:alert(1)", "JavaScript:alert(1)", "java\nscript:alert(1)", " javascript:x",
    "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x", "mailto:a@b.example", "file:///etc/passwd",
    "ftp://a.example/x", "&#106;avascript:x", "", "x" * 8_001, "https://a.example/" + "x" * 8_000,
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("url", URLS)
def test_safe_uri_fast_path_matches_the_reference(url: str, base: str | None) -> None:
    assert safe_uri(url, base) == _safe_uri_reference(url, base)


def test_the_fast_path_really_is_taken_for_plain_links() -> None:
    # Without this the equality above could hold because every URL went the slow way.
    base = "https://site.example/news/3/slug"
    assert text._fast_uri("https://a.example/x?id=1&x=1", base) == "https://a.example/x?id=1&x=1"
    assert text._fast_uri("/tag/word", base) == "https://site.example/tag/word"
    assert text._fast_uri("img/1.jpg", base) == "https://site.example/news/3/img/1.jpg"
    for slow in ("../a", "//cdn.example/x", "https://A.example/", "a b", "javascript:x"):
        assert text._fast_uri(slow, base) is None


FRAGMENTS = [
    '<p>Read <a href="/tag/x">more</a> and <a href="https://a.example/r?id=1&amp;x=1" title="t">src</a>.</p>',
    '<p><img src="/img/1.jpg" alt="A &amp; B" width="640" height="360"></p>',
    '<a href="javascript:alert(1)">x</a><a href="JaVaScRiPt:alert(1)">y</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a><a href="&#106;avascript:alert(1)">y</a>',
    '<img src="data:image/png;base64,AAAA"><a href="data:text/html,<script>">d</a>',
    '<a href="//cdn.example/x">p</a><a href="../up">u</a><a href="./here">h</a><a href="a//b">e</a>',
    '<a href="https://bücher.example/ä ö">idn</a><a href="HTTPS://A.EXAMPLE/X">up</a>',
    '<a href=" https://a.example/sp ace ">s</a><a href="https://a.example/x#">e</a>',
    '<blockquote cite="/c"><q cite="q.html">q</q></blockquote><img srcset="/a.jpg 1x, /b.jpg 2x">',
    '<a href="">empty</a><a>none</a><a href="?q=1">q</a><a href="#f">f</a><a href="/a;p">p</a>',
    '<p onclick="x()" style="color:red">t</p><script>alert(1)</script><iframe src="/x"></iframe>',
    '<td colspan="2">c</td><time datetime="2020-01-01">d</time><abbr title="/x">a</abbr>',
    "<!-- c --><a href='/x?a=1&b=2'>amp</a><a href=/unquoted>u</a><a href=\"mailto:a@b\">m</a>",
    '&lt;a href="/x"&gt; &amp; &nbsp; &#0; \ufffe \ud800 text',
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_sanitize_html_matches_the_reference(fragment: str, base: str | None) -> None:
    assert sanitize_html(fragment, base) == _sanitize_html_reference(fragment, base)


_URL_ALPHABET = "abcAB09-._~!$&'()*+,;=:@%/?#[] \t\u00e9\u00fc"
_pieces = st.sampled_from(
    ["http://", "https://", "HTTP://", "//", "/", "./", "../", "?", "#", ";", ":", "a.example", "A.example",
     "xn--bcher-kva.example", ":8080", "user@", "%20", "&amp;", "javascript:", "data:", " ", ".", ".."])
_mixed = st.lists(st.one_of(_pieces, st.text(_URL_ALPHABET, max_size=6)), max_size=8).map("".join)
# Strings the fast path accepts at first sight, so the property tests its fine print too.
_plain = st.one_of(st.from_regex(text._SIMPLE_ABS, fullmatch=True), st.from_regex(text._SIMPLE_REL, fullmatch=True))
urls = st.one_of(_mixed, _plain, st.tuples(_plain, _mixed).map("".join))
bases = st.one_of(st.sampled_from(BASES), urls.map(lambda u: "https://site.example/" + u), urls)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls, bases)
@example("a/b", "https://site.example")
def test_safe_uri_property(url: str, base: str | None) -> None:
    assert safe_uri(url, base) == _safe_uri_reference(url, base)


_tags = st.sampled_from(["a href", "img src", "q cite", "blockquote cite", "a title", "img alt", "span title"])


@st.composite
def fragments(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        tag, attr = draw(_tags).split()
        value = draw(urls).replace('"', "&quot;")
        out.append(f'<{tag} {attr}="{value}">{draw(st.text(max_size=5))}</{tag}>')
    return "".join(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments(), bases)
def test_sanitize_html_property(fragment: str, base: str | None) -> None:
    assert sanitize_html(fragment, base) == _sanitize_html_reference(fragment, base)


@pytest.mark.parametrize("fragment", FRAGMENTS[:4])
def test_sanitize_html_without_a_prebuilt_cleaner(monkeypatch: pytest.MonkeyPatch, fragment: str) -> None:
    # nh3 older than Cleaner: one cleaner per call, the same bytes.
    base = "https://site.example/news/3/slug"
    fast = sanitize_html(fragment, base)
    monkeypatch.setattr(text, "_CLEANER", None)
    assert sanitize_html(fragment, base) == fast == _sanitize_html_reference(fragment, base)


@pytest.mark.parametrize("uri, clean", [
    (None, None), ("", None),
    ("https://a.example/story", "https://a.example/story"),
    ("https://a.example/story#comments", "https://a.example/story"),
    ("https://a.example/story?utm_source=rss&utm_medium=feed", "https://a.example/story"),
    ("https://a.example/story?id=5&utm_source=x&fbclid=1#comments", "https://a.example/story?id=5"),
    # everything but the tracking parameters stays as the source wrote it (canonical_url would not)
    ("https://www.a.example/News/Story/?b=2&a=1&ref=tw", "https://www.a.example/News/Story/?b=2&a=1"),
    ("https://a.example/amp/story?amp=1", "https://a.example/amp/story?amp=1"),
    ("https://a.example/x?q=a%20b&UTM_Campaign=z&Fbclid=2", "https://a.example/x?q=a%20b"),
    ("https://a.example/x?utm%5Fsource=z", "https://a.example/x"),  # an escaped name is still tracking
    ("https://a.example/x?&&utm_source=x&a=1", "https://a.example/x?a=1"),
    ("https://a.example/x?", "https://a.example/x"),
    ("https://a.example/x?ref=home&referrer=y", "https://a.example/x?referrer=y"),
])
def test_clean_link(uri, clean):
    from aggregator.text import clean_link
    assert clean_link(uri) == clean


@pytest.mark.parametrize("url, shown", [
    ("postgresql://news:s3cret@db.example:5432/news", "postgresql://news:***@db.example:5432/news"),
    ("postgresql://news@db.example/news", "postgresql://news@db.example/news"),
    ("postgresql://news:p%40ss@/news?host=/run/pg", "postgresql://news:***@/news?host=/run/pg"),
])
def test_hide_password(url: str, shown: str) -> None:
    assert hide_password(url) == shown
