"""A catalogue of misbehaving feed hosts for tests/feedserver.py, plus helpers.

Each factory returns a handler ``handler(req)`` that writes the whole response
itself (``req`` is the server's BaseHTTPRequestHandler)::

    server.add("/drip", drip())               # one byte a second
    server.add("/bomb", gzip_bomb())          # 1 GiB of zeros in ~1 MB of gzip
    urls = install_catalogue(server)          # every hostile route at once, name -> URL

``LoopbackTransport`` sends requests for any host name (``http://a.test/x``)
to the local server, so per-host behaviour can be tested with many "hosts".
"""

from __future__ import annotations

import gzip
import struct
import threading
import time
import zlib
from email.utils import formatdate
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from typing import Callable

import brotli
import httpx

from feedserver import send  # noqa: F401  (re-exported: handlers here and in tests use it)

Handler = Callable[[BaseHTTPRequestHandler], None]
CHUNK = 64 * 1024


def rss(title: str = "Feed", items: int = 3, link: str = "https://example.org/") -> bytes:
    """A small valid RSS 2.0 document."""
    entries = "".join(
        f"<item><title>{title} item {i}</title><link>{link}{i}</link><guid>{link}{i}</guid>"
        f"<pubDate>{formatdate(1_700_000_000 + i * 3600, usegmt=True)}</pubDate></item>"
        for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{link}</link><description>d</description>{entries}</channel></rss>").encode()


# ----------------------------------------------------------------------------- status codes


def status(code: int, body: bytes = b"error", headers: dict[str, str] | None = None) -> Handler:
    return lambda req: send(req, code, body, headers, "text/plain")


def server_error() -> Handler:
    return status(500, b"Internal Server Error")


def too_many(retry_after: str) -> Handler:
    """429 with Retry-After, e.g. ``"120"`` or an HTTP date (see :func:`http_date`)."""
    return status(429, b"slow down", {"Retry-After": retry_after})


def unavailable(retry_after: str | None = "60") -> Handler:
    return status(503, b"maintenance", {"Retry-After": retry_after} if retry_after else None)


def gone() -> Handler:
    return status(410, b"gone")


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def redirect(location: str, code: int = 301) -> Handler:
    """A redirect to *location* (relative locations keep the request's host)."""
    return status(code, b"", {"Location": location})


def redirect_chain(server, prefix: str, codes: list[int], final: bytes | None = None) -> str:
    """Routes prefix/0 -> prefix/1 -> ... with the given codes, ending at a feed. Returns the first URL."""
    for i, code in enumerate(codes):
        server.add(f"{prefix}/{i}", redirect(f"{prefix}/{i + 1}", code))
    server.add(f"{prefix}/{len(codes)}", final or rss("after redirects"))
    return server.url(f"{prefix}/0")


def redirect_loop(server, prefix: str, length: int = 2, code: int = 302) -> str:
    for i in range(length):
        server.add(f"{prefix}/{i}", redirect(f"{prefix}/{(i + 1) % length}", code))
    return server.url(f"{prefix}/0")


# ----------------------------------------------------------------------------- bodies


def drip(total: int = 60, every: float = 1.0, content_type: str = "application/rss+xml") -> Handler:
    """Headers at once, then one byte every *every* seconds: only a total deadline stops it."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(total))
        req.end_headers()
        req.close_connection = True
        req.wfile.flush()
        for _ in range(total):  # ends with BrokenPipe once the client hangs up
            req.wfile.write(b" ")
            req.wfile.flush()
            time.sleep(every)

    return handler


@lru_cache(maxsize=4)
def gzip_bomb_bytes(size: int = 1 << 30) -> bytes:
    """*size* zeros gzipped (1 GiB -> ~1 MB) in ~0.3 s.

    After a full flush the deflate state is reset, so compressing the same
    1 MiB of zeros gives the same block every time: compress it once, repeat
    the block, and add the gzip header and the CRC/length trailer by hand.
    """
    mib = bytes(1 << 20)
    count, rest = divmod(size, len(mib))
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(mib) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(bytes(rest)) + co.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(bytes(rest), crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * count + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


@lru_cache(maxsize=4)
def brotli_bomb_bytes(size: int = 256 << 20) -> bytes:
    """*size* zeros in brotli: a few hundred bytes that expand a million-fold."""
    return brotli.compress(bytes(size), quality=1)


def _stream(body: bytes, headers: dict[str, str], content_type: str = "application/rss+xml") -> Handler:
    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        for k, v in headers.items():
            req.send_header(k, v)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.close_connection = True  # the client may hang up mid-body: no keep-alive to reset
        view = memoryview(body)
        for i in range(0, len(body), CHUNK):  # stops at BrokenPipe when the client gives up
            req.wfile.write(view[i:i + CHUNK])

    return handler


def gzip_bomb(size: int = 1 << 30) -> Handler:
    return _stream(gzip_bomb_bytes(size), {"Content-Encoding": "gzip"})


def brotli_bomb(size: int = 256 << 20) -> Handler:
    return _stream(brotli_bomb_bytes(size), {"Content-Encoding": "br"})


def oversized(size: int, declare_length: bool = True) -> Handler:
    """A plain body of *size* bytes; without a Content-Length it is sent chunk-free until close."""
    body = b"<rss>" + b"x" * (size - 5)
    if declare_length:
        return _stream(body, {})

    def handler(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("Connection", "close")  # length unknown: the body ends when we close
        req.end_headers()
        req.close_connection = True
        for i in range(0, len(body), CHUNK):
            req.wfile.write(body[i:i + CHUNK])

    return handler


def _raw_deflate(body: bytes) -> bytes:  # zlib.compress(wbits=) is Python 3.11+
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return co.compress(body) + co.flush()


def encoded(body: bytes, encoding: str) -> Handler:
    """*body* compressed as gzip, deflate (zlib-wrapped), deflate-raw (sent as deflate) or br."""
    data = {
        "gzip": lambda b: gzip.compress(b),
        "deflate": zlib.compress,
        "deflate-raw": _raw_deflate,
        "br": brotli.compress,
    }[encoding](body)
    return _stream(data, {"Content-Encoding": encoding.split("-")[0]})


def html_page() -> Handler:
    return lambda req: send(req, 200, b"<!doctype html><html><head><title>Home</title></head>"
                                      b"<body><p>Not a feed</p></body></html>", None, "text/html; charset=utf-8")


def empty() -> Handler:
    return lambda req: send(req, 200, b"", None, "application/rss+xml")


def plain_text_feed(body: bytes | None = None) -> Handler:
    """A real feed served as text/plain: must still be fetched."""
    return lambda req: send(req, 200, body or rss("plain"), None, "text/plain")


def cp1252_as_utf8() -> bytes:
    """An RSS body that declares UTF-8 but whose text is cp1252 (curly quotes, euro, é)."""
    title = "\u201cCaf\u00e9\u201d costs \u20ac5 \u2014 ok"
    return (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>'
            + title.encode("cp1252") + b"</title><link>https://example.org/</link>"
            b"<description>d</description><item><title>" + title.encode("cp1252")
            + b"</title><link>https://example.org/1</link></item></channel></rss>")


def mislabelled_cp1252() -> Handler:
    return lambda req: send(req, 200, cp1252_as_utf8(), None, "application/rss+xml; charset=utf-8")


# ----------------------------------------------------------------------------- concurrency


class Gauge:
    """Counts requests in flight (thread-safe) and remembers the peak."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> "Gauge":
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


def sleepy(delay: float, gauge: Gauge, body: bytes | None = None) -> Handler:
    """Waits *delay* seconds inside *gauge* before answering with a feed."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        with gauge:
            time.sleep(delay)
        send(req, 200, body or rss("sleepy"))

    return handler


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Connects every request to 127.0.0.1:*port*, keeping its Host header: fake hosts, one server."""

    def __init__(self, port: int):
        self.port = port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# ----------------------------------------------------------------------------- the catalogue


def catalogue(retry_epoch: float | None = None) -> dict[str, Handler]:
    """One of each hostile behaviour, by name (redirect chains and loops need a server: see below)."""
    when = retry_epoch if retry_epoch is not None else time.time() + 3600
    return {
        "drip": drip(),
        "error500": server_error(),
        "429-seconds": too_many("120"),
        "429-date": too_many(http_date(when)),
        "503": unavailable("60"),
        "gone": gone(),
        "gzip-bomb": gzip_bomb(),
        "oversized": oversized(12_000_000),
        "html": html_page(),
        "empty": empty(),
        "text-plain": plain_text_feed(),
        "cp1252": mislabelled_cp1252(),
    }


def install_catalogue(server, prefix: str = "/hostile") -> dict[str, str]:
    """Add every catalogue route, a 301 chain, a 302 chain and a loop to *server*; name -> URL."""
    urls = {name: server.add(f"{prefix}/{name}", h) for name, h in catalogue().items()}
    urls["301-chain"] = redirect_chain(server, f"{prefix}/r301", [301, 308, 301])
    urls["302-chain"] = redirect_chain(server, f"{prefix}/r302", [301, 302])
    urls["loop"] = redirect_loop(server, f"{prefix}/loop")
    return urls
