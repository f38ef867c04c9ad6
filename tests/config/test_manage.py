"""Feed management: round-trip edits of feeds.yaml, add with autodiscovery, OPML, the CLI."""

from __future__ import annotations

from paths import ROOT, SAMPLES
import types
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator import config
from aggregator.cli.manage import demo, feeds
from aggregator.errors import ConfigError, HTTPStatusError, ParseError, TooManyRedirects
from aggregator.config.edit import normalize_url
from aggregator.config.manage import export_opml, import_opml, list_feeds, read_opml, remove_feed, slugify
from aggregator.pipeline.feeds import add_feed

SAMPLE = (SAMPLES / "feeds" / "nato-watch.xml").read_bytes()
ATOM = (SAMPLES / "feeds" / "baltic-defence-review.atom").read_bytes()

HEAD = """\
# Our feeds. Keep this comment!
settings:
  title: "Test news"    # quoted on purpose
  output_dir: out

topics:
  nato:
    title: NATO
    keywords: [NATO, НАТО]   # both scripts
  baltic-defence:
    title: Baltic defence
    keywords:
      - Baltic Defence Line
  ukraine:
    title: Ukraine
    keywords: [Ukraine]

"""
FEEDS = """\
feeds:
  # defence news first
  - url: https://a.example/feed.xml
    name: A   # the first
    tags: [nato]
  - url: https://b.example/rss
    name: B
# trailing comment about the list
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(HEAD + FEEDS, encoding="utf-8")
    return path


def page(*links: str) -> bytes:
    return ("<!DOCTYPE html><html><head><title>News</title>" + "".join(links) + "</head><body>x</body></html>").encode()


def recording_transport():
    """A transport that answers 404 and records what was asked: proves nothing was fetched, offline."""
    import httpx

    seen: list[str] = []
    return httpx.MockTransport(lambda request: seen.append(str(request.url)) or httpx.Response(404)), seen


# ----------------------------------------------------------------------------- list / add / remove


def test_list_feeds(cfg: Path) -> None:
    got = list_feeds(cfg)
    assert [(e.url, e.name, e.tags, e.line) for e in got] == [
        ("https://a.example/feed.xml", "A", ("nato",), 20), ("https://b.example/rss", "B", (), 23)]


def test_add_direct_feed_keeps_comments_byte_for_byte(cfg: Path, server) -> None:
    url = server.add("/nato.xml", SAMPLE, content_type="application/rss+xml")
    added = add_feed(cfg, url, tags=["nato", "ukraine"])
    assert added.entry.url == url and added.entry.tags == ("nato", "ukraine")
    assert added.title == "North Atlantic Watch" and added.entry.name == "North Atlantic Watch"
    assert added.entries == 11 and added.discovered_from is None
    text = cfg.read_text(encoding="utf-8")
    assert text.startswith(HEAD + FEEDS.replace("# trailing comment about the list\n", ""))  # untouched region
    assert text.endswith(f"  - url: {url}\n    name: North Atlantic Watch\n    tags: [nato, ukraine]\n"
                         "# trailing comment about the list\n")
    conf = config.load(cfg)  # still a valid config, and the program sees the new feed
    assert conf.sources[-1].url == url and conf.sources[-1].tags == ("nato", "ukraine")
    assert server.requests[0][1]["user-agent"].startswith("aggregator/")  # the fetch stage's identity


def test_add_discovers_feed_from_html_page(cfg: Path, server) -> None:
    server.add("/feeds/defence.atom", ATOM, content_type="application/atom+xml")
    home = server.add("/news/", page('<link rel="stylesheet" href="/s.css">',
                                     '<link rel="alternate" type="application/atom+xml" href="../feeds/defence.atom">'),
                      content_type="text/html; charset=utf-8")
    added = add_feed(cfg, home, name="BDR")
    assert added.discovered_from == home
    assert added.entry.url == server.url("/feeds/defence.atom") and added.entry.name == "BDR"
    assert list_feeds(cfg)[-1].url == server.url("/feeds/defence.atom")


def test_add_falls_back_to_next_announced_feed(cfg: Path, server) -> None:
    server.add("/good.xml", SAMPLE, content_type="application/rss+xml")
    home = server.add("/", page('<link rel="alternate" type="application/rss+xml" href="/missing.xml">',
                                '<link rel="alternate" type="application/rss+xml" href="/good.xml">'),
                      content_type="text/html")
    assert add_feed(cfg, home).entry.url == server.url("/good.xml")


@pytest.mark.parametrize("url, error, message", [
    ("https://A.example:443/feed.xml/", ConfigError, "already in the config"),
    ("https://b.example/rss#top", ConfigError, "already in the config"),
])
def test_add_refuses_duplicates_without_fetching(cfg: Path, url: str, error: type, message: str) -> None:
    before = cfg.read_bytes()
    transport, seen = recording_transport()
    with pytest.raises(error, match=message):
        add_feed(cfg, url, transport=transport)
    assert cfg.read_bytes() == before and seen == []


def test_add_refuses_feed_already_listed_under_its_page(cfg: Path, server) -> None:
    feed = server.add("/f.xml", SAMPLE, content_type="application/rss+xml")
    home = server.add("/", page('<link rel="alternate" type="application/rss+xml" href="/f.xml">'),
                      content_type="text/html")
    add_feed(cfg, feed)
    with pytest.raises(ConfigError, match=rf"{feed} is already in the config"):
        add_feed(cfg, home)
    assert [e.url for e in list_feeds(cfg)].count(feed) == 1
    assert server.hits["/f.xml"] == 1  # refused before it was fetched again


@pytest.mark.parametrize("route, kwargs, error, message", [
    ("/page", dict(route=page(), content_type="text/html"), ParseError, "announces no feed"),
    ("/junk", dict(route=b"\x00\x01 binary", content_type="application/octet-stream"), ParseError, "not a feed"),
    ("/gone", dict(route=b"no", status=404, content_type="text/plain"), HTTPStatusError, "HTTP 404"),
    ("/bad-links", dict(route=page('<link rel="alternate" type="application/rss+xml" href="/nothing">'),
                        content_type="text/html"), ParseError, "do not work: .*/nothing: HTTP 404"),
])
def test_add_errors_name_the_url_and_leave_file_alone(cfg: Path, server, route, kwargs, error, message) -> None:
    url = server.add(route, kwargs.pop("route"), **kwargs)
    before = cfg.read_bytes()
    with pytest.raises(error, match=message) as exc:
        add_feed(cfg, url)
    assert url in str(exc.value) and "\n" not in str(exc.value)
    assert cfg.read_bytes() == before


def with_settings(cfg: Path, *lines: str) -> Path:
    """*cfg* with extra ``settings:`` lines."""
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("settings:\n", "settings:\n" + "".join(
        f"  {x}\n" for x in lines)), encoding="utf-8")
    return cfg


@pytest.mark.parametrize("gzip, message", [
    (False, "body of 7033 bytes is over the 4000-byte limit"),  # refused by its Content-Length
    (True, "body over the 4000-byte limit after decoding, stopped reading"),  # 2060 bytes on the wire
])
def test_cli_add_refuses_feed_over_max_body_bytes(cfg: Path, server, gzip: bool, message: str) -> None:
    """The config's max_body_bytes applies to ``feeds add`` too, decompressed size included."""
    assert len(SAMPLE) == 7033
    url = server.add("/big.xml", SAMPLE, content_type="application/rss+xml", gzip=gzip)
    before = with_settings(cfg, "max_body_bytes: 4000", "user_agent: TestBot/1 (+https://t.example/)").read_bytes()
    r = invoke(cfg, "add", url)
    assert r.exit_code == 1
    assert r.output == f"aggregator: {url}: {message}\n"  # one line, naming the URL
    assert cfg.read_bytes() == before
    assert server.requests[0][1]["user-agent"] == "TestBot/1 (+https://t.example/)"


