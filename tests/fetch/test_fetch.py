"""fetch/poll.py against a real local server that misbehaves on purpose, and against MockTransport."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

import hostile
from feedserver import FeedServer
from aggregator.fetch import poll as fetch
from aggregator.errors import (BodyTooLarge, FeedGone, FetchError, FetchTimeout, HTTPStatusError, NetworkError,
                               TooManyRedirects)
from aggregator.fetch.poll import fetch_all, request_headers
from aggregator.records import FeedState, Settings, Source

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server():
    """One server for the module (each shutdown costs up to 0.5 s); tests use distinct paths."""
    with FeedServer() as s:
        yield s


def settings(**kw) -> Settings:
    base = dict(config_path=Path("feeds.yaml"), store=Path("store.json"), output_dir=Path("out"),
                timeout=5.0, max_body_bytes=1_000_000)
    base.update(kw)
    return Settings(**base)


def run(jobs, s=None, **kw):
    return asyncio.run(fetch_all(jobs, s or settings(), now=kw.pop("now", NOW), **kw))


def one(url: str, state: FeedState | None = None, s: Settings | None = None, **kw):
    return run([(Source(url), state)], s, **kw)[0]


# ----------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize("state, expect", [
    (None, {}),
    (FeedState(url="u"), {}),
    (FeedState(url="u", etag='"abc"'), {"If-None-Match": '"abc"'}),
    (FeedState(url="u", last_modified="Sat, 01 Mar 2025 10:00:00 GMT"),
     {"If-Modified-Since": "Sat, 01 Mar 2025 10:00:00 GMT"}),
    (FeedState(url="u", etag='W/"x"', last_modified="Sat, 01 Mar 2025 10:00:00 GMT"),
     {"If-None-Match": 'W/"x"', "If-Modified-Since": "Sat, 01 Mar 2025 10:00:00 GMT"}),
])
def test_request_headers_send_validators(state, expect):
    h = request_headers(state, settings())
    assert {k: v for k, v in h.items() if k.startswith("If-")} == expect
    assert h["Accept-Encoding"] == "gzip, deflate, br"
    assert "application/atom+xml" in h["Accept"] and "application/rss+xml" in h["Accept"]


@pytest.mark.parametrize("configured, expect", [
    ("", r"aggregator/\d+\.\d+\.\d+\S* \(\+https://github\.com/aggregator-project/aggregator\)"),
    ("  ", r"aggregator/\d+.*"),
    ("MyBot/2 (+mailto:me@example.org)", r"MyBot/2 \(\+mailto:me@example\.org\)"),
])
def test_user_agent(configured, expect):
    assert re.fullmatch(expect, request_headers(None, settings(user_agent=configured))["User-Agent"])


@pytest.mark.parametrize("state, expect", [
    (None, "http://a.test/feed"),
    (FeedState(url="http://a.test/feed"), "http://a.test/feed"),
    (FeedState(url="http://a.test/feed", current_url="http://b.test/new"), "http://b.test/new"),
    (FeedState(url="http://other.test/", current_url="http://b.test/new"), "http://a.test/feed"),
])
def test_request_url_prefers_adopted_redirect(state, expect):
    assert fetch.request_url(Source("http://a.test/feed"), state) == expect


# ----------------------------------------------------------------------------- real server: the good path


def test_conditional_get_sends_validators_and_gets_304(server):
    url = server.add("/feed.xml", hostile.rss(), headers={"Cache-Control": "public, max-age=900"})
    first = one(url)
    assert first.status == 200 and first.body == hostile.rss() and first.error is None
    assert first.etag and first.last_modified and first.max_age == 900

    state = FeedState(url=url, etag=first.etag, last_modified=first.last_modified)
    second = one(url, state)
    assert second.status == 304 and second.not_modified and second.body is None and second.error is None
    sent = server.requests[-1][1]
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == first.last_modified

    by_date = one(url, FeedState(url=url, last_modified=first.last_modified))
    assert by_date.status == 304


def test_user_agent_and_accept_reach_the_server(server):
    url = server.add("/ua", hostile.rss())
    one(url)
    sent = server.requests[-1][1]
    assert sent["user-agent"].startswith("aggregator/")
    assert "rss" in sent["accept"] and sent["accept-encoding"] == "gzip, deflate, br"
    one(url, s=settings(user_agent="Custom/1.0"))
    assert server.requests[-1][1]["user-agent"] == "Custom/1.0"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw", "br"])
def test_compressed_bodies_are_decoded(server, encoding):
    body = hostile.rss("compressed", items=50)
    r = one(server.add(f"/{encoding}", hostile.encoded(body, encoding)))
    assert r.error is None and r.body == body


@pytest.mark.parametrize("name, content_type", [
    ("text-plain", "text/plain"), ("html", "text/html; charset=utf-8"),
    ("cp1252", "application/rss+xml; charset=utf-8"),
])
def test_content_is_left_to_the_parser(server, name, content_type):
    urls = hostile.install_catalogue(server)
    r = one(urls[name])
    assert r.error is None and r.status == 200 and r.body
    assert r.headers["content-type"] == content_type
    if name == "cp1252":  # bytes pass through untouched: decoding is parse's job
        assert r.body == hostile.cp1252_as_utf8()


# ----------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("codes, permanent", [
    ([301], True), ([308], True), ([301, 308, 301], True),
    ([302], False), ([307], False), ([303], False), ([301, 302], False), ([302, 301], False),
])
def test_redirects_followed_and_permanent_only_for_301_308(server, codes, permanent):
    start = hostile.redirect_chain(server, "/chain", codes)
    final = server.url(f"/chain/{len(codes)}")
    r = one(start)
    assert r.error is None and r.status == 200 and r.body == hostile.rss("after redirects")
    assert r.requested_url == start and r.final_url == final
    assert r.permanent_redirect == (final if permanent else None)


def test_redirect_loop_is_reported(server):
    r = one(hostile.redirect_loop(server, "/loop", length=3))
    assert isinstance(r.error, TooManyRedirects)
    assert "redirect loop" in str(r.error) and str(r.error).startswith(server.url("/loop/0"))


def test_redirect_chain_longer_than_allowed(server):
    start = hostile.redirect_chain(server, "/long", [302] * 4)
    r = one(start, s=settings(max_redirects=3))
    assert isinstance(r.error, TooManyRedirects) and "more than 3 redirects" in str(r.error)
    assert one(start, s=settings(max_redirects=4)).error is None


# ----------------------------------------------------------------------------- status errors


def test_gone_is_feed_gone(server):
    r = one(server.add("/gone", hostile.gone()))
    assert isinstance(r.error, FeedGone) and r.status == 410 and r.body is None


def test_server_error(server):
    url = server.add("/500", hostile.server_error())
    r = one(url)
    assert isinstance(r.error, HTTPStatusError) and r.error.status == 500 and r.retry_after is None
    assert str(r.error) == f"{url}: HTTP 500 Internal Server Error"


@pytest.mark.parametrize("handler, code, delay", [
    (hostile.too_many("120"), 429, timedelta(seconds=120)),
    (hostile.too_many(formatdate(NOW.timestamp() + 7200, usegmt=True)), 429, timedelta(hours=2)),
    (hostile.unavailable("60"), 503, timedelta(seconds=60)),
])
def test_retry_after_both_forms(server, handler, code, delay):
    r = one(server.add(f"/busy-{code}-{delay.seconds}", handler))
    assert isinstance(r.error, HTTPStatusError) and r.error.status == code
    assert abs(r.retry_after - (NOW + delay)) < timedelta(seconds=5)  # seconds count from the answer


def test_503_without_retry_after(server):
    r = one(server.add("/down", hostile.unavailable(None)))
    assert r.error.status == 503 and r.retry_after is None


def test_same_host_feeds_are_deferred_after_429(server):
    server.add("/busy-host", hostile.too_many("300"))
    server.add("/host-feed", hostile.rss())
    transport = hostile.LoopbackTransport(server.port)
    jobs = [(Source("http://a.test/busy-host"), None), (Source("http://a.test/host-feed?1"), None),
            (Source("http://a.test/host-feed?2"), None), (Source("http://b.test/host-feed"), None)]
    rs = run(jobs, settings(concurrency=1, per_host=1), transport=transport)
    assert rs[0].status == 429 and not rs[0].deferred
    for r in rs[1:3]:
        assert r.deferred and r.retry_after == rs[0].retry_after and r.error is None and r.status is None
        assert r.deferred_by == 429
    assert rs[3].status == 200 and not rs[3].deferred
    assert server.hits["/host-feed"] == 1  # only b.test's request reached the server
    assert [r.source for r in rs] == [j[0] for j in jobs]


@pytest.mark.parametrize("retry_after", ["0", formatdate(NOW.timestamp() - 60, usegmt=True)])
def test_a_retry_after_already_past_defers_nothing(server, retry_after):
    server.add("/busy-host", hostile.too_many(retry_after))
    server.add("/host-feed", hostile.rss())
    transport = hostile.LoopbackTransport(server.port)
    jobs = [(Source("http://a.test/busy-host"), None), (Source("http://a.test/host-feed"), None)]
    rs = run(jobs, settings(concurrency=1, per_host=1), transport=transport)
    assert rs[0].status == 429 and not rs[1].deferred and rs[1].status == 200


# ----------------------------------------------------------------------------- limits


def test_drip_feed_times_out_on_total_deadline(server):
    url = server.add("/drip", hostile.drip(total=30))
    started = time.perf_counter()
    r = one(url, s=settings(timeout=1.0))
    took = time.perf_counter() - started
    assert isinstance(r.error, FetchTimeout) and "within 1s" in str(r.error)
    assert took < 3.0  # the drip would take 30 s; the margin is for a busy CI machine


@pytest.mark.parametrize("name, route", [
    ("gzip", lambda: hostile.gzip_bomb(1 << 30)),
    ("br", lambda: hostile.brotli_bomb(256 << 20)),
])
def test_bombs_are_cut_off_quickly_with_bounded_memory(server, name, route):
    url = server.add(f"/bomb-{name}", route())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        r = one(url, s=settings(max_body_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(r.error, BodyTooLarge) and "after decoding" in str(r.error)
    assert time.perf_counter() - started < 5
    assert peak < 8_000_000  # the decoded bomb is 256 MB to 1 GB; we hold about the limit


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_body(server, declare_length):
    r = one(server.add("/big", hostile.oversized(3_000_000, declare_length)), s=settings(max_body_bytes=1_000_000))
    assert isinstance(r.error, BodyTooLarge) and r.body is None


def test_body_at_the_limit_is_accepted(server):
    r = one(server.add("/exact", hostile.oversized(1_000_000, False)), s=settings(max_body_bytes=1_000_000))
    assert r.error is None and len(r.body) == 1_000_000


def test_empty_body_is_an_error(server):
    url = server.add("/empty", hostile.empty())
    r = one(url)
    assert type(r.error) is FetchError and str(r.error) == f"{url}: empty body (HTTP 200)"


def test_refused_connection_is_network_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = one(f"http://127.0.0.1:{port}/feed")
    assert isinstance(r.error, NetworkError) and r.status is None and str(r.error).startswith("http://127.0.0.1")


@pytest.mark.parametrize("per_host, concurrency, hosts, peak", [(2, 16, 1, 2), (1, 16, 1, 1), (2, 3, 2, 3)])
def test_per_host_and_overall_limits(server, per_host, concurrency, hosts, peak):
    overall = hostile.Gauge()
    gauges = {h: hostile.Gauge() for h in range(hosts)}
    for h, g in gauges.items():
        server.add(f"/slow{h}", _both(hostile.sleepy(0.2, g), overall))
    jobs = [(Source(f"http://h{h}.test/slow{h}?{i}"), None) for h in range(hosts) for i in range(5)]
    rs = run(jobs, settings(per_host=per_host, concurrency=concurrency),
             transport=hostile.LoopbackTransport(server.port))
    assert all(r.error is None for r in rs)
    assert all(g.peak <= per_host for g in gauges.values()) and overall.peak == peak


def _both(handler, gauge):
    def h(req):
        with gauge:
            handler(req)
    return h


# ----------------------------------------------------------------------------- local files


def test_local_file_source(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(hostile.rss("local"))
    r = run([(Source(path.as_uri(), path=path), None)])[0]
    assert r.status == 200 and r.body == hostile.rss("local") and r.error is None


@pytest.mark.parametrize("content, message", [(None, "cannot read local feed"), (b"", "empty file"),
                                               (b"x" * 2000, "over the 1000-byte limit")])
def test_local_file_errors_name_the_path(tmp_path, content, message):
    path = tmp_path / "feed.xml"
    if content is not None:
        path.write_bytes(content)
    r = run([(Source(path.as_uri(), path=path), None)], settings(max_body_bytes=1000))[0]
    assert isinstance(r.error, FetchError) and str(r.error).startswith(str(path)) and message in str(r.error)


# ----------------------------------------------------------------------------- MockTransport units


def mock(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def test_headers_parsed_into_result():
    def handler(request):
        return httpx.Response(200, content=b"<rss/>", headers={
            "ETag": '"v1"', "Last-Modified": "Sat, 01 Mar 2025 10:00:00 GMT",
            "Cache-Control": "max-age=600, must-revalidate", "Content-Type": "application/rss+xml"})
    r = one("http://x.test/f", transport=mock(handler))
    assert (r.etag, r.last_modified, r.max_age) == ('"v1"', "Sat, 01 Mar 2025 10:00:00 GMT", 600)
    assert r.headers["content-type"] == "application/rss+xml"


@pytest.mark.parametrize("response, error, text", [
    (httpx.Response(301, headers={"Location": "ftp://x.test/f"}), FetchError, "non-HTTP URL"),
    (httpx.Response(302), HTTPStatusError, "HTTP 302 Found without a Location"),
    (httpx.Response(404), HTTPStatusError, "HTTP 404 Not Found"),
    (httpx.Response(200, stream=httpx.ByteStream(b"\x1f\x8b garbage"), headers={"Content-Encoding": "gzip"}),
     FetchError, "invalid gzip data"),
    (httpx.Response(200, content=b" \n\t "), FetchError, "empty body"),
])
def test_bad_responses(response, error, text):
    r = one("http://x.test/f", transport=mock(lambda request: response))
    assert type(r.error) is error and text in str(r.error) and str(r.error).startswith("http://x.test/f: ")
    assert "\n" not in str(r.error)


@pytest.mark.parametrize("exc, error", [
    (httpx.ConnectError("refused"), NetworkError), (httpx.ReadError(""), NetworkError),
    (httpx.ReadTimeout("slow"), FetchTimeout), (RuntimeError("boom"), FetchError),
])
def test_transport_exceptions_become_fetch_errors(exc, error):
    def handler(request):
        raise exc
    r = one("http://x.test/f", transport=mock(handler))
    assert type(r.error) is error and str(r.error).startswith("http://x.test/f: ")


def test_relative_redirect_and_redirect_error_names_both_urls():
    def handler(request):
        if request.url.path == "/a/old":
            return httpx.Response(308, headers={"Location": "../new?x=1"})
        return httpx.Response(500)
    r = one("http://x.test/a/old", transport=mock(handler))
    assert r.final_url == "http://x.test/new?x=1" and r.permanent_redirect == "http://x.test/new?x=1"
    assert str(r.error) == "http://x.test/a/old: HTTP 500 Internal Server Error (redirected to http://x.test/new?x=1)"


def test_order_callback_and_client_ownership():
    seen = []

    async def slow_first(request):
        if request.url.path == "/0":
            await asyncio.sleep(0.1)
        return httpx.Response(200, content=request.url.path.encode())

    client = httpx.AsyncClient(transport=httpx.MockTransport(slow_first))
    jobs = [(Source(f"http://h{i}.test/{i}"), None) for i in range(5)]

    async def go():
        rs = await fetch_all(jobs, settings(), client=client, now=NOW, on_result=seen.append)
        assert not client.is_closed  # a client passed in is the caller's to close
        await client.aclose()
        return rs

    rs = asyncio.run(go())
    assert [r.body for r in rs] == [f"/{i}".encode() for i in range(5)]
    assert sorted(r.body for r in seen) == [r.body for r in rs] and seen[-1].body == b"/0"


def test_one_failure_does_not_stop_the_others():
    def handler(request):
        if request.url.host == "bad.test":
            raise httpx.ConnectError("no route")
        return httpx.Response(200, content=b"<rss/>")
    rs = run([(Source("http://bad.test/"), None), (Source("http://good.test/"), None)], transport=mock(handler))
    assert isinstance(rs[0].error, NetworkError) and rs[1].error is None


# ----------------------------------------------------------------------------- the mixed batch


def test_fifty_healthy_and_ten_hostile_feeds_finish_in_time(server):
    transport = hostile.LoopbackTransport(server.port)
    for i in range(50):
        server.add(f"/ok/{i}", hostile.rss(f"feed {i}", items=20))
    healthy = [(Source(f"http://site{i % 10}.test/ok/{i}"), None) for i in range(50)]
    urls = hostile.install_catalogue(server)
    names = ["drip", "error500", "429-seconds", "503", "gone", "gzip-bomb", "oversized", "empty", "loop",
             "302-chain"]
    bad = [(Source(urls[n].replace(f"127.0.0.1:{server.port}", f"{n}.test")), None) for n in names]
    started = time.perf_counter()
    rs = run(healthy[:25] + bad + healthy[25:], settings(timeout=2.0), transport=transport)
    took = time.perf_counter() - started
    assert took < 15
    ok = rs[:25] + rs[35:]
    assert all(r.error is None and r.status == 200 and r.body for r in ok)
    assert [type(r.error).__name__ for r in rs[25:35]] == [
        "FetchTimeout", "HTTPStatusError", "HTTPStatusError", "HTTPStatusError", "FeedGone", "BodyTooLarge",
        "BodyTooLarge", "FetchError", "TooManyRedirects", "NoneType"]


def test_a_job_that_admit_declines_is_not_requested(server) -> None:
    """fetch_all asks admit() right before each request (pollers sharing a store claim feeds then)."""
    urls = [server.add(f"/admit{i}.xml", "<rss/>") for i in range(4)]
    asked: list[str] = []

    def admit(source: Source) -> bool:
        asked.append(source.url)
        return not source.url.endswith(("/admit1.xml", "/admit3.xml"))

    settings = Settings(config_path=Path("x"), store=Path("s"), output_dir=Path("o"))
    results = asyncio.run(fetch_all([(Source(url=u), None) for u in urls], settings,
                                    now=datetime.now(timezone.utc), admit=admit))
    assert sorted(asked) == sorted(urls)
    assert [r.declined for r in results] == [False, True, False, True]
    assert [r.status for r in results] == [200, None, 200, None]
    assert [server.hits[f"/admit{i}.xml"] for i in range(4)] == [1, 0, 1, 0]
