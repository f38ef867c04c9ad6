"""`aggregator serve`: a small static server for the output folder, kind to feed readers.

Serves only regular files inside the output folder (no traversal, whether spelled
``..``, ``%2e%2e`` or through a symlink that leads out; no dot-files, so temp files of a
publish in progress stay hidden). Conditional GETs get 304 (ETag, Last-Modified), bodies
are gzipped when the client accepts it, HEAD works and ``/`` is index.html.

A browser asking for an .rss or .atom file (its Accept prefers text/html and names no
feed type) gets the page feed.xsl makes of it, rendered here with lxml: browsers are
dropping XSLT, and feed readers keep getting the feed itself. The stylesheet is the
package's own (not the output folder's copy); the feed is parsed without entities,
DTDs or network, and the transform may not read or write anything.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from importlib import resources
from urllib.parse import unquote, urlsplit

from lxml import etree

from .. import __version__

CONTENT_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
XML_FEEDS = (".rss", ".atom")
GZIP_MIN = 256  # smaller bodies do not shrink enough to be worth it
_TOKEN = re.compile(r'(?:W/)?"[^"]*"|\*')


def resolve(root: Path, raw_path: str) -> Path | None:
    """The file *raw_path* names inside *root* (already resolved), or None. Pure but for stat."""
    path = unquote(urlsplit(raw_path).path, errors="strict")
    if "\x00" in path or "\\" in path:
        return None
    if path.endswith("/"):
        path += "index.html"
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") for p in parts):  # "..", ".", dot-files and temp files
        return None
    candidate = root.joinpath(*parts).resolve()
    if candidate != root and root not in candidate.parents:  # a symlink led outside
        return None
    return candidate if candidate.is_file() else None


def etag_for(st: os.stat_result, encoding: str = "") -> str:
    tag = f"{st.st_size:x}-{st.st_mtime_ns:x}"
    return f'"{tag}-{encoding}"' if encoding else f'"{tag}"'


def not_modified(headers, etags: set[str], mtime: float) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; weak comparison."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tokens = {t.removeprefix("W/") for t in _TOKEN.findall(inm)}
        return "*" in tokens or bool(tokens & etags)
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            return int(mtime) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def accepts_gzip(value: str | None) -> bool:
    """True if an Accept-Encoding header allows gzip (present and not q=0)."""
    for part in (value or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            q = re.search(r"q\s*=\s*([0-9.]+)", params)
            try:
                return float(q.group(1)) > 0 if q else True
            except ValueError:
                return False
    return False


HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept.split(","):
        kind, *params = [p.strip() for p in part.split(";")]
        if not kind:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out.append((kind.lower(), q))
    return out


def wants_page(accept: str | None) -> bool:
    """A browser navigating rather than a feed reader: Accept prefers HTML, names no feed type.

    "Prefers": HTML's q is above 0 and no other listed type (wildcards aside) has a
    higher one. Any feed media type listed means a feed reader, whatever its q.
    """
    ranges = _media_ranges(accept or "")
    if any(kind in FEED_TYPES for kind, _ in ranges):
        return False
    html_q = max((q for kind, q in ranges if kind in HTML_TYPES), default=0.0)
    others = (q for kind, q in ranges if kind not in HTML_TYPES and "*" not in kind)
    return html_q > 0 and all(q <= html_q for q in others)


class FeedPages:
    """Feeds rendered to HTML with the package's feed.xsl; the last few are kept."""

    def __init__(self, xsl: bytes | None = None, keep: int = 32):
        xsl = xsl if xsl is not None else \
            resources.files("aggregator.publish").joinpath("static/feed.xsl").read_bytes()
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                       huge_tree=False)
        self._xslt = etree.XSLT(etree.fromstring(xsl, self._parser),
                                access_control=etree.XSLTAccessControl.DENY_ALL)
        self._lock = threading.Lock()  # one XSLT object, shared by the server's threads
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._keep = keep
        # In the page's ETag: a new stylesheet (an upgrade) must not be answered with 304.
        self.tag = "html" + hashlib.sha256(xsl).hexdigest()[:8]

    def render(self, data: bytes, key: tuple | None = None) -> bytes | None:
        """The HTML page for feed *data*, or None if it does not parse or transform."""
        with self._lock:
            if key is not None and key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            try:
                page = bytes(self._xslt(etree.fromstring(data, self._parser)))
            except (etree.XMLSyntaxError, etree.XSLTError, ValueError):
                return None
            if key is not None:
                self._cache[key] = page
                while len(self._cache) > self._keep:
                    self._cache.popitem(last=False)
            return page


def _handler(root: Path, pages: FeedPages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def version_string(self) -> str:
            return f"aggregator/{__version__}"

        def log_message(self, fmt: str, *args: object) -> None:
            if os.environ.get("AGGREGATOR_SERVE_LOG"):
                super().log_message(fmt, *args)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._respond(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(body=False)

        def _respond(self, body: bool) -> None:
            try:
                path = resolve(root, self.path)
            except (UnicodeDecodeError, ValueError):
                path = None
            if path is None:
                return self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
            try:
                st = path.stat()
                data = path.read_bytes()
            except OSError:
                return self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
            suffix = path.suffix.lower()
            ctype = CONTENT_TYPES.get(suffix, "application/octet-stream")
            page = ""
            if suffix in XML_FEEDS and wants_page(self.headers.get("Accept")):
                # Browsers show feed types as source text, and are dropping XSLT: send
                # the page feed.xsl makes. A file that does not transform goes out as is.
                html = pages.render(data, (str(path), st.st_mtime_ns, st.st_size))
                if html is not None:
                    data, ctype, page = html, CONTENT_TYPES[".html"], pages.tag
            zipped = accepts_gzip(self.headers.get("Accept-Encoding")) and len(data) >= GZIP_MIN
            variant = page + ("gz" if zipped else "")
            etag = etag_for(st, variant)
            common = {
                "ETag": etag,
                "Last-Modified": formatdate(st.st_mtime, usegmt=True),
                "Vary": "Accept, Accept-Encoding",
                "Cache-Control": "no-cache",  # revalidate each time: 304s are cheap
            }
            # Any variant's tag proves the file unchanged since the client fetched it.
            etags = {etag_for(st, v) for v in ("", "gz", pages.tag, pages.tag + "gz")}
            if not_modified(self.headers, etags, st.st_mtime):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                for k, v in common.items():
                    self.send_header(k, v)
                self.end_headers()
                return
            if zipped:
                data = gzip.compress(data, compresslevel=6, mtime=0)
                common["Content-Encoding"] = "gzip"
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in common.items():
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _plain(self, status: HTTPStatus, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(output_dir: Path | str, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for *output_dir* bound to host:port (0: any free port); not yet serving."""
    root = Path(output_dir).resolve()
    return _Server((host, port), _handler(root, FeedPages()))


def serve(output_dir: Path | str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve *output_dir* until interrupted (Ctrl-C)."""
    with make_server(output_dir, host, port) as httpd:
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
