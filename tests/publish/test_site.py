"""site: index.html and feeds.opml, and the feed.xsl stylesheet they point browsers to."""

from __future__ import annotations

from html.parser import HTMLParser

from lxml import etree

from aggregator.publish import feeds as pub
from aggregator.publish.model import topic_views
from aggregator.publish.site import render_index, render_opml
from pubdata import BASE, NOW, config, item, snapshot


class Page(HTMLParser):
    """Collects tags with attributes, and the text, of an HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def views(tmp_path, snap=None):
    cfg = config(tmp_path)
    snap = snap or snapshot()
    return cfg, topic_views(cfg, snap.items, snap.feeds, NOW)


def test_index_lists_topics_counts_headlines_and_subscribe_links(tmp_path):
    cfg, vs = views(tmp_path)
    page = Page(render_index(cfg, vs).decode("utf-8"))
    text = " ".join(page.text)
    for title, count in (("NATO", "4 items"), ("Nothing here", "0 items"), ("Baltic Watch: all items", "8 items")):
        assert title in text and count in text
    assert "News about NATO & the alliance" in text
    hrefs = [a.get("href") for t, a in page.tags if t == "a"]
    assert hrefs.count("https://news.example/a/0") == 2  # in "nato" and in "all"
    assert "https://news.example/a/5" not in hrefs  # only the five latest of "all"
    for slug in ("nato", "empty", "all"):
        assert {f"{slug}.rss", f"{slug}.atom", f"{slug}.json"} <= set(hrefs)
    assert "feeds.opml" in hrefs
    alternates = [a for t, a in page.tags if t == "link" and a.get("rel") == "alternate"]
    assert len(alternates) == 9
    assert {a["href"] for a in alternates} == {BASE + f"{s}.{f}" for s in ("nato", "empty", "all")
                                              for f in ("rss", "atom", "json")}
    assert {a["type"] for a in alternates} == {"application/rss+xml", "application/atom+xml",
                                               "application/feed+json"}
    assert not any(t == "script" for t, _ in page.tags)


def test_index_escapes_everything(tmp_path):
    evil = item(9, title='<script>alert(1)</script>', topics=("nato",), first_seen=NOW, published=NOW)
    odd = item(8, title='Generics <T> & "q" <img src=x onerror=y>', link='https://x.example/?a=1&b="2"',
               topics=("nato",), first_seen=NOW, published=NOW)
    cfg, vs = views(tmp_path, snapshot(2, extra=(evil, odd)))
    html = render_index(cfg, vs).decode("utf-8")
    assert "<script" not in html and "<img" not in html and "<T>" not in html
    assert "Generics &lt;T&gt; &amp; &quot;q&quot; &lt;img src=x onerror=y&gt;" in html
    assert 'href="https://x.example/?a=1&amp;b=%222%22"' in html


def test_opml_lists_every_feed(tmp_path):
    cfg, vs = views(tmp_path)
    root = etree.fromstring(render_opml(cfg, vs))
    assert root.get("version") == "2.0" and root.findtext("head/title") == "Baltic Watch feeds"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [BASE + f"{s}.rss" for s in ("nato", "empty", "all")]
    assert all(o.get("type") == "rss" and o.get("text") for o in outlines)


def test_site_deterministic(tmp_path):
    cfg, vs = views(tmp_path)
    _, vs2 = views(tmp_path)
    assert render_index(cfg, vs) == render_index(cfg, vs2)
    assert render_opml(cfg, vs) == render_opml(cfg, vs2)


def test_xsl_renders_rss_and_atom(tmp_path):
    cfg = config(tmp_path)
    pub.publish(cfg, snapshot(), now=NOW)
    xslt = etree.XSLT(etree.fromstring(pub.stylesheet()))
    for name in ("nato.rss", "nato.atom"):
        html = str(xslt(etree.parse(str(cfg.settings.output_dir / name))))
        assert "<h1>NATO</h1>" in html and "Headline 6" in html
        assert 'href="https://news.example/a/0"' in html and "Example News" in html


def test_summaries_render_the_same_site_as_full_views(tmp_path):
    """A publish that renders no feed builds TopicSummary listings: the same bytes."""
    from aggregator.publish.model import TopicSummary, TopicView, build_views
    from aggregator.publish.feeds import select
    cfg, full = views(tmp_path)
    snap = snapshot()
    light = build_views(cfg, select(cfg, snap.items.values(), NOW), snap.feeds, NOW, full=set())
    assert all(isinstance(v, TopicSummary) for v in light.values())
    assert all(isinstance(v, TopicView) for v in full.values())
    assert [(v.count, v.updated, v.headlines) for v in light.values()] == \
        [(v.count, v.updated, v.headlines) for v in full.values()]
    assert render_index(cfg, light) == render_index(cfg, full)
    assert render_opml(cfg, light) == render_opml(cfg, full)


def test_operator_footer_links(tmp_path):
    cfg, vs = views(tmp_path)
    page = Page(render_index(cfg, vs).decode("utf-8"))
    hrefs = [a.get("href") for t, a in page.tags if t == "a"]
    assert hrefs[-2:] == ["health.atom", "metrics.prom"]
    assert "Operator:" in " ".join(page.text)
