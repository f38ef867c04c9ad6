"""Issue 8: items already stored skip feedparser, and the output stays the same.

For every fixture feed, the synthetic benchmark feeds, hand-made tricky feeds and random
subsets (hypothesis), ``parse(body, skip=S)`` gives exactly the entries of a full
``parse(body)`` minus those whose fingerprint is in S, with the same feed-level fields.
Bodies that cannot be cut safely are parsed whole (skipped == 0), each for its stated reason.
"""

from __future__ import annotations

from paths import ROOT, FEEDS
import sys
from datetime import datetime, timezone
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from aggregator.parse import split as parse_split
from aggregator.parse.feeds import KNOWN_NAMESPACES, parse
from aggregator.parse.split import Split, Unsplittable, effective_encoding, split_items
from aggregator.records import ParsedFeed

# benchmarks/ is not an installed package: import it from the repo root.
sys.path.insert(0, str(ROOT))
from benchmarks.synth import feed_bytes  # noqa: E402

URL = "https://feeds.example/dir/feed.xml"
EPOCH = datetime(2024, 6, 5, tzinfo=timezone.utc)
FEED_FIELDS = ("url", "title", "link", "feed_id", "updated", "bozo", "item_hashes")


def run(body: bytes, skip=frozenset(), headers=None) -> ParsedFeed:
    return parse(body, url=URL, headers=headers or {"content-type": "application/xml"}, key=URL, skip=skip)


def assert_same_as_full(body: bytes, skip, headers=None) -> ParsedFeed:
    """The contract: a skipping parse equals the full parse minus the skipped items."""
    full, part = run(body, headers=headers), run(body, skip, headers)
    for name in FEED_FIELDS:
        assert getattr(part, name) == getattr(full, name), name
    if full.item_hashes:
        assert len(full.item_hashes) == len(full.entries)  # one fingerprint per entry, in order
        kept = tuple(e for e, h in zip(full.entries, full.item_hashes) if h not in skip)
    else:  # not splittable: nothing is skipped
        kept = full.entries
    assert part.entries == kept
    assert part.skipped == len(full.entries) - len(kept) and full.skipped == 0
    return part


def split(body: bytes, content_type: str = "application/xml", base: str = URL) -> Split:
    return split_items(body, base=base, content_type=content_type, known_namespaces=KNOWN_NAMESPACES)


# ----------------------------------------------------------------------------- fixtures, synth


def test_rss2_more_skips_the_items_of_rss2():
    old = run((FEEDS / "rss2.xml").read_bytes())
    new = assert_same_as_full((FEEDS / "rss2_more.xml").read_bytes(), frozenset(old.item_hashes))
    assert new.skipped == 3 and [e.guid for e in new.entries] == ["bdm-2024-0606-002", "bdm-2024-0605-004"]


@pytest.mark.parametrize("name", ["rss2.xml", "rss2_more.xml", "rss1.rdf", "atom.xml"])
def test_every_subset_of_fixture_items(name):
    body = (FEEDS / name).read_bytes()
    hashes = run(body).item_hashes
    assert len(hashes) == len(set(hashes)) >= 2  # the fixture splits, one distinct print per item
    for mask in range(2 ** len(hashes)):
        skip = frozenset(h for i, h in enumerate(hashes) if mask >> i & 1)
        assert assert_same_as_full(body, skip).skipped == bin(mask).count("1")


def test_jsonfeed_is_never_split():
    body = (FEEDS / "jsonfeed.json").read_bytes()
    part = assert_same_as_full(body, frozenset({"0" * 16}))
    assert part.item_hashes == () and part.skipped == 0 and len(part.entries) == 2


@lru_cache(maxsize=None)
def synth(i: int, version: int) -> bytes:
    return feed_bytes(7, i, version, EPOCH)


@lru_cache(maxsize=None)
def synth_parsed(i: int, version: int) -> ParsedFeed:
    return run(synth(i, version))


@pytest.mark.parametrize("i", [0, 1, 2])  # RSS (CDATA on odd items), RSS (on even items), Atom
def test_synth_next_version_skips_all_but_the_five_new(i):
    old = synth_parsed(i, 0)
    new = assert_same_as_full(synth(i, 1), frozenset(old.item_hashes))
    assert new.skipped == 45 and len(new.entries) == 5
    assert [e.guid for e in new.entries] == [e.guid for e in synth_parsed(i, 1).entries[:5]]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i=st.sampled_from([0, 2]), picked=st.sets(st.integers(0, 49)))
