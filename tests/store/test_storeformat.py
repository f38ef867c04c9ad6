"""The store format: generated record decoders (equal to the reference codec, type-checked), the
tables of the items file and of the feeds file."""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from aggregator import errors
from aggregator.records import Enclosure, FeedState, Item, Match, Merge, Snapshot, SourceRef
from recordcodec import from_dict, to_dict
from aggregator.store import Store
from aggregator.store.format import SCHEMA_VERSION, NotAStore, decode, decode_feeds, decode_items, decode_snapshot, decoder, encode_feeds, encode_items

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CEST = timezone(timedelta(hours=2))

RICH = Item(
    id="guid:a 1", keys=("guid:a 1", "url:a.example/1"), canonical_url="https://a.example/1",
    link=None, title="Ünïcode «1»", summary="<p>s</p>", published=NOW,
    updated=datetime(2024, 2, 1, 10, 0, 0, 123456, tzinfo=CEST), first_seen=NOW,
    authors=("Ann",), categories=("Defence",),
    enclosures=(Enclosure("https://a.example/x.mp3", "audio/mpeg", 123), Enclosure("https://a.example/y")),
    sources=(SourceRef("https://a.example/rss", "A", "https://a.example/1", "g1", "A feed", None, NOW),),
    topics=("news",), reasons=(Match("news", "keyword", "Baltic", "title", "Baltic"),),
    merges=(Merge("url:b.example/1", "same canonical link", NOW), Merge("guid:x 2", "near duplicate")),
    content_hash="ab")
MINIMAL = Item(id="hash:1", keys=("hash:1",), canonical_url=None, link=None, title="t")
FEED = FeedState(url="https://a.example/rss", etag='W/"x"', last_status=304, error_count=2, gone=True,
                 next_poll=NOW, interval=3600)


@pytest.mark.parametrize("record", [RICH, MINIMAL, FEED, RICH.sources[0], RICH.merges[1]])
def test_decoder_equals_records_from_dict(record) -> None:
    doc = orjson.loads(orjson.dumps(record))  # exactly what the store file holds
    assert decode(type(record), doc) == from_dict(type(record), orjson.loads(orjson.dumps(record))) == record


@pytest.mark.parametrize("doc, expected", [
    ({"id": "x", "keys": ["x"], "canonical_url": None, "link": None, "title": "t"},  # fields left out
     Item("x", ("x",), None, None, "t")),
    ({**to_dict(MINIMAL), "from_the_future": [1]}, MINIMAL),  # unknown keys are ignored
])
def test_decoder_fills_defaults_and_ignores_unknown_keys(doc, expected) -> None:
    assert decode(Item, dict(doc)) == from_dict(Item, doc) == expected


def test_decoded_dates_are_utc_and_hashable_records() -> None:
    back = decode(Item, orjson.loads(orjson.dumps(RICH)))
    assert back.updated.tzinfo is timezone.utc and back.updated == RICH.updated
    assert hash(back) == hash(RICH) and back.date == NOW
    with pytest.raises(AttributeError):  # still frozen
        back.title = "changed"


def test_decoded_records_keep_the_compact_attribute_dict() -> None:
    """The decoder fills the shared-key dict ``__init__`` would make, not a bigger plain dict."""
    back = decode(Item, orjson.loads(orjson.dumps(RICH)))
    built = Item(**{name: getattr(RICH, name) for name in vars(RICH)})
    assert list(vars(back)) == list(vars(built))
    assert sys.getsizeof(vars(back)) <= sys.getsizeof(vars(built))


def _doc(record, **changes):
    return {**orjson.loads(orjson.dumps(record)), **changes}


BAD = [
    # (case, class, doc, words of the reason)
    ("title a number", Item, _doc(MINIMAL, title=5), "Item.title is 5, not a string"),
    ("link a list", Item, _doc(MINIMAL, link=["x"]), "Item.link is ['x'], not a string or null"),
    ("id null", Item, _doc(MINIMAL, id=None), "Item.id is None, not a string"),
    ("keys a string", Item, _doc(MINIMAL, keys="abc"), "Item.keys is 'abc', not a list"),
    ("keys missing", Item, {"id": "x", "canonical_url": None, "link": None, "title": "t"}, "Item lacks keys"),
    ("source url a number", Item, _doc(RICH, sources=[{"feed_url": 5}]), "SourceRef.feed_url is 5"),
    ("source not an object", Item, _doc(RICH, sources=["x"]), "expected an object, got str"),
    ("date a number", Item, _doc(MINIMAL, published=1700000000), "expected an ISO 8601 time, got 1700000000"),
    ("date a list", Item, _doc(MINIMAL, published=[2024]), "expected an ISO 8601 time, got [2024]"),
    ("date not ISO", Item, _doc(MINIMAL, published="yesterday"), "yesterday"),
    ("count a string", FeedState, _doc(FEED, error_count="2"), "FeedState.error_count is '2', not an integer"),
    ("count a bool", FeedState, _doc(FEED, error_count=True), "FeedState.error_count is True"),
    ("gone a string", FeedState, _doc(FEED, gone="no"), "FeedState.gone is 'no', not true or false"),
    ("length a float", Enclosure, {"url": "u", "length": 1.5}, "Enclosure.length is 1.5, not an integer or null"),
    ("not an object", Item, ["x"], "expected an object, got list"),
]


@pytest.mark.parametrize("case, cls, doc, reason", BAD, ids=[b[0] for b in BAD])
def test_decoder_rejects_wrong_types_with_a_reason(case, cls, doc, reason) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        decode(cls, doc)
    assert reason in str(info.value) and "\n" not in str(info.value)


