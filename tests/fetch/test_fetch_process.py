"""fetch/process.py: a poll's requests in a child process, over real HTTP on 127.0.0.1.

The child must give exactly what ``fetch_all`` gives here, each job once; and when it dies
half way, the jobs it sent nothing for are polled here, still politely.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from feedserver import FeedServer, send
from aggregator.fetch import process as fetch_process
from aggregator.fetch.poll import fetch_all
from aggregator.fetch.process import FetchProcess, worth_a_process
from aggregator.records import FeedState, Settings, Source

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
FORK = "fork" in multiprocessing.get_all_start_methods()


def settings(**kw) -> Settings:
    base = dict(config_path=Path("feeds.yaml"), store=Path("store.json"), output_dir=Path("out"),
                timeout=5.0, max_body_bytes=100_000, per_host=2)
    base.update(kw)
    return Settings(**base)


def comparable(result):
    """What a result says, without what differs between two polls of one server (timings)."""
    error = result.error
    return (result.source, result.requested_url, result.final_url, result.status, result.body, result.etag,
            result.last_modified, result.permanent_redirect, result.max_age, result.deferred, result.declined,
            type(error).__name__ if error else None, str(error) if error else None)


def drain(fetcher: FetchProcess) -> list:
    out = []
    while (res := fetcher.next()) is not None:
        out.append(res)
        out += fetcher.ready()
    return out


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


def routes(server: FeedServer) -> list[tuple[Source, FeedState | None]]:
    """Feeds that answer 200, 304, 404, a redirect, a body too large and a dead port."""
    jobs = []
    for i in range(6):
        server.add(f"/ok{i}.xml", f"<rss><channel><title>{i}</title></channel></rss>".encode())
        jobs.append((Source(server.url(f"/ok{i}.xml")), None))
    server.add("/same.xml", b"<rss><channel><title>same</title></channel></rss>")
    etag = server.routes["/same.xml"].etag
    jobs.append((Source(server.url("/same.xml")), FeedState(url=server.url("/same.xml"), etag=etag)))
    jobs.append((Source(server.url("/missing.xml")), None))
    server.add("/moved", lambda req: send(req, 301, headers={"Location": server.url("/ok0.xml")}))
    jobs.append((Source(server.url("/moved")), None))
    server.add("/big.xml", b"x" * 200_000, gzip=False)
    jobs.append((Source(server.url("/big.xml")), None))
    jobs.append((Source("http://127.0.0.1:9/closed.xml"), None))
    return jobs


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_the_child_gives_what_fetch_all_gives_here(server: FeedServer, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    jobs, s = routes(server), settings()
    here: list = []
    asyncio.run(fetch_all(jobs, s, now=NOW, on_result=here.append, bodies=False))
    with FetchProcess(jobs, s, now=NOW, context=multiprocessing.get_context(method)) as fetcher:
        there = drain(fetcher)
    assert fetcher.failure is None
    assert sorted(map(comparable, there), key=repr) == sorted(map(comparable, here), key=repr)
    assert {r.status for r in there} >= {200, 304, 404}
    assert [r.permanent_redirect for r in there if r.permanent_redirect] == [server.url("/ok0.xml")]
    assert sum(r.error is not None for r in there) == 3  # 404, too large, refused


def _dies_after_two(jobs, settings, now, out, parent, taken):
    """A child that polls two jobs, sends their results, and dies without a word."""
    asyncio.run(fetch_all(jobs[:2], settings, now=now, on_result=out.put, bodies=False))
    out.close()
    out.join_thread()
    os._exit(9)


@pytest.mark.skipif(not FORK, reason="the stand-in child reaches the process through fork only")
def test_a_dead_child_costs_no_feed(server: FeedServer, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    jobs = routes(server)
    monkeypatch.setattr(fetch_process, "_child", _dies_after_two)
    with FetchProcess(jobs, settings(), now=NOW, context=multiprocessing.get_context("fork")) as fetcher:
        got = drain(fetcher)
    assert fetcher.failure is not None and "exit code 9" in fetcher.failure
    assert sorted(r.source.key for r in got) == sorted(source.key for source, _ in jobs)  # each once
    assert server.hits["/ok0.xml"] >= 1 and server.hits["/ok5.xml"] == 1  # polled here, once
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warned == [f"the fetch process failed (exit code 9): "
                      f"{len(jobs) - 2} feeds are polled in the main process instead"]


@pytest.mark.skipif(not FORK, reason="the stand-in child reaches the process through fork only")
def test_after_a_dead_child_a_host_that_asked_to_wait_is_not_asked_again(
        server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.add("/busy", lambda req: send(req, 429, headers={"Retry-After": "3600"}))
    for i in range(3):
        server.add(f"/later{i}.xml", b"<rss><channel><title>later</title></channel></rss>")
    jobs = [(Source(server.url("/busy")), None), (Source(server.url("/later0.xml")), None)] + \
        [(Source(server.url(f"/later{i}.xml")), None) for i in (1, 2)]
    monkeypatch.setattr(fetch_process, "_child", _dies_after_two)
    fork = multiprocessing.get_context("fork")
    with FetchProcess(jobs, settings(per_host=1), now=NOW, context=fork) as fetcher:
        got = {r.source.key: r for r in drain(fetcher)}
    assert got[server.url("/busy")].status == 429
    assert all(got[server.url(f"/later{i}.xml")].deferred for i in (1, 2))  # told to wait: not requested
    assert server.hits["/later1.xml"] == server.hits["/later2.xml"] == 0


def test_closing_early_stops_the_child(server: FeedServer) -> None:
    server.add("/slow", lambda req: (__import__("time").sleep(2), send(req, 200, b"<rss/>")))
    jobs = [(Source(server.url("/slow")), None)]
    with FetchProcess(jobs, settings(), now=NOW) as fetcher:
        proc = fetcher._proc
    assert not proc.is_alive() and proc.exitcode is not None  # terminated, not waited for


@pytest.mark.parametrize("jobs, workers, expect", [
    (fetch_process.MIN_JOBS, 0, True),
    (fetch_process.MIN_JOBS - 1, 0, False),  # the child's start-up would cost more than it overlaps
    (10_000, 2, True),
    (10_000, 1, False),  # parse_workers: 1 asks for one process in all
])
def test_worth_a_process(jobs: int, workers: int, expect: bool) -> None:
    assert worth_a_process(jobs, workers) is expect


PACED = b"<rss><channel><title>paced</title></channel></rss>"


def paced_poll(jobs: list, ahead: int, per_host: int = 1) -> tuple[int, int, int]:
    """Results got while nothing is taken, then after three are taken, then after all."""
    taken = multiprocessing.get_context().RawValue("q", 0)

    async def poll() -> tuple[int, int, int]:
        got: list = []
        pace = fetch_process._Pace(taken, ahead=ahead)

        def sent(result) -> None:  # as the child sends them
            pace.sent(result)
            got.append(result)
        task = asyncio.ensure_future(fetch_all(jobs, settings(per_host=per_host), now=NOW, on_result=sent,
                                               pace=pace))
        await asyncio.sleep(0.5)
        held = len(got)
        taken.value = 3  # the caller took three
        await asyncio.sleep(0.5)
        again = len(got)
        taken.value = len(jobs)  # and the rest
        await asyncio.wait_for(task, timeout=10)
        return held, again, len(got)

    return asyncio.run(poll())


def test_the_child_starts_no_request_while_the_bodies_not_taken_reach_the_limit(server: FeedServer) -> None:
    """Memory proportional to the work: a caller that takes nothing holds the requests back."""
    for i in range(8):
        server.add(f"/paced{i}.xml", PACED)
    jobs = [(Source(server.url(f"/paced{i}.xml")), None) for i in range(8)]
    # One request at a time; three bodies not taken hold the fourth request back.
    assert paced_poll(jobs, ahead=3 * len(PACED)) == (3, 6, 8)
    assert sum(server.hits[f"/paced{i}.xml"] for i in range(8)) == 8


def test_answers_without_a_body_do_not_hold_the_child(server: FeedServer) -> None:
    """A warm poll's 304s hold no memory: they go on while the caller takes nothing."""
    jobs = []
    for i in range(8):
        server.add(f"/same{i}.xml", PACED)
        url = server.url(f"/same{i}.xml")
        jobs.append((Source(url), FeedState(url=url, etag=server.routes[f"/same{i}.xml"].etag)))
    jobs.append((Source(server.url("/gone.xml")), None))  # a 404: no body either
    assert paced_poll(jobs, ahead=1) == (9, 9, 9)


