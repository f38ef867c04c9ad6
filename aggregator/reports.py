"""What a run tells its caller: one outcome per feed, what was published, and the totals.

The pipeline builds these; the CLI formats them (the one-line summary, ``run --json``)
and ``publish.health`` turns them into metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FeedOutcome:
    url: str
    status: str  # "fetched" | "not_modified" | "unchanged" | "failed" | "deferred" | "skipped" | "gone"
    #               | "claimed" (due, but polled by another poller sharing the store)
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    error: str | None = None
    redirected_to: str | None = None  # an adopted permanent redirect


@dataclass(frozen=True)
class PublishReport:
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    topics_rendered: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[FeedOutcome, ...] = ()
    new_items: int = 0
    updated_items: int = 0
    pruned_items: int = 0
    changed_topics: tuple[str, ...] = ()
    publish: PublishReport | None = None
    duration: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        parts = [
            f"{self.count('fetched')} fetched",
            f"{self.count('not_modified')} not modified",
            f"{self.count('unchanged')} unchanged",
            f"{self.count('failed')} failed",
            f"{self.count('deferred')} deferred",
        ]
        if self.count("skipped"):
            parts.append(f"{self.count('skipped')} not due")
        if self.count("claimed"):
            parts.append(f"{self.count('claimed')} polled by another poller")
        text = f"{len(self.outcomes)} feeds: " + ", ".join(parts)
        text += f"; {self.new_items} new, {self.updated_items} updated items"
        if self.publish is not None:
            text += f"; {len(self.publish.written)} files written"
        return text + f" in {self.duration:.1f}s"
