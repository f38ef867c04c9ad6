"""A large poll's requests in a process of their own, beside the one that merges.

Why: requests and merging are both Python. In one process they take turns: the caller
merges inside the callback that hands it each result, and while it merges, no request
goes out and no response is read. A warm poll at N = 2000 spends about as long on its
2,000 conditional requests as on loading, indexing and merging the store. In a process
of its own, the requests go on, on the other core, while this process merges.

Nothing about the requests changes: the child runs the same :func:`~.poll.fetch_all`,
with its politeness and limits (a client per host, per-host and overall concurrency, a
host that asked us to wait is not asked again), and sends each FetchResult back as it
finishes; a queue's feeder thread sends them, so the child's event loop never waits on
this process. The caller reads them in the order they finished (:meth:`FetchProcess.next`,
:meth:`FetchProcess.ready`).

Memory stays proportional to the work: the child starts no request while it holds
AHEAD_BYTES of bodies the caller has not taken yet, and a caller that merges slower than
the child fetches takes only the bodies it can use (``ready(limit)``). Without that, a cold
poll would hold every body of the run at once, in one process or the other. An answer
without a body (a 304, an error) costs nothing to hold: a warm poll's 304s go on while the
caller reads and indexes the store.

If the child dies (the OOM killer, a bug), the feeds it sent nothing for are polled here,
by the same rules, knowing what the results so far said of their hosts: the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import queue as queues
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterator, Sequence

from .. import processes
from ..records import FetchResult, Settings
from .poll import Job, fetch_all
from .schedule import RETRY_STATUSES

log = logging.getLogger("aggregator.fetch")
# Below this, the child's start-up costs about what it overlaps. Warm polls (20 % changed), fresh
# process each, six rounds alternating with and without the child, medians: N = 40 0.35 s
# against 0.30 s; N = 100 0.40 s either way; N = 200 0.75 s against 0.89 s; N = 500 (four
# rounds) 1.12 s against 1.22 s.
MIN_JOBS = 200
POLL_SECONDS = 0.5  # how often a wait for the next result checks that the child lives
AHEAD = 256  # feeds the caller holds sent to its parsers and not merged yet (pipeline/flow.py)
# Bodies the child may hold that the caller has not taken: ~1,000 feeds of 60 KB. A warm poll at
# N = 2000 (400 bodies, 1,600 304s), eight rounds alternating, medians: 3.51 s when the child
# held at most 256 results of any kind (it stopped while the caller read the store), 2.84 s
# with this; 2.79 s with AHEAD at 1,024 too, so AHEAD stays. Cold, N = 2000, three rounds: 0.44x
# the floor against 0.47x (median), the caller's peak 920 MB either way, the largest child's
# (this one or a parser) 88-99 MB from 69-70 MB.
AHEAD_BYTES = 64 << 20
PACE_SECONDS = 0.005  # how often a request held back looks again


@dataclass(frozen=True)
class _End:
    """The child's last message: fetch_all returned (*error* None) or raised."""
    error: str | None = None


def worth_a_process(n_jobs: int, workers: int) -> bool:
    """Whether a poll of *n_jobs* feeds sends its requests from a process of its own.
    *workers*: the parser processes setting; 1 asks for one process in all."""
    return n_jobs >= MIN_JOBS and workers != 1


class _Pace:
    """Awaited by the child before each request: holds it while the bodies sent and not yet
    taken by the parent come to *ahead* bytes. *taken*: a shared counter of the results the
    parent took, which only the parent writes; it takes them in the order ``sent`` saw them
    (one queue). Requests in flight are few (fetch_all's limits) and not counted."""

    def __init__(self, taken: Any, ahead: int = AHEAD_BYTES):
        self.taken, self.ahead = taken, ahead
        self._sent = [0]  # for each k: the bytes of body in the first k results sent

    def sent(self, result: FetchResult) -> None:
        """Note a result on its way to the parent."""
        self._sent.append(self._sent[-1] + len(result.body or b""))

    def held(self) -> int:
        """The bytes of body sent and not taken."""
        sent = len(self._sent) - 1
        return self._sent[sent] - self._sent[min(self.taken.value, sent)]

    async def __call__(self) -> None:
        while self.held() >= self.ahead:
            await asyncio.sleep(PACE_SECONDS)


