"""aggregator: poll RSS/Atom feeds, deduplicate and tag their items by topic, publish per-topic feeds.

The flow, one package per stage: config → fetch → parse → dedup → tag → store → publish
(see docs/architecture.md). ``pipeline`` runs it; ``cli`` is a thin layer over it. At this
level sit only what every stage shares: records, reports, errors, text hygiene, atomic
file writes, the run's garbage-collector policy, and how helper processes start.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aggregator")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.4.5"

PROJECT_URL = "https://github.com/aggregator-project/aggregator"
