"""The pipeline: one run, config → fetch → parse → dedup → tag → store → publish.

Owns: the order of the stages, the clock, the store's lock for a whole run, and the
operations that span stages (``feeds``: add a feed; ``probe``: check feeds before trusting
them; ``maintenance``: retag, find, unmerge, feed states; ``transfer``: copy the store to the
other backend; ``evaluation``: score merging and tagging on labelled sets).
Must not: hold business rules. Every decision belongs to a stage; only the verdict of an
operation across stages is decided here (``probe.decide``, pure).

Start reading at ``flow.py`` (``run``), then ``merge.py``.
"""

from .evaluation import SPLITS, evaluate, evaluation_data
from .feeds import Added, add_feed
from .maintenance import (feed_state, feed_states, find_item, items_by_source, load_snapshot, reset_feeds, retag,
                          revive, unmerge)
from .flow import poll, poll_snapshot, publish, run, session, utcnow
from .probe import VERDICTS, FeedFacts, Probe, Seen, Verdict, decide, probe_feeds
from .transfer import Migrated, migrate_store

__all__ = ["SPLITS", "VERDICTS", "Added", "FeedFacts", "Migrated", "Probe", "Seen", "Verdict", "add_feed", "decide",
           "evaluate", "evaluation_data", "feed_state", "feed_states", "find_item", "items_by_source",
           "load_snapshot", "migrate_store", "poll", "poll_snapshot", "probe_feeds", "publish", "reset_feeds",
           "retag", "revive", "run", "session", "unmerge", "utcnow"]
