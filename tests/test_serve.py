"""serve: the output folder over real HTTP (httpx against make_server on a free port)."""

from __future__ import annotations

import os
import socket
import threading
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from aggregator.serve import accepts_gzip, make_server, resolve


@pytest.fixture
def site(tmp_path: Path):
    out = tmp_path / "output"
    out.mkdir()
    (out / "index.html").write_text("<!DOCTYPE html><title>x</title>" + "hello " * 100)
    (out / "nato.rss").write_bytes(b"<?xml version='1.0'?><rss/>" + b" " * 500)
    (out / "nato.atom").write_bytes(b"<feed/>")
    (out / "nato.json").write_bytes(b"{}")
    (out / "feeds.opml").write_bytes(b"<opml/>")
    (out / "feed.xsl").write_bytes(b"<xsl/>")
    (out / ".nato.rss.abc.tmp").write_bytes(b"half written")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", out / "link.txt")
    httpd = make_server(out, port=0)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    host, port = httpd.server_address[:2]
    with httpx.Client(base_url=f"http://{host}:{port}") as client:
        yield client, out
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path, ctype", [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/nato.rss", "application/rss+xml; charset=utf-8"),
    ("/nato.atom", "application/atom+xml; charset=utf-8"),
    ("/nato.json", "application/feed+json; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ("/feed.xsl", "text/xsl; charset=utf-8"),
])
def test_content_types(site, path, ctype):
    client, _ = site
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == ctype
    assert r.headers["etag"] and r.headers["last-modified"]


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/link.txt",
    "/.nato.rss.abc.tmp", "/missing.rss", "/%00", "/..%5csecret.txt", "/%ff",
])
def test_traversal_symlinks_and_temp_files_refused(site, path):
    client, _ = site
    # raw request line: httpx would normalise "/../"
    host, port = client.base_url.host, client.base_url.port
    with socket.create_connection((host, port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 404") and b"top secret" not in data


def test_resolve_is_confined(tmp_path):
    root = tmp_path.resolve()
    (root / "a.rss").write_text("x")
    assert resolve(root, "/a.rss?x=1") == root / "a.rss"
    assert resolve(root, "/sub/../a.rss") is None  # ".." refused outright
    assert resolve(root, "/") is None  # no index.html here


def test_conditional_get_304_and_its_size(site):
    client, _ = site
    r = client.get("/nato.rss")
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    r2 = client.get("/nato.rss", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b"" and r2.headers["etag"] == etag
    r3 = client.get("/nato.rss", headers={"If-Modified-Since": lm})
    assert r3.status_code == 304
    r4 = client.get("/nato.rss", headers={"If-None-Match": '"other"', "If-Modified-Since": lm})
    assert r4.status_code == 200  # If-None-Match wins
    old = formatdate(0, usegmt=True)
    assert client.get("/nato.rss", headers={"If-Modified-Since": old}).status_code == 200


def test_304_response_is_small_over_the_wire(site):
    client, _ = site
    etag = client.get("/nato.rss").headers["etag"]
    host, port = client.base_url.host, client.base_url.port
    with socket.create_connection((host, port)) as s:
        s.sendall(f"GET /nato.rss HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 304") and data.endswith(b"\r\n\r\n")
    assert len(data) < 400, len(data)


def test_gzip_when_accepted_and_etag_per_encoding(site):
    client, out = site
    raw = (out / "nato.rss").read_bytes()
    plain = client.get("/nato.rss", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == raw
    with httpx.stream("GET", str(client.base_url) + "/nato.rss",
                      headers={"Accept-Encoding": "gzip"}) as r:
        body = r.read()
        assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers["vary"]
        assert body == raw  # httpx decoded it
        zipped_etag = r.headers["etag"]
    assert zipped_etag != plain.headers["etag"]
    r = client.get("/nato.rss", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped_etag})
    assert r.status_code == 304


def test_head_has_headers_no_body(site):
    client, out = site
    r = client.head("/nato.rss", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == (out / "nato.rss").stat().st_size


def test_changed_file_gets_new_etag(site):
    client, out = site
    etag = client.get("/nato.atom").headers["etag"]
    (out / "nato.atom").write_bytes(b"<feed>changed</feed>")
    r = client.get("/nato.atom", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.content == b"<feed>changed</feed>"


@pytest.mark.parametrize("value, ok", [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1, gzip;q=0.5", True),
    ("gzip;q=0", False), ("identity", False), (None, False), ("x-gzip", True),
])
def test_accepts_gzip(value, ok):
    assert accepts_gzip(value) is ok


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


@pytest.mark.parametrize("accept, ctype", [
    (BROWSER, "application/xml; charset=utf-8"),  # so the browser applies feed.xsl
    (READER, "application/rss+xml; charset=utf-8"),
    (None, "application/rss+xml; charset=utf-8"),
])
def test_browsers_get_feeds_as_xml_readers_as_feeds(site, accept, ctype):
    client, _ = site
    headers = {"Accept": accept} if accept else {}
    r = client.get("/nato.rss", headers=headers)
    assert r.headers["content-type"] == ctype and "Accept" in r.headers["vary"]
