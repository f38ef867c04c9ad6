"""Stage 2, fetch: sources → :class:`~aggregator.records.FetchResult`, politely and within hard limits.

Owns: httpx (the one client factory in ``client``, used for every request the
aggregator sends: polls, with a client per host, ``feeds add``, the WebSub hub ping, the demo), conditional
GET, redirects, size and time limits (``limits``), when each feed is due and what a
poll's answer means for the next one (``schedule``: pure decisions), feed
autodiscovery in HTML pages (``discover``) and the hub ping (``hub``); a large poll's
requests in a process of their own, beside the one that merges (``process``: ``FetchProcess``).
Must not: parse feed XML, or know about items and topics.

Start reading at ``poll.py`` (``fetch_all``), then ``schedule.py``.
"""

from . import discover, hub, process, schedule
from .client import default_user_agent, direct_transport, make_client, make_sync_client, user_agent
from .poll import fetch_all, fetch_one, read_local, request_headers, request_url
from .process import FetchProcess

__all__ = [
    "FetchProcess", "default_user_agent", "direct_transport", "discover", "fetch_all", "fetch_one", "hub",
    "make_client", "make_sync_client", "process", "read_local", "request_headers", "request_url", "schedule",
    "user_agent",
]