def test_synth_random_subsets(i, picked):
    hashes = synth_parsed(i, 1).item_hashes
    part = assert_same_as_full(synth(i, 1), frozenset(hashes[k] for k in picked))
    assert part.skipped == len(picked)


# ----------------------------------------------------------------------------- tricky documents

RSS_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/"'
            ' xmlns:x="http://unknown.example/ns">\n<channel><title>Tricky &amp; co</title><link>/home</link>'
            '<image><title>Logo</title><url>/logo.png</url><link>/</link></image>\n')
RSS_TAIL = "\n</channel></rss>\n"
RSS_ITEMS = (
    '<item><title>A</title><link>/a</link><guid>a</guid><description><![CDATA[<p>x <item>not</item> '
    '<a href="rel">r</a></p>]]></description></item>',
    '<item xml:base="https://other.example/dir/"><title>B</title><link>b</link>'
    '<description>&lt;a href="rel"&gt;r&lt;/a&gt;</description></item>',
    '<item><!-- </item> --><title>C &amp; D</title><guid isPermaLink="false">c</guid></item>',
    "<item><title>No guid</title></item>",
    "<item><description>only text</description><pubDate>Tue, 04 Jun 2024 06:15:00 GMT</pubDate></item>",
    '<item xml:lang="de"><title>E</title><dc:creator>Jo Doe</dc:creator><x:thing>t</x:thing></item>',
    '<item><media:content url="https://x.example/m.jpg" type="image/jpeg"/><title>F</title></item>',
    '<item><enclosure url="/e.mp3" type="audio/mpeg" length="12"/><title a="1 > 0">G</title></item>',
    '<item><source url="https://src.example/rss">Src</source><title>H</title><guid>h</guid></item>',
    "<item><image><title>Img</title><url>/i.png</url></image><title>I</title></item>",
    '<item><title>&lt;b&gt;J&lt;/b&gt;</title><author>j@x.example (J)</author><category>c1</category></item>',
    "<item><content:encoded><![CDATA[<p>K</p>]]></content:encoded><title>K</title></item>",
    '<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>L</title><dc:date>2024-06-01T00:00:00Z</dc:date></item>',
    "<item><guid>g1</guid><link>https://x.example/l</link><title>same guid twice</title></item>",
)
ATOM_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" '
             'xml:base="https://atom.example/base/"><title type="html">A &amp;lt;b&amp;gt;</title>'
             '<id>tag:atom.example,2024:f</id><link href="/"/><updated>2024-06-04T06:30:00Z</updated>\n')
ATOM_TAIL = "\n</feed>\n"
ATOM_ITEMS = (
    '<entry><title>A</title><id>a</id><link href="a"/><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    '<p><a href="rel">x</a></p></div></content></entry>',
    '<entry xml:base="https://other.example/x/"><title>B</title><link href="b"/>'
    '<summary type="html">&lt;a href="r"&gt;r&lt;/a&gt;</summary></entry>',
    "<entry><title type=\"text\">C</title><author><name>Ann</name></author><author><email>b@x.example</email>"
    "</author><published>2024-06-01T00:00:00Z</published></entry>",
    '<entry><title>D</title><link rel="enclosure" href="/d.pdf" type="application/pdf" length="9"/>'
    '<category term="t1"/><source><title>Other feed</title><id>o</id></source></entry>',
    "<entry><id>e</id></entry>",
)
RSS1_HEAD = ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
             'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
             '<channel rdf:about="https://r.example/"><title>R</title><link>https://r.example/</link></channel>\n')
RSS1_TAIL = ('\n<textinput rdf:about="https://r.example/s"><title>Search</title><name>q</name>'
             '<link>https://r.example/s</link></textinput></rdf:RDF>')
RSS1_ITEMS = (
    '<item rdf:about="https://r.example/1"><title>One</title><link>https://r.example/1</link></item>',
    '<item rdf:about="https://r.example/2"><title>Two</title><dc:date>2024-06-02T00:00:00Z</dc:date></item>',
    "<item><description>no about</description></item>",
)
FORMATS = {"rss": (RSS_HEAD, RSS_ITEMS, RSS_TAIL), "atom": (ATOM_HEAD, ATOM_ITEMS, ATOM_TAIL),
           "rss1": (RSS1_HEAD, RSS1_ITEMS, RSS1_TAIL)}


