"""Bounded reading of HTTP bodies: decompress ourselves, never past the size limit.

httpx's own decoders inflate each network chunk in one go, so 64 KB of a gzip
bomb becomes 64 MB in memory and a few hundred bytes of brotli can become a
gigabyte. Here every decompression step is asked for at most the bytes still
allowed (plus one, to notice the overflow), so memory stays near the limit
whatever the server sends. No httpx here: poll.py feeds the raw chunks in.
"""

from __future__ import annotations

import zlib
from typing import Protocol

try:  # httpx[brotli] installs it; without it we simply do not offer br
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class LimitExceeded(Exception):
    """The decoded body grew past the limit (fetch turns it into BodyTooLarge)."""


class DecodeFailed(Exception):
    """The body is not valid in its declared Content-Encoding."""


class _Decoder(Protocol):
    def decode(self, data: bytes, max_out: int) -> bytes: ...


class _Identity:
    def decode(self, data: bytes, max_out: int) -> bytes:
        return data


class _Zlib:
    """gzip or zlib-wrapped deflate (wbits 47 auto-detects either header)."""

    name = "gzip"

    def __init__(self, wbits: int = 47):
        self._d = zlib.decompressobj(wbits)

    def decode(self, data: bytes, max_out: int) -> bytes:
        if self._d.eof:  # trailing bytes after the stream end are ignored, as browsers do
            return b""
        try:
            # Output is capped at max_out; anything left waits in unconsumed_tail,
            # but reaching the cap already means the body is too large.
            return self._d.decompress(data, max(max_out, 1))
        except zlib.error as e:
            raise DecodeFailed(f"invalid {self.name} data ({e})") from None


class _Deflate(_Zlib):
    """``deflate`` is zlib-wrapped by the RFC, but some servers send it raw."""

    name = "deflate"

    def __init__(self) -> None:
        super().__init__(15)
        self._first = True

    def decode(self, data: bytes, max_out: int) -> bytes:
        if self._first:
            self._first = False
            try:
                return super().decode(data, max_out)
            except DecodeFailed:
                self._d = zlib.decompressobj(-15)
        return super().decode(data, max_out)


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def decode(self, data: bytes, max_out: int) -> bytes:
        try:
            return self._d.process(data, output_buffer_limit=max(max_out, 1))
        except TypeError:  # brotli < 1.1 has no output limit; the chunk is still bounded upstream
            return self._d.process(data)
        except brotli.error as e:
            raise DecodeFailed(f"invalid br data ({e})") from None


def _decoder(encoding: str) -> _Decoder | None:
    if encoding in ("gzip", "x-gzip"):
        return _Zlib()
    if encoding == "deflate":
        return _Deflate()
    if encoding == "br" and brotli is not None:
        return _Brotli()
    # identity, or a label servers misuse (e.g. "UTF-8"): pass the bytes through, as httpx does
    return None


class BoundedBody:
    """Accumulates raw chunks, decoded per Content-Encoding, up to *limit* decoded bytes.

    ``feed`` raises LimitExceeded as soon as the body would pass *limit*, and
    DecodeFailed on corrupt compressed data.
    """

    def __init__(self, content_encoding: str | None, limit: int):
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        # Encodings are listed in the order applied: undo them last first.
        self._stages = [d for d in (_decoder(n) for n in reversed(names)) if d is not None]
        self._parts: list[bytes] = []
        self.size = 0
        self.limit = limit

    def feed(self, raw: bytes) -> None:
        data = raw
        for stage in self._stages:
            data = stage.decode(data, self.limit - self.size + 1)
        self._take(data)

    def _take(self, data: bytes) -> None:
        if self.size + len(data) > self.limit:
            raise LimitExceeded(self.size + len(data))
        if data:
            self._parts.append(data)
            self.size += len(data)

    def finish(self) -> bytes:
        """The whole decoded body. Decoders hold no output back unless the cap was hit,
        and hitting the cap has already raised LimitExceeded."""
        return b"".join(self._parts)


def read_limited_file(path: str, limit: int) -> bytes:
    """Read a local file, refusing more than *limit* bytes (reads at most limit + 1)."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(len(data))
    return data
