"""serve: the output folder over real HTTP (httpx against make_server on a free port)."""

from __future__ import annotations

import os
import socket
import threading
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from aggregator.publish import feeds as pub
from aggregator.publish.server import FeedPages, accepts_gzip, make_server, resolve, wants_page
from pubdata import NOW, config, snapshot


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
CHROMIUM = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
READER = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


@pytest.mark.parametrize("accept, page", [
    (BROWSER, True),
    (CHROMIUM, True),
    ("text/html", True),
    ("TEXT/HTML; q=1", True),
    (READER, False),
    ("text/html, application/atom+xml;q=0.1", False),  # names a feed type: a reader
    ("application/feed+json, text/html", False),
    ("application/xml, text/html;q=0.5", False),  # prefers XML
    ("text/html;q=0", False),
    ("*/*", False),
    ("", False),
    (None, False),
    ("text/html;q=abc", False),
])
def test_wants_page(accept, page):
    assert wants_page(accept) is page


@pytest.mark.parametrize("accept, ctype", [
    (BROWSER, "text/html; charset=utf-8"),  # rendered here: browsers are dropping XSLT
    (READER, "application/rss+xml; charset=utf-8"),
    (None, "application/rss+xml; charset=utf-8"),
])
def test_browsers_get_pages_readers_get_feeds(site, accept, ctype):
    client, _ = site
    headers = {"Accept": accept} if accept else {}
    r = client.get("/nato.rss", headers=headers)
    assert r.headers["content-type"] == ctype and "Accept" in r.headers["vary"]


@pytest.fixture
def published(tmp_path: Path):
    """The real publish output (pubdata snapshot) served over HTTP."""
    cfg = config(tmp_path)
    pub.publish(cfg, snapshot(), now=NOW)
    out = cfg.settings.output_dir
    (out / "feed.xsl").write_bytes(b"<not-a-stylesheet/>")  # the package's own XSL is used
    (tmp_path / "secret.txt").write_text("top secret")
    httpd = make_server(out, port=0)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    host, port = httpd.server_address[:2]
    with httpx.Client(base_url=f"http://{host}:{port}") as client:
        yield client, out, tmp_path
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("name", ["nato.rss", "nato.atom", "health.atom"])
def test_feed_rendered_to_html_for_browsers(published, name):
    client, out, _ = published
    raw = client.get(f"/{name}", headers={"Accept": READER, "Accept-Encoding": "identity"})
    page = client.get(f"/{name}", headers={"Accept": CHROMIUM, "Accept-Encoding": "identity"})
    assert raw.content == (out / name).read_bytes()
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    text = page.text
    assert text.lstrip().lower().startswith("<!doctype html") and "<?xml" not in text
    assert "This is a web feed" in text and "<h1>" in text
    if name.startswith("nato"):
        assert "<h1>NATO</h1>" in text and 'href="https://news.example/a/0"' in text
        assert "Headline 6" in text and "Example News" in text
    assert int(page.headers["content-length"]) == len(page.content)
    assert "Accept" in page.headers["vary"]
    assert page.headers["etag"] != raw.headers["etag"]
    assert page.headers["last-modified"] == raw.headers["last-modified"]
    again = client.get(f"/{name}", headers={"Accept": CHROMIUM, "If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_feed_page_gzipped_and_head(published):
    client, _, _ = published
    plain = client.get("/nato.atom", headers={"Accept": BROWSER, "Accept-Encoding": "identity"})
    with httpx.stream("GET", str(client.base_url) + "/nato.atom",
                      headers={"Accept": BROWSER, "Accept-Encoding": "gzip"}) as r:
        body = r.read()
        assert r.headers["content-encoding"] == "gzip" and body == plain.content
        assert r.headers["etag"] not in (plain.headers["etag"],)
    head = client.head("/nato.atom", headers={"Accept": BROWSER, "Accept-Encoding": "identity"})
    assert head.content == b"" and head.headers["content-length"] == plain.headers["content-length"]
    assert head.headers["content-type"] == "text/html; charset=utf-8"


def test_unparsable_feed_goes_out_as_is(published):
    client, out, _ = published
    (out / "broken.rss").write_bytes(b"<rss><channel><title>cut off")
    r = client.get("/broken.rss", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert r.content == b"<rss><channel><title>cut off"


def test_entities_and_dtds_not_resolved(published):
    client, out, tmp = published
    secret = tmp / "secret.txt"
    (out / "evil.rss").write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss version=\"2.0\"><channel><title>T &x; end</title><link>http://x.example/</link>"
        "<description>d</description></channel></rss>")
    r = client.get("/evil.rss", headers={"Accept": BROWSER})
    assert "top secret" not in r.text
    assert r.headers["content-type"] in ("text/html; charset=utf-8",
                                         "application/rss+xml; charset=utf-8")


def test_feed_pages_cache_follows_the_file(tmp_path):
    pages = FeedPages()
    cfg = config(tmp_path)
    pub.publish(cfg, snapshot(), now=NOW)
    data = (cfg.settings.output_dir / "nato.rss").read_bytes()
    first = pages.render(data, ("nato.rss", 1, len(data)))
    assert b"<h1>NATO</h1>" in first
    assert pages.render(b"<rss><channel><title>Other</title></channel></rss>", ("x", 1, 0)) != first
    assert pages.render(b"not xml", ("y", 1, 7)) is None
    assert pages.render(data, ("nato.rss", 1, len(data))) is first  # cached by (path, mtime, size)
