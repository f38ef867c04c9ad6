"""The site around the feeds: index.html (one self-contained page) and feeds.opml.

Both are pure functions of the topic views, so the same snapshot gives the same bytes;
the only date shown is the newest item's, never the run time. Everything from a feed is
escaped (html.escape for the page, lxml for the OPML).
"""

from __future__ import annotations

from email.utils import format_datetime
from html import escape
from typing import Mapping

from lxml import etree

from .model import (
    ALL, HEADLINES, MEDIA_TYPES, TopicSummary, TopicView, feed_name, file_url, rfc3339, site_url,
)
from ..records import Config, utc

__all__ = ["render_index", "render_opml", "HEADLINES", "OPERATOR_FILES"]

# Listing = TopicView | TopicSummary: both have slug, title, description, updated, count
# and headlines, which is all the site shows.
Listing = TopicView | TopicSummary
# Files for whoever runs the aggregator, not for readers: linked from the page footer,
# kept out of feeds.opml (an OPML import would subscribe readers to them).
OPERATOR_FILES = ("health.atom", "metrics.prom")
LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}

CSS = """
:root{color-scheme:light dark;--fg:#1d232b;--muted:#5b6573;--bg:#fbfbfa;--card:#fff;
--line:#e2e4e8;--accent:#0b5fbf}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#a3acb8;--bg:#15181c;
--card:#1d2127;--line:#2e343c;--accent:#7ab4ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 4rem}
header h1{margin:0 0 .25rem;font-size:1.9rem}
header p{margin:.25rem 0;color:var(--muted)}
a{color:var(--accent)}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:1.1rem 1.3rem;margin:1.25rem 0}
section h2{margin:0;font-size:1.3rem}
.count{color:var(--muted);font-size:.9rem;font-weight:normal;margin-left:.4rem}
.desc{margin:.35rem 0 .6rem;color:var(--muted)}
.subscribe{display:flex;gap:.5rem;flex-wrap:wrap;margin:.4rem 0 .7rem}
.subscribe a{font-size:.85rem;text-decoration:none;border:1px solid var(--line);
border-radius:999px;padding:.1rem .7rem}
.subscribe a:hover{border-color:var(--accent)}
ol{margin:0;padding-left:1.3rem}
li{margin:.3rem 0}
.meta{display:block;color:var(--muted);font-size:.82rem}
.empty{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:.85rem;margin-top:2rem}
.operator{display:block;font-size:.8rem;margin-top:.3rem}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _newest(views: Mapping[str, Listing]):
    return max((v.updated for v in views.values()), default=None)


def render_index(config: Config, views: Mapping[str, Listing]) -> bytes:
    """index.html: every topic with its description, count, latest headlines, feeds."""
    settings = config.settings
    site_title = settings.title or "aggregator"
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(site_title)}</title>",
    ]
    for view in views.values():
        for fmt in ("atom", "rss", "json"):
            head.append(
                f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
                f'title="{_e(view.title)} ({LABELS[fmt]})" '
                f'href="{_e(file_url(settings, feed_name(view.slug, fmt)))}">'
            )
    head += [f"<style>{CSS.strip()}</style>", "</head>"]
    body = [
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_e(site_title)}</h1>",
        f"<p>{len(views)} feeds. Subscribe to a topic in your feed reader, or import "
        f'<a href="feeds.opml">all of them (OPML)</a>.</p>',
        "</header>",
    ]
    for view in views.values():
        body += _section(view)
    newest = _newest(views)
    stamp = (f' Newest item: <time datetime="{rfc3339(newest)}">'
             f"{_e(utc(newest).strftime('%Y-%m-%d %H:%M UTC'))}</time>.") if newest else ""
    operator = ", ".join(f'<a href="{_e(name)}">{_e(name)}</a>' for name in OPERATOR_FILES)
    body += [f"<footer>Built by aggregator.{stamp}",
             f'<span class="operator">Operator: {operator}</span></footer>',
             "</main>", "</body>", "</html>", ""]
    return "\n".join(head + body).encode("utf-8")


def _section(view: Listing) -> list[str]:
    n = view.count
    out = [
        f'<section id="topic-{_e(view.slug)}">',
        f'<h2>{_e(view.title)}<span class="count">{n} item{"" if n == 1 else "s"}</span></h2>',
        f'<p class="desc">{_e(view.description)}</p>',
        '<p class="subscribe">'
        + "".join(
            f'<a href="{_e(feed_name(view.slug, fmt))}" type="{MEDIA_TYPES[fmt]}">{LABELS[fmt]}</a>'
            for fmt in ("rss", "atom", "json")
        )
        + "</p>",
    ]
    if not view.headlines:
        out.append('<p class="empty">No items yet.</p>')
    else:
        out.append("<ol>")
        for v in view.headlines:
            title = (f'<a href="{_e(v.link)}">{_e(v.title)}</a>' if v.link else _e(v.title))
            source = v.sources[0].name if v.sources else ""
            when = utc(v.published).strftime("%Y-%m-%d %H:%M UTC")
            meta = f'<time datetime="{rfc3339(v.published)}">{when}</time>'
            if source:
                meta += f" · {_e(source)}"
            out.append(f'<li>{title}<span class="meta">{meta}</span></li>')
        out.append("</ol>")
    out.append("</section>")
    return out


def render_opml(config: Config, views: Mapping[str, Listing]) -> bytes:
    """feeds.opml (OPML 2.0): one outline per topic feed, RSS URLs, ready to import."""
    settings = config.settings
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{settings.title or 'aggregator'} feeds"
    newest = _newest(views)
    if newest is not None:
        etree.SubElement(head, "dateModified").text = format_datetime(utc(newest), usegmt=True)
    body = etree.SubElement(root, "body")
    for view in views.values():
        etree.SubElement(body, "outline", {
            "type": "rss",
            "text": view.title,
            "title": view.title,
            "description": view.description,
            "xmlUrl": file_url(settings, feed_name(view.slug, "rss")),
            "htmlUrl": site_url(settings) + ("" if view.slug == ALL else f"#topic-{view.slug}"),
        })
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)
