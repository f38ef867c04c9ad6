"""Feed autodiscovery: find the feeds an HTML page announces with ``<link rel="alternate">``.

Pure functions over the page text, using only the standard library's ``html.parser``
(lenient with broken markup, and it never fetches anything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# The media types a page uses to announce a feed.
FEED_TYPES: tuple[str, ...] = (
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/rdf+xml",
)
_JSON_FEED_ALIASES = {"application/json"}  # JSON Feed 1.0 pages sometimes say just this
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class FeedLink:
    """One feed a page links to: absolute URL, media type and the link's title."""

    url: str
    type: str
    title: str = ""


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str, str]] = []  # (href, type, title) in document order

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and a.get("href"):
            self.base = a["href"].strip()
        elif tag in ("link", "a"):
            rels = a.get("rel", "").lower().split()
            # <a rel="alternate"> is rare but legal; "alternate stylesheet" is not a feed.
            if "alternate" in rels and "stylesheet" not in rels and a.get("href", "").strip():
                self.links.append((a["href"].strip(), a.get("type", ""), a.get("title", "")))

    handle_startendtag = handle_starttag


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def find_feed_links(html: str, page_url: str) -> list[FeedLink]:
    """Every feed *html* announces, resolved against ``<base href>`` or *page_url*, deduplicated.

    Only http(s) URLs with a feed media type are kept; document order is kept,
    as sites list their main feed first.
    """
    collector = _LinkCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # html.parser is lenient; this only guards against pathological input
        pass
    base = urljoin(page_url, collector.base) if collector.base else page_url
    found: list[FeedLink] = []
    seen: set[str] = set()
    for href, raw_type, title in collector.links:
        mtype = _media_type(raw_type)
        if mtype in _JSON_FEED_ALIASES:
            mtype = "application/feed+json"
        if mtype not in FEED_TYPES:
            continue
        try:
            url = urljoin(base, href)
        except ValueError:
            continue
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        found.append(FeedLink(url=url, type=mtype, title=" ".join(title.split())))
    return found


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """True if the response is an HTML page rather than a feed (by header, else by sniffing)."""
    mtype = _media_type(content_type)
    if mtype in ("text/html", "application/xhtml+xml"):
        return True
    if mtype and mtype not in ("text/plain", "application/octet-stream"):
        return False  # an explicit XML/JSON type: trust it, the parser decides
    return bool(_HTML_START.match(body[:4096].lstrip(b"\xef\xbb\xbf")))


def decode_html(body: bytes, content_type: str = "") -> str:
    """Page bytes -> text, using the header charset, else a ``<meta charset>``, else UTF-8."""
    charset = None
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    if m:
        charset = m.group(1)
    else:
        m2 = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.IGNORECASE)
        if m2:
            charset = m2.group(1).decode("ascii", "replace")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")
