"""websub: which feeds to announce after a publish, and the POSTs a local hub stub receives."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx
import pytest

from aggregator.publish import feeds as pub
from aggregator.publish import websub
from aggregator.fetch import hub as hub_mod
from pubdata import BASE, NOW, T0, config, item, snapshot


class HubStub:
    """A tiny hub on 127.0.0.1 that records POST bodies and answers with *status*."""

    def __init__(self, status: int = 204):
        self.bodies: list[list[tuple[str, str]]] = []
        self.content_types: list[str] = []
        owner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                owner.bodies.append(parse_qsl(self.rfile.read(n).decode()))
                owner.content_types.append(self.headers.get("Content-Type", ""))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hub" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hub():
    h = HubStub()
    yield h
    h.close()


def test_changed_feed_urls_only_written_feeds(tmp_path):
    cfg = config(tmp_path, hub="https://hub.example/")
    r1 = pub.publish(cfg, snapshot(), now=NOW)
    assert sorted(websub.changed_feed_urls(cfg, r1)) == sorted(
        BASE + f"{s}.{f}" for s in ("nato", "empty", "all") for f in ("rss", "atom", "json"))
    r2 = pub.publish(cfg, snapshot(), now=NOW)
    assert websub.changed_feed_urls(cfg, r2) == []  # nothing changed: nobody is pinged
    # a new item outside "nato": only "all" changes bytes
    snap = snapshot(extra=(item(21, published=T0 + timedelta(minutes=1), topics=()),))
    r3 = pub.publish(cfg, snap, now=NOW)
    assert sorted(websub.changed_feed_urls(cfg, r3)) == [BASE + "all.atom", BASE + "all.json",
                                                          BASE + "all.rss"]


def test_ping_posts_publish_for_each_url(hub):
    urls = [BASE + "nato.rss", BASE + "nato.atom", BASE + "nato.rss"]
    results = hub_mod.ping(hub.url, urls)
    assert [r.url for r in results] == urls[:2] and all(r.ok and r.status == 204 for r in results)
    assert hub.bodies == [[("hub.mode", "publish"), ("hub.url", u)] for u in urls[:2]]
    assert all(ct.startswith("application/x-www-form-urlencoded") for ct in hub.content_types)


def test_ping_with_given_client_and_nothing_to_do(hub):
    with httpx.Client() as client:
        assert hub_mod.ping(hub.url, [], client=client) == ()
        (r,) = hub_mod.ping(hub.url, [BASE + "all.json"], client=client)
        assert r.ok and not client.is_closed  # a caller's client is not closed
    assert hub.bodies == [[("hub.mode", "publish"), ("hub.url", BASE + "all.json")]]


def test_ping_reports_hub_errors_without_raising():
    bad = HubStub(status=500)
    try:
        (r,) = hub_mod.ping(bad.url, [BASE + "all.rss"])
        assert r.status == 500 and not r.ok and bad.url in r.error and "\n" not in r.error
    finally:
        bad.close()
    (r,) = hub_mod.ping("http://127.0.0.1:9/hub", [BASE + "all.rss"], timeout=2)
    assert r.status is None and r.error.startswith("http://127.0.0.1:9/hub: ")
