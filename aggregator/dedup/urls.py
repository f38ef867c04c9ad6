"""Canonical URLs: the form of a link that matches the same page across feeds, and its key.

Pure and cached. Most feed links are plain enough for a regular expression; the rest go
through ``text.safe_uri`` and w3lib's ``canonicalize_url``.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from ..text import is_tracking_param, safe_uri

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)

# safe_uri's output when it needs none of w3lib's work: lower-case ASCII host, a path and
# query of unreserved characters only (no percent-escapes to normalise, no dot segments
# to resolve). tests/test_dedup.py checks that both paths agree on such URLs.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SIMPLE_URL = re.compile(rf"(https?)://((?:{_LABEL}\.)*{_LABEL}\.?)(?::([0-9]{{1,5}}))?"
                         r"(/[A-Za-z0-9._~/-]*)?(?:\?([A-Za-z0-9._~=&-]*))?(?:#.*)?", re.ASCII | re.DOTALL)


_SAFE_URI_LIMIT = 8_000  # safe_uri cuts a URL there


def _w3lib_parts(url: str) -> tuple[str, str, int | None, str, str] | None:
    try:
        parts = urlsplit(canonicalize_url(url))  # percent-encoding normalised, dot segments resolved
        return parts.scheme.lower(), parts.hostname or "", parts.port, parts.path, parts.query
    except ValueError:
        return None


def _simple_parts(url: str) -> tuple[str, str, int | None, str, str] | None:
    m = _SIMPLE_URL.fullmatch(url)
    if m is None or "/." in (m[4] or ""):
        return None
    port = int(m[3]) if m[3] else None
    if port is not None and port > 65535:
        return None
    return m[1], m[2], port, m[4] or "", m[5] or ""


@functools.lru_cache(maxsize=1 << 16)
def canonical_url(url: str | None) -> str | None:
    """The form of *url* used to match the same page across feeds, or None if it is not http(s).

    Lower-case scheme and host, no default port, userinfo or fragment, no tracking
    parameters, plain AMP variants folded into the page (``/amp/`` segment, trailing
    ``/amp``, ``.amp`` suffix, ``amp=1``), sorted query, no trailing slash but on the root.
    """
    # Most feed links are plain enough to skip safe_uri and w3lib (~20 µs): safe_uri would
    # leave such a link as it is, but for its fragment, which is dropped anyway.
    parts = _simple_parts(url) if url and len(url) <= _SAFE_URI_LIMIT else None
    if parts is None:
        url = safe_uri(url)
        if url is None:
            return None
        parts = _simple_parts(url) or _w3lib_parts(url)
    return _assemble(*parts) if parts else None


def _assemble(scheme: str, host: str, port: int | None, path: str, query: str) -> str | None:
    host = host.rstrip(".")
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if "amp" in path.lower():
        segments = [s for s in path.split("/") if s.lower() != "amp"]
        path = _AMP_SUFFIX.sub("", "/".join(segments))
    path = path.rstrip("/") or "/"
    if query:
        query = urlencode(sorted(
            (k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if not is_tracking_param(k) and not (k.lower() == "amp" and v.lower() in ("", "1", "true"))))
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(canonical: str) -> str:
    """The cross-source key of a canonical URL: http and https and a leading www. count the same."""
    rest = canonical.split("://", 1)[-1]
    return "url:" + (rest[4:] if rest.startswith("www.") else rest)
