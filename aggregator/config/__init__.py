"""Stage 1, config: ``feeds.yaml`` → a frozen :class:`~aggregator.records.Config`.

Owns: loading and validating the file (every error names the file, line and key),
editing it while keeping its comments, one command at a time under a lock (``edit``), and the file-only feed operations
(list, remove, OPML import and export: ``manage``).
Must not: touch the network or the store. Adding a feed fetches it first, so that
lives in ``aggregator.pipeline.feeds``.

Start reading at ``loader.py``.
"""

from .edit import (FeedEntry, FeedsFile, atomic_write, check_tags, editing, entry_of, feed_entries, find_duplicate,
                   new_node, normalize_url, rewrite_text)
from .evalsets import MERGE_KINDS, EvalReport, MergeSet, TagCase, load_merge_set, load_tag_cases
from .loader import DEFAULT_PATH, default_path, duration, load, loads, replace_settings, summary
from .manage import ImportReport, export_opml, import_opml, list_feeds, read_opml, remove_feed

__all__ = [
    "DEFAULT_PATH", "MERGE_KINDS", "EvalReport", "FeedEntry", "FeedsFile", "ImportReport", "MergeSet", "TagCase",
    "atomic_write", "check_tags", "default_path", "duration", "editing", "entry_of", "export_opml", "feed_entries",
    "find_duplicate", "import_opml", "list_feeds", "load", "load_merge_set", "load_tag_cases", "loads", "new_node",
    "normalize_url", "read_opml", "remove_feed", "replace_settings", "rewrite_text", "summary",
]
