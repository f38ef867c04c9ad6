"""A poll of many feeds reuses each host's connections, lets them go after the host's last feed,
and need not keep the bodies it handed on.

Real HTTP against local servers (127.0.0.1 and 127.0.0.2, two hosts); the connections
are counted by the client ports the server saw.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from aggregator.fetch.client import HostClients
from aggregator.fetch.poll import fetch_all
from aggregator.records import FeedState, Settings, Source
from feedserver import FeedServer, send

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def settings(**kw: object) -> Settings:
    return Settings(config_path=Path("feeds.yaml"), store=Path("store.json"), output_dir=Path("out"), **kw)


def counting(ports: list[int]):
    """A route that answers 304 to If-None-Match "v1" and 200 otherwise, noting each request's client port."""
    def handle(req: BaseHTTPRequestHandler) -> None:
        ports.append(req.client_address[1])
        if req.headers.get("If-None-Match") == '"v1"':
            req.send_response(304)
            req.send_header("ETag", '"v1"')
            req.send_header("Content-Length", "0")
            req.end_headers()
        else:
            send(req, 200, RSS, {"ETag": '"v1"'})
    return handle


def test_a_304_hands_its_connection_back_for_the_next_poll_of_the_host(server: FeedServer) -> None:
    ports: list[int] = []
    urls = [server.add(f"/f{i}.xml", counting(ports)) for i in range(6)]
    jobs = [(Source(url=u), FeedState(url=u, etag='"v1"')) for u in urls]
    results = asyncio.run(fetch_all(jobs, settings(concurrency=1, per_host=1), now=NOW))
    assert [r.status for r in results] == [304] * 6
    assert len(ports) == 6 and len(set(ports)) == 1  # one connection for all six, not one each


def test_each_host_has_its_own_connections() -> None:
    with FeedServer("127.0.0.1") as one, FeedServer("127.0.0.2") as two:
        seen: dict[str, list[int]] = {"one": [], "two": []}
        urls = [one.add(f"/f{i}.xml", counting(seen["one"])) for i in range(4)]
        urls += [two.add(f"/f{i}.xml", counting(seen["two"])) for i in range(4)]
        results = asyncio.run(fetch_all([(Source(url=u), None) for u in urls], settings(concurrency=2, per_host=1),
                                        now=NOW))
    assert [r.status for r in results] == [200] * 8 and all(r.body == RSS for r in results)
    assert len(set(seen["one"])) == 1 and len(set(seen["two"])) == 1


def test_a_hosts_client_is_closed_after_its_last_job() -> None:
    async def go() -> list[bool]:
        clients = HostClients(settings(per_host=2), Counter({"a.example": 2, "b.example": 1}))
        a = clients.get("a.example")
        assert clients.get("a.example") is a and clients.get("b.example") is not a
        b = clients.get("b.example")
        await clients.done("a.example")
        states = [a.is_closed, b.is_closed]
        await clients.done("a.example")
        await clients.done("b.example")
        states += [a.is_closed, b.is_closed]
        await clients.aclose()
        return states

    assert asyncio.run(go()) == [False, False, True, True]


@pytest.mark.parametrize("per_host", [1, 3])
def test_a_hosts_client_has_per_host_connections(per_host: int) -> None:
    async def go() -> int:
        clients = HostClients(settings(per_host=per_host, concurrency=16), Counter({"a.example": 1}))
        client = clients.get("a.example")
        limit = client._transport._pool._max_connections  # httpx keeps the limit on its pool
        await clients.aclose()
        return limit

    assert asyncio.run(go()) == per_host


def test_without_bodies_the_results_let_them_go_once_on_result_had_them(server: FeedServer) -> None:
    urls = [server.add(f"/f{i}.xml", RSS) for i in range(3)]
    seen: list[bytes | None] = []
    results = asyncio.run(fetch_all([(Source(url=u), None) for u in urls], settings(), now=NOW,
                                    on_result=lambda r: seen.append(r.body), bodies=False))
    assert seen == [RSS] * 3  # each body went to on_result as it arrived
    assert [(r.status, r.body) for r in results] == [(200, None)] * 3
