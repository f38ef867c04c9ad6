"""Feed bytes + response headers -> ``ParsedFeed`` of clean ``Entry``s; many feeds in processes.

The only module that imports feedparser (with ``speedups``, which patches two of its hot
paths while we parse). Three rules keep it safe and fast:

* feedparser gets an ``io.BytesIO``, never the bytes: given ``str``/``bytes`` it first tries
  them as a URL or a file path. The final URL travels as ``Content-Location`` (the base for
  relative links), and only the headers that matter (content type, language) go along.
* Its sanitiser and relative-URI resolver are off (they took half the parse time, issue 8);
  ``text.sanitize_html`` (nh3) and ``text.safe_uri`` do both, once, on what we keep.
* feedparser strips unsafe ``<!ENTITY>`` declarations and runs expat with external entities
  off; nothing reads files or the network. ``tests/test_hostile_input.py`` proves each rule.

Items already stored need not go through feedparser at all (issue 8): ``split`` cuts the
body into items and fingerprints each (``ParsedFeed.item_hashes``); items whose fingerprint
the caller passes in ``skip`` are cut out before feedparser runs (counted in ``skipped``).
The entries left are exactly those a full parse gives for the same items.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

import feedparser
from feedparser.datetimes import _parse_date  # RFC 822 / W3CDTF / … -> UTC struct_time

from ..errors import ParseError
from .fields import (
    date_from_struct, enclosure, format_name, guid_text, html_field, person, person_from_string, title_text,
    unique, unique_enclosures,
)
from .jsonfeed import looks_like_json, parse_jsonfeed
from .speedups import speedups
from .split import Split, Unsplittable, split_items
from ..records import Entry, ParsedFeed
from ..text import one_line, safe_uri

_PASSED_HEADERS = ("content-type", "content-language")

# A guid is an identity, not a link: feedparser joins a relative one ("g1") to the feed URL,
# so it would change whenever the feed moves. Keep it as written (these two classes are the
# parsers feedparser.parse uses; the change touches nothing else). Entry links still resolve.
for _cls in (feedparser.api.StrictFeedParser, feedparser.api.LooseFeedParser):
    _cls.can_be_relative_uri = frozenset(set(_cls.can_be_relative_uri) - {"id"})

# feedparser's namespace table (URI -> its prefix): the splitter needs it to tell which
# namespace declarations feedparser would remember across items.
KNOWN_NAMESPACES = {k.lower(): v for k, v in feedparser.mixin._FeedParserMixin.namespaces.items()}


@dataclass(frozen=True)
class ParseJob:
    """One body to parse: ``url`` is the final URL (the base), ``key`` the Source.key."""

    body: bytes
    url: str
    headers: Mapping[str, str]
    key: str
    skip: Collection[str] = field(default=frozenset())  # fingerprints of items already stored


def parse(body: bytes, *, url: str, headers: Mapping[str, str], key: str,
          skip: Collection[str] = frozenset()) -> ParsedFeed:
    """Parse one feed body (RSS 0.9x–2.0, RSS 1.0, Atom, JSON Feed). Raises ParseError(key, …).

    Raw items whose fingerprint is in *skip* (from an earlier ``ParsedFeed.item_hashes``) are
    left out of ``entries`` without being parsed, when the body can be split safely."""
    try:
        return _parse(body, url, headers, key, skip)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile body must fail its feed, not the run
        raise ParseError(key, f"parser failed: {type(exc).__name__}: {exc}") from exc


def _parse(body: bytes, url: str, headers: Mapping[str, str], key: str,
           skip: Collection[str]) -> ParsedFeed:
    if not body or not body.strip():
        raise ParseError(key, "not a feed: the body is empty")
    base = base_url(url, headers)
    if looks_like_json(body):
        return parse_jsonfeed(body, base=base, key=key, parse_date=_parse_date)
    sent = response_headers(headers, base)
    split = try_split(body, base, sent["content-type"])
    if split is not None and skip:
        doc, cut = split.without(skip)
        if cut:
            d = _feedparser(doc, sent)
            # A safety net: the rest must come out one entry per kept item, and clean.
            if len(d.entries) == len(split.spans) - cut and d.get("version") and not _bozo_from_body(d):
                return _feed(d, d.get("version") or "", base, key, split.hashes, cut)
    d = _feedparser(body, sent)
    version = d.get("version") or ""
    if not d.entries and not version:
        raise ParseError(key, not_a_feed_reason(body))
    # Fingerprints count only when they line up one to one with feedparser's entries.
    hashes = split.hashes if split is not None and len(split.spans) == len(d.entries) else ()
    return _feed(d, version, base, key, hashes)


def _feedparser(body: bytes, sent: Mapping[str, str]) -> Any:
    with speedups():  # same results, less CPU (issue 8): see speedups.py
        return feedparser.parse(io.BytesIO(body), response_headers=dict(sent), sanitize_html=False,
                                resolve_relative_uris=False)


def try_split(body: bytes, base: str, content_type: str) -> Split | None:
    """The body cut into fingerprinted items, or None when that is not safe (parse it whole)."""
    try:
        return split_items(body, base=base, content_type=content_type, known_namespaces=KNOWN_NAMESPACES)
    except Unsplittable:
        return None
    except (RecursionError, MemoryError, ValueError):  # expat on a hostile body: not our business
        return None


def _bozo_from_body(d: Any) -> bool:
    """Whether feedparser complained about the document itself (not about its content type)."""
    return bool(d.get("bozo")) and not isinstance(d.get("bozo_exception"), feedparser.NonXMLContentType)


def base_url(url: str, headers: Mapping[str, str]) -> str:
    """The base for relative links: Content-Location (resolved against the URL), else the URL."""
    location = _header(headers, "content-location")
    return (safe_uri(location, url) if location else None) or url


def response_headers(headers: Mapping[str, str], base: str) -> dict[str, str]:
    """The headers feedparser may see. Without a content type it would flag every feed bozo
    and fall back to its slow loose parser, so XML is assumed (the XML declaration decides)."""
    out = {name: one_line(_header(headers, name), 400) for name in _PASSED_HEADERS}
    out = {k: v for k, v in out.items() if v}
    out.setdefault("content-type", "application/xml")
    out["content-location"] = base
    return out


def _header(headers: Mapping[str, str], name: str) -> str:
    for k, v in headers.items():
        if k.lower() == name:
            return str(v)
    return ""


_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def not_a_feed_reason(body: bytes) -> str:
    """One line saying what the body looks like, for a body that holds no feed."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(head):
        return "not a feed: looks like an HTML page"
    if head.startswith(b"<"):
        root = _ROOT.search(re.sub(rb"<[?!][^>]*>", b"", head))
        name = root.group(1).decode("ascii", "replace") if root else "?"
        return f"not a feed: XML whose root element <{name}> is not RSS, Atom or RDF"
    snippet = one_line(head[:40].decode("utf-8", "replace"), 40)
    return f"not a feed: neither XML nor JSON (starts with {snippet!r})"