def document(kind: str, order: list[int]) -> bytes:
    head, items, tail = FORMATS[kind]
    return (head + "\n".join(items[k % len(items)] for k in order) + tail).encode()


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_tricky_documents_split_and_skip_each_item(kind):
    body = document(kind, list(range(len(FORMATS[kind][1]))))
    full = run(body)
    assert len(full.item_hashes) == len(FORMATS[kind][1]) == len(full.entries)  # all split
    for h in full.item_hashes:
        assert assert_same_as_full(body, frozenset({h})).skipped == 1
    assert assert_same_as_full(body, frozenset(full.item_hashes)).entries == ()


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(FORMATS)), order=st.lists(st.integers(0, 40), min_size=1, max_size=12),
       data=st.data())
def test_random_documents_random_skips(kind, order, data):
    body = document(kind, order)
    hashes = run(body).item_hashes
    assert len(hashes) == len(order)
    skip = frozenset(data.draw(st.sets(st.sampled_from(hashes))))
    assert_same_as_full(body, skip)


# ----------------------------------------------------------------------------- fingerprints


def test_fingerprint_ignores_how_the_same_text_is_written():
    cdata = document("rss", [0]).replace(b"<title>A</title>", b"<title><![CDATA[A]]></title>")
    comment = document("rss", [0]).replace(b"<title>A</title>", b"<title>A<!-- c --></title>")
    charref = document("rss", [0]).replace(b"<title>A</title>", b"<title>&#65;</title>")
    prints = {split(b).hashes for b in (document("rss", [0]), cdata, comment, charref)}
    assert len(prints) == 1


@pytest.mark.parametrize("change", [
    lambda b: b.replace(b"<title>A</title>", b"<title>A </title>"),  # text
    lambda b: b.replace(b"<guid>a</guid>", b'<guid isPermaLink="false">a</guid>'),  # attribute
    lambda b: b.replace(b'xmlns:x="http://unknown.example/ns"', b'xmlns:x="http://unknown.example/other"'),
    lambda b: b.replace(b'<rss version="2.0"', b'<rss version="2.0" xml:base="https://b.example/"'),
])
def test_fingerprint_changes_with_what_feedparser_sees(change):
    body = document("rss", [0])
    assert split(change(body)).hashes != split(body).hashes


def test_fingerprint_depends_on_the_base():
    body = document("rss", [0])
    assert split(body, base="https://a.example/f").hashes != split(body, base="https://b.example/f").hashes


def test_without_cuts_exact_spans_and_keeps_every_other_byte():
    body = document("rss", [0, 3, 4])
    s = split(body)
    doc, cut = s.without({s.hashes[1]})
    assert cut == 1 and doc == body.replace(RSS_ITEMS[3].encode(), b"")
    assert s.without(set()) == (body, 0) and s.without({"nope"}) == (body, 0)
    assert [body[a:b].decode() for a, b in s.spans] == [RSS_ITEMS[0], RSS_ITEMS[3], RSS_ITEMS[4]]


# ----------------------------------------------------------------------------- refusals

ITEM = "<item><title>t</title></item>"


def rss(inner: str = ITEM, decl: str = '<?xml version="1.0" encoding="utf-8"?>', attrs: str = "") -> bytes:
    return f'{decl}<rss version="2.0"{attrs}><channel><title>T</title>{inner}</channel></rss>'.encode()


