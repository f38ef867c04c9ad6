"""The pipeline: one run, config → fetch → parse → dedup → tag → store → publish.

Owns: the order of the stages, the clock, the store's lock for a whole run, and the
operations that span stages (``feeds``: add a feed; ``maintenance``: retag, find, unmerge;
``evaluation``: score merging and tagging on labelled sets).
Must not: hold business rules. Every decision belongs to a stage.

Start reading at ``run.py`` (``run``), then ``merge.py``.
"""

from .evaluation import SPLITS, evaluate, evaluation_data
from .feeds import Added, add_feed
from .maintenance import feed_state, find_item, items_by_source, load_snapshot, retag, unmerge
from .flow import poll, poll_snapshot, publish, run, session, utcnow

__all__ = ["Added", "SPLITS", "add_feed", "evaluate", "evaluation_data", "feed_state", "find_item",
           "items_by_source", "load_snapshot", "poll", "poll_snapshot", "publish", "retag", "run", "session",
           "unmerge", "utcnow"]
