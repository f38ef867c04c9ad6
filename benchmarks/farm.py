"""The feed farm: N synthetic feeds served over HTTP/1.1 from a separate process.

    with Farm(n=500, seed=1) as farm:          # starts `python -m benchmarks.farm`, waits until ready
        farm.url(7)                            # http://127.0.0.8:PORT/feed/7.xml
        farm.mutate(n=500, fraction=0.2, round_=1)   # 100 feeds gain 5 items (new ETag)
        farm.stats()                           # {"200": …, "304": …, "bytes": …}
        farm.reset()                           # every feed back to version 0, counters zeroed

The server is a bare asyncio protocol (keep-alive, pipelining-safe, no per-request
thread) so that it is never the bottleneck, and it runs in its own process so that
its CPU time and memory are not counted in the measured process. Feeds are spread
over 16 loopback addresses (127.0.0.1–16), one "host" each, like a real feed list;
with the pipeline's per_host=2 that still allows 16 connections at once. Every body
is generated and gzip-compressed once, before the farm reports ready. Conditional
GETs get 304 (If-None-Match, or If-Modified-Since without it).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from benchmarks import synth

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Body:
    gz: bytes
    raw_len: int
    etag: str
    last_modified: str
    content_type: str


def mutation_sample(n: int, fraction: float, round_: int, seed: int) -> list[int]:
    """The feeds (of the first *n*) that change in mutation *round_*: deterministic."""
    count = round(n * fraction)
    return sorted(random.Random(seed * 7919 + round_).sample(range(n), count))


def is_not_modified(headers: dict[str, str], body: Body) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since only counts without it."""
    inm = headers.get("if-none-match")
    if inm is not None:
        return inm.strip() == "*" or body.etag in (t.strip() for t in inm.split(","))
    return headers.get("if-modified-since") == body.last_modified


class FarmState:
    """Versions and pre-compressed bodies of every feed; the server's whole memory."""

    def __init__(self, n: int, seed: int, epoch: datetime):
        self.n, self.seed, self.epoch = n, seed, epoch
        self.versions = [0] * n
        self.cache: dict[tuple[int, int], Body] = {}
        self.stats = {"200": 0, "304": 0, "404": 0, "bytes": 0}

    def body(self, i: int) -> Body:
        key = (i, self.versions[i])
        got = self.cache.get(key)
        if got is None:
            got = self.cache[key] = self._make(*key)
        return got

    def _make(self, i: int, version: int) -> Body:
        raw = synth.feed_bytes(self.seed, i, version, self.epoch)
        newest = self.epoch - timedelta(hours=251 - 5 * version)
        ctype = "application/atom+xml" if synth.spec(i).kind == "atom" else "application/rss+xml"
        return Body(gzip.compress(raw, compresslevel=6), len(raw), f'"f{self.seed:x}-{i}-{version}"',
                    format_datetime(newest, usegmt=True), ctype + "; charset=utf-8")

    def mutate(self, n: int, fraction: float, round_: int) -> list[int]:
        changed = mutation_sample(min(n, self.n), fraction, round_, self.seed)
        for i in changed:
            self.versions[i] += 1
            self.body(i)  # compress now, not while a measured round is waiting
        return changed

    def reset(self) -> None:
        self.versions = [0] * self.n
        self.stats = dict.fromkeys(self.stats, 0)


