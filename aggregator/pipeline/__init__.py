"""The pipeline: one run, config → fetch → parse → dedup → tag → store → publish.

Owns: the order of the stages, the clock, the store's lock for a whole run, and the
operations that span stages (``feeds``: add a feed; ``maintenance``: retag, find;
``transfer``: copy the store to the other backend).
Must not: hold business rules. Every decision belongs to a stage.

Start reading at ``run.py`` (``run``), then ``merge.py``.
"""

from .feeds import Added, add_feed
from .maintenance import feed_state, find_item, items_by_source, load_snapshot, retag
from .flow import poll, poll_snapshot, publish, run, session, utcnow
from .transfer import Migrated, migrate_store

__all__ = ["Added", "Migrated", "add_feed", "feed_state", "find_item", "items_by_source", "load_snapshot",
           "migrate_store", "poll",
           "poll_snapshot", "publish", "retag", "run", "session", "utcnow"]
