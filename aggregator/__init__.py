"""aggregator: poll RSS/Atom feeds, deduplicate and tag their items by topic, publish per-topic feeds.

The flow, one module per stage: config → fetch → parse → dedup → tag → store → publish
(see docs/architecture.md). ``pipeline`` runs it; ``cli`` is a thin layer over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aggregator")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.2.0"

PROJECT_URL = "https://github.com/aggregator-project/aggregator"
