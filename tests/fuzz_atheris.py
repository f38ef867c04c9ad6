"""Coverage-guided fuzzing of parse → dedup → tag → publish with atheris (libFuzzer).

Not collected by pytest (bounded hypothesis fuzzing runs in CI: tests/test_fuzz.py). Run it with
``make fuzz-atheris`` (installs atheris into .venv) or::

    .venv/bin/python tests/fuzz_atheris.py -max_total_time=600 tests/data/feeds

Invariants: no exception escapes a stage except ParseError, and every published file is
well-formed XML or valid JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from lxml import etree

    from aggregator import dedup, parse, publish, tag
    from aggregator.errors import ParseError
    from aggregator.records import NearDupSettings, Snapshot, SourceRef

sys.path.insert(0, str(Path(__file__).parent))
from test_fuzz import NOW, make_config  # noqa: E402  (the same config as the hypothesis fuzz)

OUT = Path(tempfile.mkdtemp(prefix="aggregator-fuzz-"))
CONFIG = make_config(OUT)
RULES = tag.Rules.compile(CONFIG.topics, CONFIG.sources)
XML = etree.XMLParser(resolve_entities=False, no_network=True)


def one_input(data: bytes) -> None:
    key = CONFIG.sources[0].key
    try:
        parsed = parse.parse(data, url=key, headers={"content-type": "application/xml"}, key=key)
    except ParseError:
        return
    snap = Snapshot()
    index = dedup.ItemIndex(snap.items, snap.tombstones, NearDupSettings())
    ref = SourceRef(feed_url=key, name="Fuzz", feed_title=parsed.title, seen=NOW)
    for entry in parsed.entries:
        item, _ = index.upsert(entry, ref, NOW)
        if item is not None:
            index.items[item.id] = RULES.tag(index.items[item.id])
    snap.items = index.items
    publish.publish(CONFIG, snap, now=NOW)
    for path in OUT.iterdir():
        if path.suffix in (".rss", ".atom", ".opml"):
            etree.fromstring(path.read_bytes(), XML)
        elif path.suffix == ".json":
            json.loads(path.read_bytes())


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