def test_add_refuses_unknown_tag(cfg: Path) -> None:
    with pytest.raises(ConfigError, match="tag 'sport' is not a topic slug .*nato, baltic-defence, ukraine"):
        add_feed(cfg, "https://c.example/", tags=["sport"])


def test_remove_keeps_other_comments(cfg: Path) -> None:
    gone = remove_feed(cfg, "HTTPS://b.example/rss/")
    assert gone.url == "https://b.example/rss"
    text = cfg.read_text(encoding="utf-8")
    assert text == HEAD + FEEDS.replace("  - url: https://b.example/rss\n    name: B\n", "")
    with pytest.raises(ConfigError, match="no feed https://b.example/rss in the config"):
        remove_feed(cfg, "https://b.example/rss")


SHIPPED = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
SHIPPED_URLS = [f.url for f in config.loads(SHIPPED, ROOT / "feeds.yaml").sources]


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("#")]


@pytest.mark.parametrize("index", range(len(SHIPPED_URLS)))
def test_removing_a_shipped_source_takes_its_own_comments_and_leaves_the_others(tmp_path: Path, index: int) -> None:
    """Each shipped entry's '# confirmed:' lines go with it; section headings and every other
    entry's comments stay, in order (ruamel files a comment under the entry before it)."""
    path = tmp_path / "feeds.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    url = SHIPPED_URLS[index]
    start = SHIPPED.index(f"  - url: {url}\n")
    end = SHIPPED.find("\n  - url: ", start + 1)
    block = SHIPPED[start:end + 1 if end > 0 else len(SHIPPED)]
    own = [line.strip() for line in block.splitlines() if line.startswith("    #")]  # indented as its keys
    remove_feed(path, url)
    text = path.read_text(encoding="utf-8")
    assert [f.url for f in config.loads(text, path).sources] == SHIPPED_URLS[:index] + SHIPPED_URLS[index + 1:]
    left = _comments(SHIPPED)
    for line in own:
        left.remove(line)
    assert own and _comments(text) == left
    # byte for byte: the entry's own lines gone (its keys and its comments), nothing else touched
    entry = "".join(line for line in block.splitlines(keepends=True)
                    if line.startswith(("  - url: ", "    ")))
    assert text == SHIPPED[:start] + SHIPPED[start:].replace(entry, "", 1)


