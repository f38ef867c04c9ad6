"""Where a run's wall time goes, stage by stage: what ``RunReport.stages`` holds.

Fetching, parsing and merging overlap (each feed is merged while others are still
being fetched), so a run's stages are not consecutive. :class:`Stopwatch` charges
each moment to the innermost stage open at that moment: the time spent merging a
feed inside the fetch loop's callback counts as ``merge``, not as ``fetch``. The
figures therefore add up to the run's duration, and a gain in one stage shows
whatever the others cost. Measuring is a ``perf_counter`` call at each boundary.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

# The stages a run reports, in the order they are printed (the benchmark prints them).
STAGES = ("store load", "fetch", "parse", "index", "merge", "tag", "state", "upkeep", "store save",
          "publish", "other")


class Stopwatch:
    """Wall time per stage, each moment charged to the innermost open stage."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._started = clock()
        self._totals: dict[str, float] = {}
        self._open: list[str] = []
        self._since = self._started

    def _charge(self, now: float) -> None:
        if self._open:
            name = self._open[-1]
            self._totals[name] = self._totals.get(name, 0.0) + (now - self._since)
        self._since = now

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Charge the time inside the block to *name* (minus the stages opened within it)."""
        self._charge(self._clock())
        self._open.append(name)
        try:
            yield
        finally:
            self._charge(self._clock())
            self._open.pop()

    def totals(self) -> tuple[tuple[str, float], ...]:
        """(stage, seconds) for every stage that took time, ``other`` for the rest of the run."""
        elapsed = self._clock() - self._started
        known = {name: secs for name, secs in self._totals.items() if secs > 0}
        other = elapsed - sum(known.values())
        if other > 0:
            known["other"] = known.get("other", 0.0) + other
        order = {name: n for n, name in enumerate(STAGES)}
        return tuple(sorted(known.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
