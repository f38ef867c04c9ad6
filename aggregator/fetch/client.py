"""The one place HTTP clients are made: every request the aggregator sends goes through here.

The poller, ``feeds add`` (autodiscovery), ``feeds probe``, the WebSub hub ping and the
offline demo all take their client from these factories, so every request carries the
same User-Agent and obeys the same timeouts and connection limits.
"""

from __future__ import annotations

import httpx

from .. import PROJECT_URL, __version__
from ..records import Settings


def default_user_agent() -> str:
    """``aggregator/<version> (+<project url>)``: lets feed owners see who polls and how to reach us."""
    return f"aggregator/{__version__} (+{PROJECT_URL})"


def user_agent(settings: Settings | None) -> str:
    return (settings.user_agent.strip() if settings is not None else "") or default_user_agent()


def make_client(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An AsyncClient sized for *settings*; redirects off (the poller follows them itself)."""
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(settings.timeout),
        limits=httpx.Limits(max_connections=max(settings.concurrency, 1),
                            max_keepalive_connections=max(settings.concurrency, 1)),
        headers={"User-Agent": user_agent(settings)},
    )


def make_sync_client(settings: Settings | None = None, *, timeout: float = 10.0) -> httpx.Client:
    """A blocking client for the odd request outside a poll (the WebSub hub ping)."""
    return httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent(settings)})


def direct_transport() -> httpx.AsyncHTTPTransport:
    """A transport of our own: a client given one ignores HTTP(S)_PROXY, so loopback
    addresses (the demo's sample server) are reached directly."""
    return httpx.AsyncHTTPTransport()