def _feed(d: Any, version: str, base: str, key: str, hashes: tuple[str, ...] = (),
          skipped: int = 0) -> ParsedFeed:
    f = d.feed
    bozo = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        bozo = one_line(f"{type(exc).__name__}: {exc}" if exc else "malformed feed", 300)
    return ParsedFeed(
        url=key,
        title=title_text(f.get("title"), (f.get("title_detail") or {}).get("type")),
        link=safe_uri(f.get("link"), base),
        feed_id=guid_text(f.get("id")),
        updated=date_from_struct(dict.get(f, "updated_parsed") or dict.get(f, "published_parsed")),
        entries=tuple(_entry(e, version, base) for e in d.entries),
        bozo=bozo,
        item_hashes=hashes,
        skipped=skipped,
        format=format_name(version),
    )


# FeedParserDict.get maps legacy key names on every read (issue 8); the keys read below are the
# canonical ones (none in its keymap), so dict.get finds the same. Not "enclosures": computed.
_get = dict.get


def _entry(e: Any, version: str, base: str) -> Entry:
    link = safe_uri(_get(e, "link"), base)

    def base_of(detail: Mapping[str, Any]) -> str:
        # An explicit xml:base wins; else relative links in HTML are taken as relative
        # to the entry's own page (what publishers mean), else to the feed.
        b = _get(detail, "base")
        return b if b and b != base else (link or base)

    summary = _get(e, "summary_detail") or {}
    contents = [c for c in _get(e, "content") or () if _get(c, "value")]
    content = max(contents, key=lambda c: len(_get(c, "value")), default=None)
    return Entry(
        guid=guid_text(_get(e, "id")),
        link=link,
        title=title_text(_get(e, "title"), _get(_get(e, "title_detail") or {}, "type")),
        summary=html_field(_get(e, "summary"), _get(summary, "type"), base_of(summary)),
        content=html_field(content["value"], _get(content, "type"), base_of(content)) if content else "",
        published=date_from_struct(dict.get(e, "published_parsed")),
        updated=date_from_struct(dict.get(e, "updated_parsed")),  # dict.get: no fallback to published
        authors=_authors(e, version),
        categories=unique(_get(t, "term") or _get(t, "label") for t in _get(e, "tags") or ()),
        enclosures=unique_enclosures(
            enclosure(_get(x, "href"), _get(x, "type"), _get(x, "length"), base)
            for x in e.get("enclosures") or ()  # FeedParserDict.get: built from the links
        ),
    )


def _authors(e: Any, version: str) -> tuple[str, ...]:
    details = _get(e, "authors") or ()
    raw = _get(e, "author")
    if not version.startswith("atom") and raw and len(details) <= 1:
        # feedparser's own split of an RSS "email (Name)" cuts emails with long TLDs.
        return unique([person_from_string(raw)])
    people = []
    for a in details:
        name = _get(a, "name") or ""
        if name.count("(") != name.count(")"):  # the same bug leaks into later Atom authors
            name = ""
        people.append(person(name, _get(a, "email")))
    return unique(people)
