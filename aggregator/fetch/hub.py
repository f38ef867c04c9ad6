"""WebSub (https://www.w3.org/TR/websub/) publisher side, the HTTP half: tell the hub which
feeds changed. Which feeds those are is publish's business (``publish.websub``).

One POST per feed URL (``hub.mode=publish&hub.url=…``): the form every hub accepts.
A hub outage never fails a run: every failure comes back as a one-line result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..records import Settings
from ..text import one_line
from .client import make_sync_client


@dataclass(frozen=True)
class PingResult:
    url: str  # the feed URL announced
    status: int | None = None  # the hub's HTTP status; None if no answer
    error: str | None = None  # one line naming the hub, None on success (2xx)

    @property
    def ok(self) -> bool:
        return self.error is None


def ping(hub: str, topic_urls: Iterable[str], client: Any = None, *, timeout: float = 10.0,
         settings: Settings | None = None) -> tuple[PingResult, ...]:
    """POST hub.mode=publish for each URL; never raises for hub failures (see results).

    *client*: an ``httpx.Client`` (or anything with the same ``post``); one is made by
    :func:`.client.make_sync_client` (with *settings*' User-Agent) and closed here when None.
    """
    urls = list(dict.fromkeys(topic_urls))
    if not urls:
        return ()
    own = client is None
    if own:
        client = make_sync_client(settings, timeout=timeout)
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
