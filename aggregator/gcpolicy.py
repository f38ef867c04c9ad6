"""When the cyclic garbage collector runs: not over the big, long-lived structures of a run.

A run builds a few large structures that live until it ends: the store's item heads
(100k at N=2000) and the near-duplicate index over them. CPython's collector visits
every tracked object at each full collection, and triggers one whenever the heap has
grown by a quarter: building those structures set off a dozen full collections, each
rescanning everything built so far. Measured on a warm poll at N=2000: 1.5-3.4 s in
the near-duplicate index and up to 1 s in the store load, against 0.6 s and 0.7 s
without collections (issue 8).

:func:`long_lived` pauses the collector while such a structure is built, then
``gc.freeze()``-s what exists (a constant-time move to the permanent generation), so
later collections skip it. Frozen objects are still freed by reference counting; only
a reference cycle among them would outlive the run, and a cron run ends soon anyway.

A cold poll grows the heap by a million tracked objects (100k items and their
records): 11 full collections took 4.4 s of a 33 s cold poll at N=2000.
:func:`one_run` keeps the young collections (which free the short-lived cycles of
HTTP and asyncio) and defers the full ones to the end of the run.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """No collection during the block (a burst of allocations that all stay alive)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def long_lived() -> Iterator[None]:
    """Build something big that lives until the run ends: no collection meanwhile, and
    no collection ever rescans it (nor anything else alive at the end of the block)."""
    with paused():
        yield
        gc.freeze()


@contextmanager
def one_run() -> Iterator[None]:
    """A run: young generations collected as usual, no full collection until it ends."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 1 << 30)  # a full collection after 2**30 middle ones: never
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
