"""What a run tells its caller: one outcome per feed, what was published, and the totals.

The pipeline builds these; the CLI formats them (the one-line summary, ``run --json``)
and ``publish.health`` turns them into metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


STATUSES = ("fetched", "not_modified", "unchanged", "failed", "deferred", "skipped", "gone", "claimed")


@dataclass(frozen=True)
class FeedOutcome:
    url: str
    status: str  # one of STATUSES; "deferred": its host asked us to wait (Retry-After);
    #             "claimed": due, but polled by another poller sharing the store
    http_status: int | None = None
    new: int = 0  # items it added
    updated: int = 0  # items of its own it changed
    merged: int = 0  # its reports that joined a story another source brought first
    error: str | None = None  # failed: why; deferred: the server's answer, in the run that got it
    redirected_to: str | None = None  # an adopted permanent redirect
    deferred_until: datetime | None = None


@dataclass(frozen=True)
class PublishReport:
    written: tuple[Path, ...] = ()  # the readers' files whose bytes changed (not health.atom: see publish)
    unchanged: tuple[Path, ...] = ()
    topics_rendered: tuple[str, ...] = ()
    removed: tuple[Path, ...] = ()  # files of topics no longer configured


@dataclass(frozen=True)
class RunReport:
    outcomes: tuple[FeedOutcome, ...] = ()
    new_items: int = 0
    updated_items: int = 0
    merged_items: int = 0  # reports merged into an existing story from another source
    pruned_items: int = 0
    changed_topics: tuple[str, ...] = ()
    publish: PublishReport | None = None
    duration: float = 0.0
    # (stage, seconds) of the run's wall time, each moment charged to one stage (pipeline.stages)
    stages: tuple[tuple[str, float], ...] = ()

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
        if self.count("gone"):
            parts.append(f"{self.count('gone')} gone")
        if self.count("claimed"):
            parts.append(f"{self.count('claimed')} polled by another poller")
        text = f"{len(self.outcomes)} feeds: " + ", ".join(parts)
        text += f"; {self.new_items} new, {self.updated_items} updated, {self.merged_items} merged items"
        if self.publish is not None:
            text += f"; {len(self.publish.written)} files written"
            if self.publish.removed:
                text += f", {len(self.publish.removed)} removed"
        return text + f" in {self.duration:.1f}s"

    def as_json(self) -> dict[str, Any]:
        """What ``run --json`` prints: the totals, then one object per feed (times in RFC 3339)."""
        return {
            "feeds": len(self.outcomes),
            "outcomes": {status: self.count(status) for status in STATUSES},
            "new_items": self.new_items, "updated_items": self.updated_items, "merged_items": self.merged_items,
            "pruned_items": self.pruned_items, "changed_topics": list(self.changed_topics),
            "files_written": [str(p) for p in self.publish.written] if self.publish is not None else None,
            "files_removed": [str(p) for p in self.publish.removed] if self.publish is not None else None,
            "duration": round(self.duration, 3),
            "sources": [{
                "url": o.url, "status": o.status, "http_status": o.http_status, "new": o.new,
                "updated": o.updated, "merged": o.merged, "error": o.error, "redirected_to": o.redirected_to,
                "deferred_until": _rfc3339(o.deferred_until),
            } for o in self.outcomes],
        }


def _rfc3339(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds") if dt else None