def _child(jobs: Sequence[Job], settings: Settings, now: datetime, out: Any, parent: int, taken: Any) -> None:
    """The child's whole life: poll every job, put each result on *out*, then an _End."""
    processes.die_with_parent(parent)
    pace = _Pace(taken)

    def send(result: FetchResult) -> None:
        pace.sent(result)
        out.put(result)
    try:
        asyncio.run(fetch_all(jobs, settings, now=now, on_result=send, bodies=False, pace=pace))
    except BaseException as exc:  # noqa: BLE001 - told to the parent, which polls what is left
        out.put(_End(f"{type(exc).__name__}: {exc}"))
    else:
        out.put(_End())
    out.close()
    out.join_thread()  # every result written to the pipe before the child exits


class FetchProcess:
    """The requests of *jobs* in a child process; their results, here, as they come::

        with FetchProcess(jobs, settings, now=now) as fetcher:
            while (result := fetcher.next()) is not None:   # waits for one
                ...
                for other in fetcher.ready():                 # those there already, no waiting
                    ...
    """

    def __init__(self, jobs: Sequence[Job], settings: Settings, *, now: datetime, context: Any = None):
        self.jobs, self.settings, self.now = list(jobs), settings, now
        ctx = context or processes.context()
        self._queue = ctx.Queue()
        self._taken = ctx.RawValue("q", 0)  # results taken here: the child paces its requests by it
        self._proc = ctx.Process(target=_child, name="aggregator-fetch", daemon=True,
                                 args=(self.jobs, settings, now, self._queue, processes.parent_for(ctx),
                                       self._taken))
        self._got: set[str] = set()  # source keys with a result: each job once
        self._early: Any = None  # a message read from the queue beyond ready()'s limit: the next one
        self._waits: list[FetchResult] = []  # the results a host's wish to be left alone may be in
        self._left: Iterator[FetchResult] | None = None  # results polled here, after the child died
        self.failure: str | None = None  # why the child ended early, if it did
        self._ended = False

    def __enter__(self) -> "FetchProcess":
        self._proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.is_alive():  # the caller stopped early (an error): no more requests
            self._proc.terminate()
        self._proc.join()
        self._queue.close()

    def next(self) -> FetchResult | None:
        """The next result, waiting for it; None when every job has one."""
        while not self._ended:
            try:
                message = self._pop_early() or self._queue.get(timeout=POLL_SECONDS)
            except queues.Empty:
                if self._proc.exitcode is None:
                    continue
                try:  # it ended: what it put last may still be in the pipe
                    message = self._queue.get(timeout=POLL_SECONDS)
                except queues.Empty:
                    message = _End(f"exit code {self._proc.exitcode}")
            found = self._take(message)
            if found is not None:
                return found
        return self._here()

    def ready(self, limit: int | None = None) -> list[FetchResult]:
        """The results already here, without waiting: at most *limit* with a body, and every
        one before the next body beyond it (a result without a body holds no memory)."""
        out: list[FetchResult] = []
        bodies = 0
        while not self._ended:
            try:
                message = self._pop_early() or self._queue.get_nowait()
            except queues.Empty:
                break
            if getattr(message, "body", None) is not None:
                if limit is not None and bodies >= limit:
                    self._early = message  # the first thing next() or ready() hands out
                    break
                bodies += 1
            found = self._take(message)
            if found is not None:
                out.append(found)
        return out

    def _pop_early(self) -> Any:
        message, self._early = self._early, None
        return message

    def _take(self, message: Any) -> FetchResult | None:
        if isinstance(message, _End):
            self._ended = True
            self.failure = message.error
            return None
        self._got.add(message.source.key)
        if message.status in RETRY_STATUSES or message.deferred:  # bodies are not kept here
            self._waits.append(replace(message, body=None) if message.body is not None else message)
        self._taken.value += 1
        return message

    def _here(self) -> FetchResult | None:
        """After the child ended: the jobs it sent nothing for (none, unless it died), polled here."""
        if self._left is None:
            left = [job for job in self.jobs if job[0].key not in self._got]
            if left:  # one line on stderr: the run goes on, slower
                log.warning("the fetch process failed (%s): %d feeds are polled in the main process instead",
                            self.failure or "it sent no result for them", len(left))
            self._left = iter(_poll_here(left, self.settings, self.now, self._waits) if left else [])
        return next(self._left, None)


def _poll_here(jobs: list[Job], settings: Settings, now: datetime,
               known: list[FetchResult]) -> list[FetchResult]:
    results: list[FetchResult] = []
    asyncio.run(fetch_all(jobs, settings, now=now, on_result=results.append, bodies=False, known=known))
    return results


