"""Helper processes: how this program starts them, and how they end with it.

Two stages run work in processes of their own: ``parse`` (the parser processes) and
``fetch`` (the HTTP polls of a large run, in one process beside the one that merges).
Both start them the same way, for the same reasons (:func:`start_method`), and both
make them end when the process that started them dies, even by ``kill -9``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import threading
from typing import Any, Sequence

FORK_MAX_RSS = 512 << 20  # a process with a larger peak resident size starts helpers from a forkserver


def start_method(threads: int, methods: Sequence[str], rss: int = 0) -> str:
    """fork when this process runs one thread and is small (peak resident size *rss* under
    FORK_MAX_RSS): the fastest start, and it never re-imports the caller's ``__main__``.
    With threads (httpx, asyncio's resolver pool) a fork can copy a held lock into the child;
    from a large process it costs the page tables, and a copy of every page this process
    writes while the children live: forkserver forks from a clean, small server instead."""
    if threads <= 1 and rss < FORK_MAX_RSS and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the system has one (Linux: a
    container's cpuset, ``taskset``), else every CPU. ``os.cpu_count()`` counts the host's,
    so a poller confined to 2 of 64 CPUs would start 64 parser processes of ~100 MB each to
    share those 2 (CPU quotas, which no mask shows, are not seen either way)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(1, len(affinity(0)))
        except OSError:
            pass
    return os.cpu_count() or 1


def peak_rss() -> int:
    """This process's peak resident size in bytes (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def context() -> Any:
    """The multiprocessing context to start helpers with, now (see :func:`start_method`)."""
    method = start_method(threading.active_count(), multiprocessing.get_all_start_methods(), peak_rss())
    return multiprocessing.get_context(method)


def die_with_parent(parent: int) -> None:
    """Called first thing in a helper: it ends when the process that started it (*parent*; -1
    when that is a forkserver, which ends with us) dies, even by ``kill -9`` (Linux:
    PR_SET_PDEATHSIG), instead of living on as an orphan that holds its memory and every
    descriptor it inherited (a database connection among them)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: orphans remain possible there
        return
    if parent > 0 and os.getppid() != parent:  # it died before the prctl
        os._exit(0)


def parent_for(ctx: Any) -> int:
    """What a helper started with *ctx* passes to :func:`die_with_parent`: our pid when it is
    our child (fork), else -1 (a forkserver's children are the server's, not ours)."""
    return os.getpid() if ctx.get_start_method() == "fork" else -1
