"""The floor: the least work any aggregator must do, measured on the same farm.

Download every feed with ``httpx.AsyncClient`` (16 at once, like the pipeline's
default) and hand each body to plain ``feedparser.parse`` in the same process,
keeping nothing. The warm round repeats that with the validators the cold round
received, so unchanged feeds answer 304 and only changed ones are parsed.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass, field

import feedparser
import httpx


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        h = {}
        if self.etag:
            h["If-None-Match"] = self.etag
        if self.last_modified:
            h["If-Modified-Since"] = self.last_modified
        return h


@dataclass
class FloorRound:
    seconds: float
    fetched: int = 0  # 200s parsed
    not_modified: int = 0
    failed: int = 0
    entries: int = 0
    bytes: int = 0
    validators: dict[str, Validators] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"seconds": self.seconds, "fetched": self.fetched, "not_modified": self.not_modified,
                "failed": self.failed, "entries": self.entries, "bytes": self.bytes}


async def _round(urls: list[str], known: dict[str, Validators], concurrency: int,
                 timeout: float) -> FloorRound:
    out = FloorRound(0.0)
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client: httpx.AsyncClient, url: str) -> None:
        async with sem:
            try:
                r = await client.get(url, headers=known.get(url, Validators()).headers())
            except httpx.HTTPError:
                out.failed += 1
                return
        if r.status_code == 304:
            out.not_modified += 1
            return
        if r.status_code != 200:
            out.failed += 1
            return
        body = r.content
        out.bytes += len(body)
        # Parsing here blocks the loop, as a single-process aggregator would.
        d = feedparser.parse(io.BytesIO(body), response_headers=dict(r.headers))
        out.fetched += 1
        out.entries += len(d.entries)
        out.validators[url] = Validators(r.headers.get("etag"), r.headers.get("last-modified"))

    t0 = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(one(client, u) for u in urls))
    out.seconds = time.perf_counter() - t0
    return out


def run_round(urls: list[str], known: dict[str, Validators] | None = None, *,
              concurrency: int = 16, timeout: float = 60.0) -> FloorRound:
    """One floor round over *urls*; with *known* validators it is a conditional (warm) round."""
    return asyncio.run(_round(urls, known or {}, concurrency, timeout))