BAD_ITEMS = [b for b in BAD if b[1] is Item]


@pytest.mark.parametrize("case, cls, doc, reason", BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
def test_a_wrongly_typed_item_makes_the_store_corrupt(tmp_path: Path, case, cls, doc, reason) -> None:
    path = tmp_path / "store.json"
    meta = {"1": {"schema_version": 2}}  # without it, a schema 1 file: epoch dates and no keys are fine
    path.write_bytes(orjson.dumps({"meta": meta, "items": {"1": _doc(MINIMAL), "2": doc}}))
    with pytest.raises(errors.StoreCorrupt) as info:
        Store(path).load()
    assert f"{path}: items document 2: " in str(info.value) and reason in str(info.value)


@pytest.mark.parametrize("raw, reason", [
    ({"items": {"1": _doc(MINIMAL, id="")}}, "items document 1: item id is empty"),
    ({"tombstones": {"1": {"key": 5, "at": "2024-03-01T12:00:00+00:00"}}}, "tombstones document 1: tombstone key 5"),
    ({"tombstones": {"1": {"key": "k"}}}, "tombstones document 1: 'at'"),
    ({"feeds": {"1": {"current_url": "x"}}}, "feeds document 1: FeedState lacks url"),
    ({"feeds": []}, "table 'feeds' is a list"),
])
def test_decode_snapshot_names_the_document_at_fault(raw, reason) -> None:
    with pytest.raises(NotAStore) as info:
        decode_snapshot(raw)
    assert reason in str(info.value)


def test_a_snapshot_round_trips_through_the_tables(tmp_path: Path) -> None:
    snap = Snapshot(items={RICH.id: RICH, MINIMAL.id: MINIMAL}, feeds={FEED.url: FEED},
                    tombstones={"guid:x 9": NOW}, meta={"note": 1})
    path = tmp_path / "store.json"
    Store(path).save(snap)
    items, tombstones, meta = decode_items(orjson.loads(path.read_bytes()))
    feeds, feeds_meta = decode_feeds(orjson.loads((tmp_path / "store.feeds.json").read_bytes()))
    assert (items, feeds, tombstones) == (snap.items, snap.feeds, snap.tombstones)
    assert meta["note"] == feeds_meta["note"] == 1 and meta["schema_version"] == SCHEMA_VERSION == 3
    whole = decode_snapshot(orjson.loads(path.read_bytes()))  # one file: a schema 3 one has no feeds
    assert (whole.items, whole.feeds) == (snap.items, {})


def test_tables_of_each_file() -> None:
    snap = Snapshot(items={MINIMAL.id: MINIMAL}, feeds={FEED.url: FEED}, tombstones={"k": NOW},
                    meta={"note": 1, "migrated_from": 2})
    items, feeds = encode_items(snap, NOW), encode_feeds(snap, NOW)
    assert set(items) == {"meta", "items", "tombstones"} and set(feeds) == {"meta", "feeds"}
    assert items["meta"] == feeds["meta"] == {"1": {"note": 1, "schema_version": 3,
                                                    "saved_at": "2024-03-01T12:00:00+00:00"}}
    assert items["items"] == {"1": MINIMAL} and feeds["feeds"] == {"1": FEED}
    assert items["tombstones"] == {"1": {"key": "k", "at": NOW}}


V2 = {"meta": {"1": {"schema_version": 2, "note": "x"}}, "feeds": {"1": _doc(FEED)},
      "items": {"1": _doc(MINIMAL)}, "tombstones": {"1": {"key": "k", "at": "2024-03-01T12:00:00+00:00"}}}


@pytest.mark.parametrize("raw, reason", [
    ({"feeds": {}}, "not a feeds file (meta says schema 1"),
    (V2, "not a feeds file (meta says schema 2"),
    ({"meta": {"1": {"schema_version": 3}}, "feeds": {"1": {"url": 5}}}, "feeds document 1: FeedState.url is 5"),
    ({"meta": {"1": {"schema_version": 4}}, "feeds": {}}, "newer aggregator (schema 4"),
])
def test_a_feeds_file_needs_schema_3_and_good_documents(raw, reason) -> None:
    with pytest.raises(NotAStore, match=re.escape(reason)):
        decode_feeds(orjson.loads(orjson.dumps(raw)))


def test_items_of_a_schema_2_file_are_read_without_its_feeds() -> None:
    raw = orjson.loads(orjson.dumps({**V2, "feeds": {"1": {"url": 5}}}))  # a bad feed: not read
    items, tombstones, meta = decode_items(raw)
    assert items == {MINIMAL.id: MINIMAL} and tombstones == {"k": NOW}
    assert meta == {"schema_version": 3, "note": "x", "migrated_from": 2}


def test_generated_source_is_kept_for_reading() -> None:
    source = decoder(Item).source
    assert source.startswith("def decode_Item(doc):") and "decode_SourceRef(x)" in source


@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    name: str
    size: int | None = None


@dataclasses.dataclass(frozen=True)
class Validated:
    name: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Validated.name is empty")


def test_classes_with_slots_or_post_init_are_built_through_the_class() -> None:
    assert decode(Slotted, {"name": "a", "extra": 1}) == Slotted("a")
    assert decode(Validated, {"name": "b"}) == Validated("b")
    with pytest.raises(ValueError, match="Validated.name is empty"):
        decode(Validated, {"name": ""})
    with pytest.raises(TypeError, match="Slotted.size is 'x'"):
        decode(Slotted, {"name": "a", "size": "x"})
