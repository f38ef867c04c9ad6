"""Many feeds at once: the parser processes, and when they pay.

A feed never parsed before costs feedparser every item (~20 ms): it goes to a parser process
as soon as its body arrives. A feed parsed before costs ~3.5 ms (its known items cut out), about
what a trip to a process costs this one; but a warm poll of many feeds is CPU-bound in this
process (fetching, merging, tagging) while another core idles. So a poll parses the first
KNOWN_HERE of those here (one where few feeds changed starts no process) and sends the rest to
the pool (:func:`worth_a_process`). Warm polls at N = 2000, 400 feeds changed: 4.1 s against
4.8 s with all of them parsed here (in a process that ran a cold poll before), 4.4 s against
4.8 s in a fresh process.

The processes fork from this one while it is small. A fork of a large process (a cold poll at
N = 2000 before, 1 GB) copies its page tables, then every page it writes while the children
live: that cost the warm poll more than the pool saved. Past ``processes.FORK_MAX_RSS`` they
fork from a small forkserver instead (:func:`aggregator.processes.start_method`); a cron run at
N = 2000 starts its pool at about 300 MB.

A pool may be given a *prepare* step, run in the parser process on each feed it parsed: more
of the pure, per-entry work (the pipeline's: tagging each entry's text) done on the other
cores, while this process merges. It must be picklable (a forkserver's workers get a copy) and
is set once per process, not sent with every job. A step that fails leaves the feed as parsed.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from .. import processes
from ..errors import ParseError
from ..records import ParsedFeed
from . import feeds
from .feeds import ParseJob

MIN_POOL_JOBS = 8  # below this, or below MIN_POOL_BYTES, starting processes costs more than it saves
MIN_POOL_BYTES = 512_000
CHUNKS_PER_WORKER = 4  # a few chunks each: small IPC overhead, still balanced
KNOWN_HERE = 32  # feeds parsed before that a poll parses here before it sends them to the pool


@dataclass(frozen=True)
class _Failure:
    """A ParseError in transit: its two-argument __init__ does not survive pickling."""
    url: str
    message: str


def parse_job(job: ParseJob) -> ParsedFeed | ParseError:
    try:
        # Through the module: a test's spy on parse.feeds.parse sees every parse.
        return feeds.parse(job.body, url=job.url, headers=job.headers, key=job.key, skip=job.skip)
    except ParseError as exc:
        return exc


Prepare = Callable[[ParsedFeed], ParsedFeed]
_prepare: Prepare | None = None  # this parser process's prepare step (set by _start_worker)


def _parse_chunk(jobs: Sequence[ParseJob]) -> list[ParsedFeed | _Failure]:
    """Top level, so a spawned or forkserver worker can unpickle it."""
    out: list[ParsedFeed | _Failure] = []
    for job in jobs:
        r = parse_job(job)
        out.append(_Failure(r.url, r.message) if isinstance(r, ParseError) else _prepared(r))
    return out


def _prepared(parsed: ParsedFeed) -> ParsedFeed:
    if _prepare is None or not parsed.entries:
        return parsed
    try:
        return _prepare(parsed)
    except Exception:  # noqa: BLE001 - only a head start: the caller does that work itself
        return parsed


def pool_size(n_jobs: int, total_bytes: int, workers: int, cpus: int | None) -> int:
    """Processes to use; 1 means parse in this process. ``workers`` 0 = one per CPU it may use."""
    if workers == 0:
        workers = cpus or 1
    workers = min(workers, n_jobs)
    if workers <= 1 or n_jobs < MIN_POOL_JOBS or total_bytes < MIN_POOL_BYTES:
        return 1
    return workers


def worth_a_process(job: ParseJob, known_here: int = 0) -> bool:
    """Whether *job* goes to a parser process: a feed never parsed, always; a feed parsed
    before, once *known_here* such feeds were parsed here in this poll (KNOWN_HERE)."""
    return not job.skip or known_here >= KNOWN_HERE


def chunked(jobs: Sequence[ParseJob], workers: int) -> list[list[ParseJob]]:
    """Consecutive runs of jobs, about CHUNKS_PER_WORKER per worker, order kept."""
    size = max(1, math.ceil(len(jobs) / (workers * CHUNKS_PER_WORKER)))
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]


def _start_worker(parent: int, prepare: Prepare | None) -> None:
    """Pool initializer: the prepare step, and the end of the worker with its parent."""
    global _prepare
    _prepare = prepare
    processes.die_with_parent(parent)


def _context() -> Any:
    return processes.context()


def parse_many(jobs: Sequence[ParseJob], workers: int) -> list[ParsedFeed | ParseError]:
    """Parse every job; results in job order, a ParseError in place of each failed feed."""
    jobs = list(jobs)
    n = pool_size(len(jobs), sum(len(j.body) for j in jobs), workers, processes.usable_cpus())
    if n <= 1:
        return [parse_job(j) for j in jobs]
    with ParsePool(n) as pool:
        return pool.map(jobs)


class ParsePool:
    """Parser processes kept across calls, so jobs can be sent as fetch results arrive::

        with ParsePool(workers=0) as pool:          # 0 = one per usable CPU, 1 = here
            future = pool.submit(job)               # Future[ParsedFeed | ParseError]
            results = pool.map(more_jobs)           # in job order

    A future never raises: a feed that fails, or whose worker process dies, gives a
    ParseError. A dead worker breaks a ProcessPoolExecutor for good, so the next submit
    starts a fresh one. Processes start on the first submit, not before.
    """

    def __init__(self, workers: int = 0, cpus: int | None = None, prepare: Prepare | None = None):
        self.workers = workers or (cpus if cpus is not None else processes.usable_cpus()) or 1
        self.prepare = prepare  # run in the parser processes on each feed they parse (not here)
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def submit(self, job: ParseJob, *, here: bool = False) -> "Future[ParsedFeed | ParseError]":
        return self._submit_chunk([job], lambda results: results[0], here)

    def map(self, jobs: Iterable[ParseJob]) -> list[ParsedFeed | ParseError]:
        """Parse every job; results in job order. Consecutive jobs travel in chunks."""
        jobs = list(jobs)
        if self.workers <= 1:
            return [parse_job(j) for j in jobs]
        futures = [self._submit_chunk(c, list) for c in chunked(jobs, self.workers)]
        return [r for f in futures for r in f.result()]

    def _submit_chunk(self, jobs: list[ParseJob], shape: Any, here: bool = False) -> Future:
        """*jobs* in a parser process (*here*, or with one worker: in this one, done on return)."""
        out: Future = Future()
        if self.workers <= 1 or here:
            out.set_result(shape([parse_job(j) for j in jobs]))
            return out
        try:
            inner = self._pool().submit(_parse_chunk, jobs)
        except BrokenProcessPool:  # a worker died earlier: start afresh once
            self.close()
            inner = self._pool().submit(_parse_chunk, jobs)

        def done(f: Future) -> None:
            try:
                results = [ParseError(r.url, r.message) if isinstance(r, _Failure) else r for r in f.result()]
            except Exception as exc:  # noqa: BLE001 - a dead worker fails its feeds, not the run
                results = [ParseError(j.key, f"parser process failed: {type(exc).__name__}: {exc}")
                           for j in jobs]
            out.set_result(shape(results))

        inner.add_done_callback(done)
        return out

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            ctx = _context()
            # A forkserver's workers are its children, not ours; it ends when we do.
            parent = processes.parent_for(ctx)
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                                 initializer=_start_worker, initargs=(parent, self.prepare))
        return self._executor
