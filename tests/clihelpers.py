"""Helpers for tests that drive the CLI against fixture feeds on the local server."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from aggregator.cli import main
from feedserver import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"
SLUGS = ("nato", "baltic-defence", "ukraine", "all")

CONFIG = """\
settings:
  store: "{store}"
  output_dir: output
  base_url: http://feeds.test/news/
  title: Test news
  timeout: 5
  parse_workers: 1
topics:
  nato:
    title: NATO
    description: The alliance
    keywords: [NATO, North Atlantic Alliance]
  baltic-defence:
    title: Baltic defence
    keywords: [Baltic Defence Line, Estonia, Latvia, Lithuania, Suwałki]
  ukraine:
    title: Ukraine
    keywords: [Ukraine, Ukrainian, Kyiv]
feeds:
{feeds}
"""


def write_config(tmp_path: Path, urls: list[str], store: str = "data/store.json") -> Path:
    """feeds.yaml for *urls*; *store*: settings.store (a file, or a postgresql:// URL)."""
    feeds = "\n".join(f"  - url: {u}\n    name: Feed {i}" for i, u in enumerate(urls))
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG.format(feeds=feeds, store=store), encoding="utf-8")
    return path


def serve_fixtures(server: FeedServer) -> dict[str, str]:
    urls = {
        "rss2": server.add("/rss2.xml", (FEEDS / "rss2.xml").read_bytes(), content_type="application/rss+xml"),
        "rss1": server.add("/rss1.rdf", (FEEDS / "rss1.rdf").read_bytes(), content_type="application/rdf+xml"),
        "atom": server.add("/atom.xml", (FEEDS / "atom.xml").read_bytes(), content_type="application/atom+xml"),
        "error": server.add("/broken", b"oops", status=500, content_type="text/plain"),
        "garbage": server.add("/garbage", b"\x00\x01 this is not a feed at all", content_type="text/plain"),
        "unreachable": "http://127.0.0.1:9/feed.xml",  # the discard port: nothing listens there
    }
    return urls


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
