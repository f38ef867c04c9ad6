"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) for one topic view.

Besides the standard fields, every item carries the extension object ``_aggregator``
(JSON Feed: custom keys start with "_", and ``about`` points to their description)::

    "_aggregator": {
      "about": "<PROJECT_URL>#json-feed-extension",
      "id": "<Item.id>",                        # the store's id (the item "id" is its URN)
      "topics": ["nato", ...],                  # topic slugs the item is in
      "reasons": ["matched keyword 'NATO' in title ('NATO')", ...],   # Match.explain()
      "sources": [{"name", "feed_url", "feed_title", "feed_link", "link", "title"}, ...],  # every outlet
      "merges": [{"key", "reason", "at"}, ...]  # entries folded into this item
    }

Keys with no value are left out, as the spec asks. Output is deterministic: fixed key
order, UTF-8, two-space indent, trailing newline.
"""

from __future__ import annotations

import json
from typing import Any

from .. import PROJECT_URL
from .model import ItemView, TopicView, feed_name, file_url, rfc3339, site_url
from ..records import Config

VERSION = "https://jsonfeed.org/version/1.1"
EXTENSION_ABOUT = PROJECT_URL + "#json-feed-extension"


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def item(v: ItemView) -> dict[str, Any]:
    ext = _compact({
        "about": EXTENSION_ABOUT,
        "id": v.item.id,
        "topics": list(v.topics),
        "reasons": [m.explain() for m in v.reasons],
        "sources": [_compact({
            "name": s.name,
            "feed_url": s.feed_url,
            "feed_title": s.feed_title,
            "feed_link": s.feed_link,
            "link": s.entry_link,
            "title": s.title,  # that outlet's own headline, for a merged report
        }) for s in v.sources],
        "merges": [_compact({"key": m.key, "reason": m.reason,
                             "at": rfc3339(m.at) if m.at else None}) for m in v.merges],
    })
    content_html = v.content_html or v.summary_html
    return _compact({
        "id": v.id,
        "url": v.link,
        "title": v.title,
        # content_html is required (or content_text); summary only when it differs.
        "content_html": content_html or "",
        "summary": v.summary_html if v.content_html and v.summary_html else None,
        "date_published": rfc3339(v.published),
        "date_modified": rfc3339(v.updated),
        "authors": [{"name": a} for a in v.authors],
        "tags": list(dict.fromkeys([*v.categories, *v.topics])),
        "attachments": [_compact({"url": e.url, "mime_type": e.type,
                                  "size_in_bytes": e.length or None}) for e in v.enclosures],
        "_aggregator": ext,
    }) | ({} if content_html else {"content_html": ""})


def feed(config: Config, view: TopicView) -> dict[str, Any]:
    settings = config.settings
    return _compact({
        "version": VERSION,
        "title": view.title,
        "home_page_url": site_url(settings),
        "feed_url": file_url(settings, feed_name(view.slug, "json")),
        "description": view.description,
        "authors": [{"name": settings.title or "aggregator", "url": site_url(settings)}],
        "hubs": [{"type": "WebSub", "url": settings.websub_hub}] if settings.websub_hub else [],
    }) | {"items": [item(v) for v in view.items]}  # kept even when empty


def render(config: Config, view: TopicView) -> bytes:
    """JSON Feed bytes for one topic view."""
    return (json.dumps(feed(config, view), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
