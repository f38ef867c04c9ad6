"""WebSub (https://www.w3.org/TR/websub/) publisher side: tell the hub which feeds changed.

The feeds advertise the hub (``settings.websub_hub``) with ``rel="hub"`` links; after a
publish, the pipeline calls ``ping(hub, changed_feed_urls(config, report))``. Only files
whose bytes changed are in ``report.written``, so an unchanged feed is never pinged.
One POST per feed URL (``hub.mode=publish&hub.url=…``): the form every hub accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .model import file_url
from ..records import Config, PublishReport
from ..text import one_line

FEED_SUFFIXES = (".rss", ".atom", ".json")


@dataclass(frozen=True)
class PingResult:
    url: str  # the feed URL announced
    status: int | None = None  # the hub's HTTP status; None if no answer
    error: str | None = None  # one line naming the hub, None on success (2xx)

    @property
    def ok(self) -> bool:
        return self.error is None


def changed_feed_urls(config: Config, report: PublishReport) -> list[str]:
    """Public URLs of the feed files (.rss, .atom, .json) this publish wrote."""
    return [file_url(config.settings, p.name) for p in report.written
            if p.suffix in FEED_SUFFIXES]


def ping(hub: str, topic_urls: Iterable[str], client: Any = None, *,
         timeout: float = 10.0) -> tuple[PingResult, ...]:
    """POST hub.mode=publish for each URL; never raises for hub failures (see results).

    *client*: an ``httpx.Client`` (or anything with the same ``post``); one is created
    and closed here when None.
    """
    urls = list(dict.fromkeys(topic_urls))
    if not urls:
        return ()
    own = client is None
    if own:
        import httpx  # only when pinging: publish itself never needs the network

        client = httpx.Client(timeout=timeout, follow_redirects=True)
    results = []
    try:
        for url in urls:
            try:
                resp = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except Exception as e:  # httpx.HTTPError and OSError alike: report, go on
                results.append(PingResult(url, None, f"{hub}: {one_line(e) or type(e).__name__}"))
                continue
            status = resp.status_code
            error = None if 200 <= status < 300 else f"{hub}: HTTP {status} for {url}"
            results.append(PingResult(url, status, error))
    finally:
        if own:
            client.close()
    return tuple(results)
