"""Stage 3, parse: bytes and headers → :class:`~aggregator.records.ParsedFeed` of clean ``Entry`` records.

Owns: feedparser (and the speedups patched into it only while our parse runs),
JSON Feed, text and HTML cleaning of every field, dates in UTC, and the fast path that
keeps raw items already stored away from feedparser (``split``). A feed never parsed
before is parsed in a process pool (``pool``: ``ParsePool``, ``worth_a_process``); one parsed
before too, once a poll has parsed a few of those here.
Must not: know about topics, the store or the network.

Start reading at ``feeds.py`` (``parse``), then ``fields.py``.
"""

from .feeds import ParseJob, not_a_feed_reason, parse
from .pool import ParsePool, parse_job, parse_many, worth_a_process

__all__ = ["ParseJob", "ParsePool", "not_a_feed_reason", "parse", "parse_job", "parse_many", "worth_a_process"]
