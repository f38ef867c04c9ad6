"""Text and URL hygiene shared by parse, tag and publish (no stage logic here).

Everything a source feed sends is untrusted: these helpers make it safe to
match on (``plain_text``), safe to put in XML (``clean_text``), safe to show
(``sanitize_html``) and valid as a URI (``safe_uri``); and a link fit to publish,
without tracking parameters (``clean_link``; dedup matches on ``is_tracking_param`` too).
"""

from __future__ import annotations

import functools
import html
import re
import threading
from typing import Callable
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import nh3

# XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")

# Tags and attributes a feed item may keep. nh3 drops script, style, iframe,
# event handlers and javascript: URLs whatever this list says.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "u", "ul",
}
_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
_URL_ATTRS = {("a", "href"), ("img", "src"), ("blockquote", "cite"), ("q", "cite")}
MAX_FIELD = 100_000  # characters kept of any one text field


def clean_text(value: object, limit: int = MAX_FIELD) -> str:
    """Text that XML can carry: controls and lone surrogates removed, length capped."""
    if value is None:
        return ""
    s = str(value)
    if len(s) > limit:
        s = s[:limit]
    return _NOT_XML.sub("", s)


def plain_text(fragment: str, limit: int = MAX_FIELD) -> str:
    """HTML fragment -> one line of plain text (tags dropped, entities decoded)."""
    if not fragment:
        return ""
    s = _TAG.sub(" ", clean_text(fragment, limit))
    # str.split() splits on exactly what \s matches; one join is ~3x faster than a regex sub.
    return " ".join(clean_text(html.unescape(s)).split())


def one_line(value: object, limit: int = 1_000) -> str:
    """Clean text on one line, for titles and messages."""
    return _SPACE.sub(" ", clean_text(value, limit * 4)).strip()[:limit]


# Query parameters that only say who sent the reader, never which page it is.
TRACKING_PARAMS = frozenset("""
fbclid gclid dclid gbraid wbraid msclkid mc_cid mc_eid yclid igshid ref ref_src ref_url
_ga _gl _hsenc _hsmi mkt_tok ocid cmpid at_medium at_campaign at_custom1 at_custom2
at_custom3 at_custom4 spm smid sr_share twclid ttclid li_fat_id s_cid xtor
""".split())
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks the reader (``utm_source``, ``fbclid``…)."""
    n = name.lower()
    return n in TRACKING_PARAMS or n.startswith(TRACKING_PREFIXES)


def clean_link(uri: str | None) -> str | None:
    """*uri* (a safe_uri result) without its fragment and its tracking query parameters.

    What we publish as an item's link. Everything else stays as the source wrote it (host,
    ``www``, path, trailing slash, the other parameters in their order and spelling), so the
    link still leads where the source's did: dedup's canonical_url changes more (case,
    AMP variants, sorted query), which is right for matching but not for a link to follow.
    """
    if not uri:
        return None
    head = uri.partition("#")[0]
    base, sep, query = head.partition("?")
    if not sep:
        return head
    kept = [p for p in query.split("&") if p and not is_tracking_param(unquote_plus(p.partition("=")[0]))]
    return base + "?" + "&".join(kept) if kept else base


def safe_uri(url: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URI with raw spaces, brackets and non-ASCII percent-encoded.

    Returns None for anything that is not http(s) (javascript:, data:, mailto:…).
    """
    if not url:
        return None
    if isinstance(url, str) and len(url) <= _URL_LIMIT:
        fast = _fast_uri(url, base)
        if fast is not None:
            return fast
    return _safe_uri_reference(url, base)


def _safe_uri_reference(url: str | None, base: str | None = None) -> str | None:
    """``safe_uri`` without the fast path (tests/test_text.py proves both agree)."""
    if not url:
        return None
    url = clean_text(url, _URL_LIMIT).strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    safe = "/:@!$&'()*+,;=%~-._"
    return urlunsplit((
        parts.scheme.lower(),
        _netloc(parts.netloc),
        quote(parts.path, safe=safe),
        quote(parts.query, safe=safe + "?/"),
        quote(parts.fragment, safe=safe + "?/#"),
    ))


def _netloc(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1]
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        ascii_host = quote(host, safe=":[]")
    return netloc[: len(netloc) - len(host)] + ascii_host.lower()


def sanitize_html(fragment: str, base: str | None = None) -> str:
    """Safe HTML for a feed item: allow-listed tags, absolute http(s) links only."""
    if not fragment:
        return ""
    if _CLEANER is None:
        return _sanitize(fragment, base, safe_uri)
    before = getattr(_local, "base", None)
    _local.base = base  # the base _url_filter resolves against, in this thread, for this call
    try:
        return _CLEANER.clean(clean_text(fragment)).strip()
    finally:
        _local.base = before


