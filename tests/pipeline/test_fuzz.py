"""Fuzz parse → dedup → tag → publish on mutated real feeds (hypothesis).

Invariants: no exception escapes a stage except the documented ones (ParseError from parse), and
everything published is well-formed XML or valid JSON. CI runs a bounded number of examples;
``make fuzz`` (FUZZ_EXAMPLES=20000) runs longer.
"""

from __future__ import annotations

from paths import FEEDS
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from aggregator.dedup import identity as dedup
from aggregator.parse import feeds as parse
from aggregator.publish import feeds as publish
from aggregator.tag import rules as tag
from aggregator.errors import ParseError
from aggregator.records import Config, NearDupSettings, Settings, Snapshot, Source, SourceRef, Topic

SEEDS = [p.read_bytes() for p in sorted(FEEDS.iterdir()) if p.suffix in (".xml", ".rdf", ".json")]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
NOW = datetime(2026, 6, 10, tzinfo=timezone.utc)

NASTY = [
    b"\x00", b"\x1f", b"\xff\xfe", b"\xed\xa0\x80", b"&#0;", b"&#xD800;", b"&amp;", b"&lt;script&gt;",
    b"<![CDATA[", b"]]>", b"<!--", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"&x;", b"javascript:",
    b"<script>alert(1)</script>", b"\xe2\x80\xae", b"9999-12-31T23:59:59Z", b"Mon, 01 Jan 1900 00:00:00 GMT",
    b"<title>", b"</item>", b"<entry>", b'"', b"\\u0000", b"\r\n", "НАТО".encode(), b"https://[::1]:99999/",
]


@st.composite
def mutated_feed(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(body) - 1)))
        if op == "insert":
            body[pos:pos] = draw(st.one_of(st.sampled_from(NASTY), st.binary(max_size=12)))
        elif op == "delete":
            del body[pos:pos + draw(st.integers(1, 40))]
        elif op == "flip" and body:
            body[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del body[pos:]
        elif op == "duplicate":
            end = min(len(body), pos + draw(st.integers(1, 400)))
            body[pos:pos] = body[pos:end]
    return bytes(body)


def make_config(out: Path) -> Config:
    topics = (
        Topic("nato", "NATO", keywords=("NATO", "НАТО")),
        Topic("baltic-defence", "Baltic defence", keywords=("Estonia", "Latvia", "Lithuania")),
        Topic("ukraine", "Ukraine", keywords=("Ukraine", "Kyiv")),
    )
    source = Source("https://fuzz.example/feed.xml", name="Fuzz")
    settings_ = Settings(config_path=out / "feeds.yaml", store=out / "store.json", output_dir=out,
                         base_url="https://feeds.example/")
    return Config(path=out / "feeds.yaml", settings=settings_, topics=topics, sources=(source,))


def run_stages(config: Config, bodies: list[bytes], content_type: str) -> None:
    """parse -> dedup -> tag -> publish into config's output folder; asserts the invariants."""
    out = config.settings.output_dir
    snap = Snapshot()
    index = dedup.ItemIndex(snap.items, snap.tombstones, NearDupSettings())
    rules = tag.Rules.compile(config.topics, config.sources)
    key = config.sources[0].key
    for body in bodies:
        try:
            parsed = parse.parse(body, url=key, headers={"content-type": content_type} if content_type else {},
                                 key=key)
        except ParseError as e:  # the one documented exception
            assert "\n" not in str(e)
            continue
        ref = SourceRef(feed_url=key, name="Fuzz", feed_title=parsed.title, seen=NOW)
        for entry in parsed.entries:
            item, _status = index.upsert(entry, ref, NOW)
            if item is not None:
                index.items[item.id] = rules.tag(index.items[item.id])
    snap.items = index.items
    publish.publish(config, snap, now=NOW)
    for path in out.iterdir():
        if path.suffix in (".rss", ".atom", ".opml", ".xsl"):
            etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
        elif path.suffix == ".json":
            json.loads(path.read_bytes())
    assert (out / "all.atom").is_file() and (out / "nato.rss").is_file()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          database=None)
@given(bodies=st.lists(mutated_feed(), min_size=1, max_size=3),
       content_type=st.sampled_from(["application/rss+xml", "text/xml; charset=utf-8",
                                     "application/atom+xml; charset=windows-1252", "text/plain", ""]))
def test_pipeline_stages_never_crash_and_publish_wellformed(bodies: list[bytes], content_type: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_stages(make_config(Path(tmp)), bodies, content_type)
