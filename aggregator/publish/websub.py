"""WebSub (https://www.w3.org/TR/websub/) publisher side: which feeds to announce.

The feeds advertise the hub (``settings.websub_hub``) with ``rel="hub"`` links; after a
publish, the pipeline sends ``changed_feed_urls(config, report)`` to the hub through
``fetch.hub.ping`` (the HTTP half lives with every other request, in ``fetch/``). Only
files whose bytes changed are in ``report.written``, so an unchanged feed is never pinged.
"""

from __future__ import annotations

from .model import file_url
from ..records import Config
from ..reports import PublishReport

FEED_SUFFIXES = (".rss", ".atom", ".json")


def changed_feed_urls(config: Config, report: PublishReport) -> list[str]:
    """Public URLs of the feed files (.rss, .atom, .json) this publish wrote."""
    return [file_url(config.settings, p.name) for p in report.written
            if p.suffix in FEED_SUFFIXES]
