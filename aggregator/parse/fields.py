"""Pure helpers that turn raw feed values into clean ``Entry`` fields (no feedparser here).

Shared by the feedparser path (``feeds.py``) and the JSON Feed path
(``jsonfeed.py``), so both formats are cleaned by the same rules.
"""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timezone
from typing import Iterable

from ..records import Enclosure
from ..text import clean_text, one_line, plain_text, safe_uri, sanitize_html

MIN_YEAR, MAX_YEAR = 1970, 2100  # a date outside these years is a feed's mistake: dropped
MAX_LIST = 100  # authors, categories or enclosures kept per entry
MAX_GUID = 2_000  # characters

_EMAIL = r"[^\s@()<>]+@[^\s@()<>]+"
_PERSON_FORMS = (
    re.compile(rf"(?P<email>{_EMAIL})\s*\((?P<name>[^()]*)\)"),  # RSS: jo@x.example (Jo Doe)
    re.compile(rf"(?P<name>[^<>]*?)\s*<(?P<email>{_EMAIL})>"),  # Jo Doe <jo@x.example>
    re.compile(rf"(?P<name>[^()]*?)\s*\((?P<email>{_EMAIL})\)"),  # Jo Doe (jo@x.example)
)


# feedparser's ``version`` codes, as its documentation lists them ("" when it cannot tell).
FORMAT_NAMES = {
    "rss090": "RSS 0.90", "rss091n": "RSS 0.91", "rss091u": "RSS 0.91", "rss092": "RSS 0.92",
    "rss093": "RSS 0.93", "rss094": "RSS 0.94", "rss20": "RSS 2.0", "rss10": "RSS 1.0", "rss": "RSS",
    "atom01": "Atom 0.1", "atom02": "Atom 0.2", "atom03": "Atom 0.3", "atom10": "Atom 1.0", "atom": "Atom",
    "cdf": "CDF",
}


def format_name(version: str) -> str:
    """A feed format for people: feedparser's ``rss20`` -> "RSS 2.0"; a JSON Feed version URL
    (``https://jsonfeed.org/version/1.1``) -> "JSON Feed 1.1"; unknown codes are kept as they are."""
    if version.startswith("https://jsonfeed.org/version/"):
        return "JSON Feed " + one_line(version.rsplit("/", 1)[1], 10)
    return FORMAT_NAMES.get(version, version)


def is_html_type(mime: str | None) -> bool:
    """Whether a content type names markup (feedparser says text/html or application/xhtml+xml)."""
    return not mime or "html" in mime.lower()


def title_text(value: object, mime: str | None = "text/plain") -> str:
    """A title on one line: markup stripped and entities decoded when the title is HTML."""
    s = clean_text(value)
    return one_line(plain_text(s) if is_html_type(mime) else s)


def html_field(value: object, mime: str | None, base: str | None) -> str:
    """Sanitised HTML: plain text is escaped first, so a literal ``<`` stays text."""
    s = clean_text(value)
    if not s.strip():
        return ""
    if not is_html_type(mime):
        s = html.escape(s, quote=False).replace("\n", "<br>")
    return sanitize_html(s, base=base)


def guid_text(value: object) -> str | None:
    return one_line(value, MAX_GUID) or None


def date_from_struct(st: time.struct_time | tuple | None) -> datetime | None:
    """feedparser's ``*_parsed`` (UTC) -> aware UTC datetime; None when absent or absurd."""
    if not st:
        return None
    try:
        dt = datetime(*tuple(st)[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None
    return keep_date(dt)


def keep_date(dt: datetime | None) -> datetime | None:
    """The date in UTC if its year is plausible (future dates are kept: publish clamps them)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        return None
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def unique(values: Iterable[object], limit: int = MAX_LIST, size: int = 200) -> tuple[str, ...]:
    """Cleaned one-line strings, empty ones and repeats dropped, order kept, at most *limit*."""
    out: dict[str, None] = {}
    for v in values:
        s = one_line(v, size)
        if s:
            out.setdefault(s, None)
            if len(out) >= limit:
                break
    return tuple(out)


def person(name: object = None, email: object = None) -> str:
    """The name of a person, else the email."""
    return one_line(name, 200) or one_line(email, 200)


def person_from_string(raw: object) -> str:
    """A person from an RSS author string: 'jo@x.example (Jo Doe)', 'Jo Doe <jo@x>' or 'Jo Doe'."""
    s = one_line(raw, 400)
    for form in _PERSON_FORMS:
        m = form.fullmatch(s)
        if m:
            return person(m.group("name"), m.group("email"))
    return person(s)


def int_or_none(value: object) -> int | None:
    """A non-negative integer (enclosure length) or None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if 0 <= value < 2**63 else None
    s = one_line(value, 40)
    return int(s) if s.isdigit() and len(s) <= 18 else None


def enclosure(url: object, mime: object, length: object, base: str | None) -> Enclosure | None:
    """An enclosure with an absolute http(s) URL, or None when the URL is unusable."""
    absolute = safe_uri(clean_text(url, 8_000) if url else None, base)
    if absolute is None:
        return None
    return Enclosure(url=absolute, type=one_line(mime, 200), length=int_or_none(length))


def unique_enclosures(items: Iterable[Enclosure | None]) -> tuple[Enclosure, ...]:
    out: dict[str, Enclosure] = {}
    for e in items:
        if e is not None and e.url not in out:
            out[e.url] = e
            if len(out) >= MAX_LIST:
                break
    return tuple(out.values())