def _sanitize_html_reference(fragment: str, base: str | None = None) -> str:
    """``sanitize_html`` as it was before issue 8 (for tests/test_text.py): a cleaner built
    for each call, and every URL through the slow path."""
    return _sanitize(fragment, base, _safe_uri_reference)


def _sanitize(fragment: str, base: str | None,
              uri: Callable[[str | None, str | None], str | None]) -> str:
    if not fragment:
        return ""

    def rewrite(tag: str, attr: str, value: str) -> str | None:
        if (tag, attr) in _URL_ATTRS:
            return uri(value, base)
        return value

    return nh3.clean(clean_text(fragment), attribute_filter=rewrite, **_NH3_OPTIONS).strip()


_NH3_OPTIONS: dict = dict(tags=_TAGS, attributes=_ATTRS, url_schemes={"http", "https"},
                          link_rel="noopener noreferrer", strip_comments=True)
# nh3.clean builds its sanitiser from these options on every call: half its time on a feed
# item (issue 8). One Cleaner built here serves every call; its filter cannot be a closure
# over the base, so sanitize_html hands the base over in a thread-local.
_local = threading.local()


def _url_filter(tag: str, attr: str, value: str) -> str | None:
    if (tag, attr) in _URL_ATTRS:
        return safe_uri(value, _local.base)
    return value


_Cleaner = getattr(nh3, "Cleaner", None)  # older nh3 has none: one cleaner per call, as before
_CLEANER = _Cleaner(attribute_filter=_url_filter, **_NH3_OPTIONS) if _Cleaner else None


# safe_uri runs on every link of every item, and nh3 calls it for each href/src: urljoin,
# urlsplit and quote (~20 µs) were a third of our parse time (issue 8). Most feed links are
# already what safe_uri returns, or a plain path to put after a plain base: these patterns pick
# out exactly those. Anything else (upper case, non-ASCII, spaces, ';' params, '.'/'..' or empty
# segments, empty '?'/'#', userinfo, IPv6, a ':' in a relative reference…) takes the slow path,
# as it is what urljoin/urlsplit/quote would change. tests/test_text.py checks both agree.
_PCHARS = r"\-A-Za-z0-9._~!$&'()*+,=@%/"  # quote(…, safe=…) keeps these; no ';' (urlparse params)
_SIMPLE_ABS = re.compile(rf"(https?://[a-z0-9.-]+(?::[0-9]{{1,5}})?)(/[{_PCHARS}:]*)?"
                         rf"(?:\?[{_PCHARS}:?]+)?(?:#[{_PCHARS}:?#]+)?")
# A relative reference: no ':' anywhere, so urlsplit never takes a prefix for a scheme.
_SIMPLE_REL = re.compile(rf"([{_PCHARS}]+)(?:\?[{_PCHARS}?]+)?(?:#[{_PCHARS}?#]+)?")
_NO_BASE = ("", "")  # a plain base whose path urljoin would rewrite: absolute links only
_URL_LIMIT = 8_000  # safe_uri cuts there


def _plain_path(path: str) -> bool:
    """No empty, '.' or '..' segment inside: urljoin would collapse or resolve those."""
    return "//" not in path and not {".", ".."} & set(path.split("/"))


@functools.lru_cache(maxsize=256)  # a handful of bases (feed URL, entry links) per feed
def _plain_base(base: str) -> tuple[str, str] | None:
    """(origin, directory) of a base urljoin takes as it is; _NO_BASE, or None if not plain."""
    m = _SIMPLE_ABS.fullmatch(base) if len(base) <= _URL_LIMIT else None
    if m is None:
        return None  # urljoin might fail or rewrite: every URL against it goes the slow way
    path = m[2] or ""
    if not _plain_path(path or "/"):
        return _NO_BASE
    return m[1], path[: path.rfind("/") + 1] or "/"


def _fast_uri(url: str, base: str | None) -> str | None:
    """safe_uri(url, base) when the answer is plain to see, else None (take the slow path)."""
    plain = _plain_base(base) if base else _NO_BASE
    if plain is None:
        return None
    if _SIMPLE_ABS.fullmatch(url):
        return url  # urljoin gives it back as it is, and quote finds nothing to encode
    origin, directory = plain
    if origin and _SIMPLE_REL.fullmatch(url):
        path = url.partition("?")[0].partition("#")[0]
        if _plain_path(path):
            return origin + url if path[0] == "/" else origin + directory + url
    return None


def hide_password(url: str) -> str:
    """*url* as it may be shown or logged: a password in it (``user:secret@``) becomes ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))