def test_ready_takes_at_most_its_limit_of_bodies(server: FeedServer) -> None:
    for i in range(5):
        server.add(f"/lim{i}.xml", b"<rss><channel><title>lim</title></channel></rss>")
    jobs = [(Source(server.url(f"/lim{i}.xml")), None) for i in range(5)]
    with FetchProcess(jobs, settings(), now=NOW) as fetcher:
        first = fetcher.next()
        time.sleep(0.5)  # the other four are here by now
        two = fetcher.ready(2)
        rest = drain(fetcher)
    assert first is not None and len(two) == 2 and len(rest) == 2
    assert {r.source.key for r in [first, *two, *rest]} == {job[0].key for job in jobs}


def test_ready_takes_every_result_without_a_body_and_keeps_the_body_beyond_its_limit(server: FeedServer) -> None:
    """Results come in the order they finished: with per_host 1 on one host, the jobs' order."""
    jobs = []
    for i in range(3):
        server.add(f"/kept{i}.xml", PACED)
        url = server.url(f"/kept{i}.xml")
        jobs.append((Source(url), FeedState(url=url, etag=server.routes[f"/kept{i}.xml"].etag)))  # 304
    server.add("/body.xml", PACED)
    jobs.append((Source(server.url("/body.xml")), None))  # 200, with its body
    jobs.append((Source(server.url("/kept0.xml")), FeedState(url=server.url("/kept0.xml"), etag='"old"')))  # 200
    with FetchProcess(jobs, settings(per_host=1), now=NOW) as fetcher:
        first = fetcher.next()
        time.sleep(0.5)  # the others are here by now
        none = fetcher.ready(0)
        one = fetcher.ready(1)
        rest = drain(fetcher)
    assert first.status == 304 and [r.status for r in none] == [304, 304]  # all but bodies
    assert [(r.status, r.source.key) for r in one] == [(200, server.url("/body.xml"))]  # the one it kept
    assert [r.status for r in rest] == [200] and rest[0].body == PACED