def _response(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _Conn(asyncio.Protocol):
    def __init__(self, state: FarmState):
        self.state, self.buf, self.transport = state, b"", None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            lines = head.split("\r\n")
            try:
                _method, target, version = lines[0].split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            self.transport.write(self.handle(target, headers))
            if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
                self.transport.close()
                return

    def handle(self, target: str, headers: dict[str, str]) -> bytes:
        st = self.state
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/feed/") and path.endswith(".xml"):
            try:
                i = int(path[6:-4])
            except ValueError:
                i = -1
            if 0 <= i < st.n:
                return self._feed(st.body(i), headers)
        elif path.startswith("/_"):
            return self._control(path, parse_qs(parts.query))
        st.stats["404"] += 1
        return _response("404 Not Found", {"Content-Type": "text/plain"}, b"not found")

    def _feed(self, b: Body, headers: dict[str, str]) -> bytes:
        st = self.state
        h = {"ETag": b.etag, "Last-Modified": b.last_modified}
        if is_not_modified(headers, b):
            st.stats["304"] += 1
            return _response("304 Not Modified", h)
        h["Content-Type"] = b.content_type
        h["Vary"] = "Accept-Encoding"
        if "gzip" in headers.get("accept-encoding", ""):
            h["Content-Encoding"] = "gzip"
            data = b.gz
        else:
            data = gzip.decompress(b.gz)
        st.stats["200"] += 1
        st.stats["bytes"] += len(data)
        return _response("200 OK", h, data)

    def _control(self, path: str, q: dict[str, list[str]]) -> bytes:
        st = self.state
        if path == "/_mutate":
            out: object = {"changed": st.mutate(int(q["n"][0]), float(q["fraction"][0]),
                                                int(q["round"][0]))}
        elif path == "/_reset":
            st.reset()
            out = {"ok": True}
        elif path == "/_stats":
            out = st.stats
        else:
            return _response("404 Not Found", {"Content-Type": "text/plain"}, b"no such control")
        return _response("200 OK", {"Content-Type": "application/json"}, json.dumps(out).encode())


async def _serve(state: FarmState, hosts: list[str]) -> None:
    loop = asyncio.get_running_loop()
    addresses = {}
    for host in hosts:
        srv = await loop.create_server(lambda: _Conn(state), host, 0, backlog=4096)
        addresses[host] = srv.sockets[0].getsockname()[1]
    print(json.dumps({"addresses": addresses}), flush=True)  # the readiness line Farm waits for
    # Serve until the parent closes our stdin (or kills us): never outlive the benchmark.
    await loop.run_in_executor(None, sys.stdin.read)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.farm")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--epoch", required=True, help="ISO 8601 UTC base time of item dates")
    a = ap.parse_args(argv)
    state = FarmState(a.n, a.seed, datetime.fromisoformat(a.epoch))
    t0 = time.perf_counter()
    for i in range(a.n):
        state.body(i)
    print(f"farm: generated {a.n} feeds in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    hosts = [f"127.0.0.{h + 1}" for h in range(max(1, min(a.hosts, 250)))]
    asyncio.run(_serve(state, hosts))


class FarmClient:
    """Talks to a running farm over its control paths; knows every feed's URL."""

    def __init__(self, addresses: dict[str, int], seed: int = 1):
        self.addresses, self.seed = dict(addresses), seed
        self.hosts = list(self.addresses)

    def url(self, i: int) -> str:
        host = self.hosts[i % len(self.hosts)]
        return f"http://{host}:{self.addresses[host]}/feed/{i}.xml"

    def _control(self, path: str) -> dict:
        import httpx

        host = self.hosts[0]
        r = httpx.get(f"http://{host}:{self.addresses[host]}{path}", timeout=600)
        r.raise_for_status()
        return r.json()

    def mutate(self, n: int, fraction: float = 0.2, round_: int = 1) -> list[int]:
        """Make round(n × fraction) of the first *n* feeds gain 5 items; returns their indices."""
        return self._control(f"/_mutate?n={n}&fraction={fraction}&round={round_}")["changed"]

    def reset(self) -> None:
        self._control("/_reset")

    def stats(self) -> dict[str, int]:
        return self._control("/_stats")


class Farm(FarmClient):
    """Starts the farm in a child process (bodies generated before this returns)."""

    def __init__(self, n: int, seed: int = 1, hosts: int = 16, epoch: datetime | None = None,
                 ready_timeout: float = 600.0):
        self.n = n
        self.epoch = epoch or synth.default_epoch()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.farm", "--n", str(n), "--seed", str(seed),
             "--hosts", str(hosts), "--epoch", self.epoch.isoformat()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=str(ROOT), text=True)
        super().__init__(json.loads(self._ready_line(ready_timeout))["addresses"], seed)

    def _ready_line(self, timeout: float) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        ready = sel.select(timeout)
        sel.close()
        if not ready:
            self.close()
            raise RuntimeError(f"feed farm: not ready after {timeout:g}s")
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"feed farm: exited with status {code} before it was ready")
        return line

    def close(self) -> None:
        """Closing the farm's stdin tells it to stop; it is killed if it does not."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> "Farm":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()
