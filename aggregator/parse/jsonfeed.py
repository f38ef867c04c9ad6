"""JSON Feed 1.0 / 1.1 -> ``ParsedFeed`` (feedparser 6 does not read JSON Feed).

Dates are parsed by an injected function, so this module stays free of feedparser.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable

from ..errors import ParseError
from .fields import (
    MAX_LIST, date_from_struct, enclosure, format_name, guid_text, html_field, keep_date, person, title_text,
    unique, unique_enclosures,
)
from ..records import Entry, ParsedFeed
from ..text import safe_uri

JSONFEED_PREFIX = "https://jsonfeed.org/version/"
DateParser = Callable[[str], Any]  # str -> struct_time (UTC) or None, e.g. feedparser's


def looks_like_json(body: bytes) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def parse_jsonfeed(body: bytes, *, base: str, key: str, parse_date: DateParser) -> ParsedFeed:
    """A JSON Feed document -> ParsedFeed; ParseError if it is not JSON or not a JSON Feed."""
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise ParseError(key, f"not a feed: invalid JSON ({exc})") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not (isinstance(version, str) and version.startswith(JSONFEED_PREFIX)
            and isinstance(doc.get("items", []), list)):
        raise ParseError(key, "not a feed: JSON that is not a JSON Feed (no jsonfeed.org version)")
    feed_base = safe_uri(_str(doc.get("feed_url")), base) or base
    entries = tuple(
        _entry(item, feed_base, parse_date) for item in doc.get("items") or () if isinstance(item, dict)
    )
    return ParsedFeed(
        url=key,
        title=title_text(_str(doc.get("title")), "text/plain"),
        link=safe_uri(_str(doc.get("home_page_url")), feed_base),
        feed_id=guid_text(_str(doc.get("feed_url"))),
        updated=max((d for e in entries for d in (e.updated, e.published) if d), default=None),
        entries=entries,
        format=format_name(version),
    )


def _entry(item: dict[str, Any], base: str, parse_date: DateParser) -> Entry:
    link = safe_uri(_str(item.get("url")) or _str(item.get("external_url")), base)
    content_base = link or base
    if _str(item.get("content_html")):
        content = html_field(item["content_html"], "text/html", content_base)
    else:
        content = html_field(_str(item.get("content_text")), "text/plain", content_base)
    authors = item.get("authors")
    if not isinstance(authors, list):
        authors = [item.get("author")]  # JSON Feed 1.0 had one author
    attachments = item.get("attachments") if isinstance(item.get("attachments"), list) else []
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    return Entry(
        guid=guid_text(_str(item.get("id"))),
        link=link,
        title=title_text(_str(item.get("title")), "text/plain"),
        summary=html_field(_str(item.get("summary")), "text/plain", content_base),  # plain text by spec
        content=content,
        published=_date(item.get("date_published"), parse_date),
        updated=_date(item.get("date_modified"), parse_date),
        authors=unique(person(_str(a.get("name"))) for a in authors[:MAX_LIST] if isinstance(a, dict)),
        categories=unique(_str(t) for t in tags[:MAX_LIST]),
        enclosures=unique_enclosures(
            enclosure(_str(a.get("url")), _str(a.get("mime_type")), a.get("size_in_bytes"), content_base)
            for a in attachments[:MAX_LIST] if isinstance(a, dict)
        ),
    )


def _str(value: Any) -> str:
    """A scalar as text (ids may be numbers); anything else (lists, objects, null) as ''."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, (str, int, float)) else ""


def _date(value: Any, parse_date: DateParser) -> datetime | None:
    s = _str(value).strip()[:100]
    if not s:
        return None
    try:  # RFC 3339, as JSON Feed requires; 3.10's fromisoformat wants +00:00, not Z
        return keep_date(datetime.fromisoformat(s[:-1] + "+00:00" if s[-1] in "zZ" else s))
    except ValueError:
        pass
    try:
        return date_from_struct(parse_date(s))
    except Exception:  # noqa: BLE001 - a date we cannot read is a missing date, not a failed feed
        return None