def test_edit_is_atomic_and_validated(cfg: Path, monkeypatch) -> None:
    """A failing write leaves the old file, and no temp file behind."""
    import aggregator.atomicfile as af

    before = cfg.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(af.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        remove_feed(cfg, "https://a.example/feed.xml")
    assert cfg.read_bytes() == before
    # no temp file; the edit lock (empty, reused by the next edit) may stay, its holder's note may not
    assert sorted(p.name for p in cfg.parent.iterdir()) in (["feeds.yaml"], ["feeds.yaml", "feeds.yaml.lock"])


@pytest.mark.parametrize("a, b, same", [
    ("HTTP://Example.com:80/feed/", "http://example.com/feed", True),
    ("https://example.com/feed#x", "https://example.com/feed", True),
    ("https://example.com:8443/feed", "https://example.com/feed", False),
    ("https://example.com/feed?a=1", "https://example.com/feed", False),
    ("https://example.com/Feed", "https://example.com/feed", False),  # paths are case-sensitive
])
def test_normalize_url(a: str, b: str, same: bool) -> None:
    assert (normalize_url(a) == normalize_url(b)) is same


# ----------------------------------------------------------------------------- OPML

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="NATO" title="NATO">
    <outline type="rss" text="Alliance news" xmlUrl="https://n.example/rss"/>
    <outline type="rss" text="Again A" xmlUrl="https://a.example/feed.xml"/>
  </outline>
  <outline text="Sport">
    <outline type="rss" text="Hockey" xmlUrl="https://h.example/rss" category="/Baltic Defence,Ice hockey"/>
  </outline>
  <outline type="rss" text="Kyiv" xmlUrl="https://k.example/atom" category="ukraine"/>
  <outline type="rss" text="Mail" xmlUrl="mailto:x@example.com"/>
  <outline type="rss" text="Twice" xmlUrl="https://n.example/rss"/>
</body></opml>"""


def test_import_opml(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "subs.opml"
    src.write_bytes(OPML)
    report = import_opml(cfg, src)
    assert [(e.url, e.name, e.tags) for e in report.added] == [
        ("https://n.example/rss", "Alliance news", ("nato",)),
        ("https://h.example/rss", "Hockey", ("baltic-defence",)),
        ("https://k.example/atom", "Kyiv", ("ukraine",)),
    ]
    assert report.duplicates == ("https://a.example/feed.xml", "https://n.example/rss")
    assert report.invalid == ("mailto:x@example.com",)
    assert report.unmatched == ("Sport", "Ice hockey")
    assert [s.url for s in config.load(cfg).sources][2:] == [e.url for e in report.added]
    assert cfg.read_text(encoding="utf-8").startswith(HEAD)


def test_export_import_round_trip(cfg: Path, tmp_path: Path) -> None:
    text = export_opml(cfg, now=datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc))
    root = ET.fromstring(text.encode())
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Test news: source feeds"
    assert root.findtext("head/dateCreated") == "Sat, 28 Nov 2026 12:00:00 GMT"
    assert [(o.get("xmlUrl"), o.get("text"), o.get("category")) for o in root.iter("outline")] == [
        ("https://a.example/feed.xml", "A", "nato"), ("https://b.example/rss", "B", None)]
    # into an empty config with the same topics: the same feeds and tags come back
    other = tmp_path / "other.yaml"
    other.write_text(HEAD, encoding="utf-8")
    opml = tmp_path / "x.opml"
    opml.write_text(text, encoding="utf-8")
    import_opml(other, opml)
    assert [(e.url, e.name, e.tags) for e in list_feeds(other)] == [
        (e.url, e.name, e.tags) for e in list_feeds(cfg)]


@pytest.mark.parametrize("data, message", [
    (b"<opml><body>", "not valid XML"),
    (b"<rss/>", "not an OPML file"),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', "entity expansion"),
])
def test_read_opml_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_opml(data, "subs.opml")


@pytest.mark.parametrize("label, slug", [("Baltic Defence", "baltic-defence"), (" NATO ", "nato"),
                                         ("baltic_defence", "baltic-defence"), ("Ice  hockey", "ice-hockey")])
def test_slugify(label: str, slug: str) -> None:
    assert slugify(label) == slug


# ----------------------------------------------------------------------------- CLI


def invoke(cfg: Path, *args: str):
    return CliRunner().invoke(feeds, list(args), obj=types.SimpleNamespace(config_path=cfg))


def test_cli_list_add_remove(cfg: Path, server) -> None:
    url = server.add("/n.xml", SAMPLE, content_type="application/rss+xml")
    r = invoke(cfg, "add", url, "--name", "Watch", "--tags", "nato, ukraine")
    assert r.exit_code == 0, r.output
    assert f"added {url}: North Atlantic Watch, 11 entries" in r.output
    r = invoke(cfg, "list")
    assert r.exit_code == 0 and f"{url}  Watch  [nato, ukraine]" in r.output and "3 feeds" in r.output
    r = invoke(cfg, "remove", url)
    assert r.exit_code == 0 and f"removed {url}" in r.output
    assert len(list_feeds(cfg)) == 2


@pytest.mark.parametrize("args, code, message", [
    (["add", "https://a.example/feed.xml"], 2, "already in the config"),
    (["add", "https://x.example/", "--tags", "nope"], 2, "tag 'nope' is not a topic slug"),
    (["remove", "https://nowhere.example/"], 2, "no feed https://nowhere.example/"),
])
def test_cli_errors_are_one_line_with_exit_code(cfg: Path, args: list[str], code: int, message: str) -> None:
    r = invoke(cfg, *args)
    assert r.exit_code == code
    assert message in r.output and str(cfg) in r.output


def test_cli_import_export(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "subs.opml"
    src.write_bytes(OPML)
    r = invoke(cfg, "import", str(src))
    assert r.exit_code == 0 and "3 feeds added, 2 already present, 1 invalid" in r.output
    r = invoke(cfg, "export")
    assert r.exit_code == 0 and r.output.count("<outline") == 5
    out = tmp_path / "out.opml"
    r = invoke(cfg, "export", "-o", str(out))
    assert r.exit_code == 0 and ET.parse(out).getroot().tag == "opml"


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["add", "--help"], ["remove", "--help"],
                                  ["import", "--help"], ["export", "--help"]])
def test_every_command_has_an_example(cfg: Path, args: list[str]) -> None:
    r = invoke(cfg, *args)
    assert r.exit_code == 0 and "Example: aggregator " in r.output


def test_demo_help_has_an_example() -> None:
    r = CliRunner().invoke(demo, ["--help"])
    assert r.exit_code == 0 and "Example: aggregator demo" in r.output


def test_add_with_injected_transport_follows_redirect_and_resolves_against_final_url(cfg: Path) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        routes = {
            "/": httpx.Response(301, headers={"Location": "https://www.c.example/home/"}),
            "/home/": httpx.Response(200, headers={"Content-Type": "text/html"},
                                     content=page('<link rel="alternate" type="application/rss+xml" href="rss">')),
            "/home/rss": httpx.Response(200, headers={"Content-Type": "application/rss+xml"}, content=SAMPLE),
        }
        return routes.get(request.url.path, httpx.Response(404))

    added = add_feed(cfg, "https://c.example/", transport=httpx.MockTransport(handler))
    assert added.entry.url == "https://www.c.example/home/rss"
    assert added.discovered_from == "https://c.example/"


@pytest.mark.parametrize("routes, error, message", [
    pytest.param({"/": (302, "/a"), "/a": (302, "/")}, TooManyRedirects,
                 r"^https://c\.example/: redirect loop: https://c\.example/ -> https://c\.example/a -> "
                 r"https://c\.example/$", id="loop"),
    pytest.param({"/": (301, "/1"), "/1": (301, "/2"), "/2": (301, "/3")}, TooManyRedirects,
                 r"^https://c\.example/: more than 2 redirects", id="settings-max-redirects"),
    pytest.param({"/": (503, None)}, HTTPStatusError, r"^https://c\.example/: HTTP 503 Service Unavailable$",
                 id="status"),
])
def test_add_maps_fetch_errors_through(cfg: Path, routes: dict, error: type, message: str) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        status, target = routes[request.url.path]
        return httpx.Response(status, headers={"Location": target} if target else {})

    before = with_settings(cfg, "max_redirects: 2").read_bytes()
    with pytest.raises(error, match=message):
        add_feed(cfg, "https://c.example/", transport=httpx.MockTransport(handler))
    assert cfg.read_bytes() == before


def test_add_refuses_an_invalid_config_before_fetching(cfg: Path) -> None:
    with_settings(cfg, "timeout: -1")
    transport, seen = recording_transport()
    with pytest.raises(ConfigError, match=r"feeds\.yaml:\d+: .*timeout"):
        add_feed(cfg, "https://c.example/", transport=transport)
    assert seen == []


def test_shipped_feeds_yaml_round_trips_byte_for_byte(tmp_path: Path) -> None:
    from aggregator.config.edit import FeedsFile

    shipped = ROOT / "feeds.yaml"
    copy = tmp_path / "feeds.yaml"
    copy.write_bytes(shipped.read_bytes())
    assert FeedsFile(copy).dump() == shipped.read_text(encoding="utf-8")
    first = list_feeds(copy)[0]
    remove_feed(copy, first.url)
    assert len(list_feeds(copy)) == len(list_feeds(shipped)) - 1
    assert copy.read_text(encoding="utf-8").split("\nfeeds:\n")[0] == shipped.read_text(encoding="utf-8").split("\nfeeds:\n")[0]