@pytest.mark.parametrize("body, content_type, reason", [
    (rss(decl='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]>'), "application/xml", "DOCTYPE"),
    (rss(ITEM + "<item><title>a & b</title></item>"), "application/xml", "not well-formed"),
    (rss(ITEM + "<item><x:y>undeclared prefix</x:y></item>"), "application/xml", "not well-formed"),
    (rss(decl='<?xml version="1.0" encoding="iso-8859-1"?>'), "application/xml", "declared encoding"),
    (rss(ITEM), "application/xml; charset=windows-1252", "encoding windows-1252"),
    (rss("<item><title>Tallinn \u2013 Riga</title></item>"), "text/xml", "encoding us-ascii"),
    (rss("<item><item>nested</item></item>"), "application/xml", "<item> inside an item"),
    (rss("<item><channel/></item>"), "application/xml", "<channel> inside an item"),
    (rss("<Item><title>t</title></Item>"), "application/xml", "<item> where no item is expected"),
    (rss('<item xmlns="http://www.w3.org/1999/xhtml"><title>t</title></item>'), "application/xml",
     "<item> where no item is expected"),
    (rss(ITEM).replace(b"</channel>", b"</channel><item><title>o</title></item>"), "application/xml",
     "<item> where no item is expected"),
    (rss(ITEM + "<title>late</title>"), "application/xml", "<title> after the items"),
    (rss("<item/>"), "application/xml", "self-closing item"),
    (rss('<item xmlns:z="http://z.example/"><z:a>1</z:a></item>'), "application/xml",
     "first declared inside an item"),
    (rss('<item xmlns:d="http://purl.org/dc/elements/1.1/"><d:creator>J</d:creator></item>'),
     "application/xml", "first declared inside an item"),
    (rss(ITEM, attrs=' xmlns:p="http://a.example/"').replace(b"<channel>", b'<channel xmlns:p="http://b.example/">'),
     "application/xml", "bound to two namespaces"),
    (rss(ITEM, attrs=' xmlns:dc="http://unknown.example/"'), "application/xml", "shadows a namespace"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><item/></svg>', "application/xml", "root element"),
    (b'<rss xmlns="http://backend.userland.com/rss2"><channel></channel></rss>', "application/xml", "root element"),
    ("<rss><channel>\u2013</channel></rss>".encode("utf-16"), "application/xml", "ASCII-compatible"),
    (b'{"version": "https://jsonfeed.org/version/1.1"}', "application/xml", "ASCII-compatible"),
])
def test_unsplittable_bodies_are_parsed_whole(body, content_type, reason):
    with pytest.raises(Unsplittable, match=reason):
        split(body, content_type)
    try:
        run(body, headers={"content-type": content_type})
    except Exception:  # noqa: BLE001 - some of these are not feeds at all; that is parse's business
        return
    part = assert_same_as_full(body, frozenset({"0" * 16}), headers={"content-type": content_type})
    assert part.item_hashes == () and part.skipped == 0


@pytest.mark.parametrize("body, content_type", [
    (rss("<item><title>Tallinn \u2013 Riga</title></item>"), "application/rss+xml"),
    (rss("<item><title>Tallinn \u2013 Riga</title></item>"), "text/xml; charset=UTF-8"),
    (rss(ITEM), "text/xml"),  # all ASCII: us-ascii and UTF-8 read it the same
    (rss(ITEM, decl=""), "application/xml"),
    (b"\xef\xbb\xbf" + rss(ITEM), "application/xml"),
    (rss('<item><body xmlns="http://www.w3.org/1999/xhtml"><p>t</p></body></item>'), "application/xml"),
])
def test_splittable_bodies(body, content_type):
    assert len(split(body, content_type).spans) == 1


@pytest.mark.parametrize("content_type, declared, expected", [
    ("application/rss+xml", None, "utf-8"),
    ("application/xml; charset=ISO-8859-1", "utf-8", "iso-8859-1"),
    ("application/atom+xml", "us-ascii", "us-ascii"),
    ("text/xml", "utf-8", "us-ascii"),  # RFC 3023: the declaration does not count under text/*
    ('text/html; charset="UTF-8"', None, "utf-8"),
    ("application/octet-stream", None, "utf-8"),
])
def test_effective_encoding(content_type, declared, expected):
    assert effective_encoding(content_type, declared) == expected


# ----------------------------------------------------------------------------- the rules carry weight


def skip_first(body: bytes) -> tuple[ParsedFeed, ParsedFeed]:
    """A full parse, and a parse that skips the first item (run with one safety rule off)."""
    full = run(body)
    assert full.item_hashes, "the patched splitter should accept this body"
    return full, run(body, frozenset(full.item_hashes[:1]))


def test_elements_after_the_items_would_change_the_feed_title(monkeypatch):
    body = rss(ITEM + "<title>Late</title>")
    monkeypatch.setattr(parse_split, "AFTER_ITEMS_OK", frozenset({"textinput", "image", "title"}))
    full, part = skip_first(body)
    assert part.title != full.title  # feedparser's title_depth carries over from the last item


def test_a_namespace_declared_in_a_cut_item_would_rename_elements_in_the_next(monkeypatch):
    body = rss('<item xmlns:dc="http://unk.example/"><title>a</title></item>'
               '<item xmlns:q="http://unk.example/"><title>b</title><q:creator>Someone</q:creator></item>')
    monkeypatch.setattr(parse_split._Scanner, "check_namespaces", lambda self: None)
    full, part = skip_first(body)
    assert part.entries != full.entries[1:]  # q:creator was read as dc:creator (an author)
