"""The W3C feed validator's rules that our output can break, as assertions on the XML.

Checked for real with w3c/feedvalidator (0 errors, 0 warnings on these outputs); this file
keeps the rules in the test suite without that dependency.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                    r" \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
URN = re.compile(r"^urn:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'-]|%[0-9A-Fa-f]{2})+$")
URI_CHARS = re.compile(r"^[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$")


def absolute(url: str | None) -> bool:
    if not url or not URI_CHARS.match(url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def plausible(dt: datetime) -> bool:
    return dt.year >= 1990


def _no_none(root: etree._Element) -> None:
    for el in root.iter():
        for k, v in el.attrib.items():
            assert v not in ("None", ""), f"{el.tag}@{k}={v!r}"
        if isinstance(el.tag, str) and el.text is not None:
            assert el.text.strip() != "None", el.tag


def check_rss(data: bytes, self_url: str, site_url: str, hub: str | None = None) -> etree._Element:
    root = etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    ch = root.find("channel")
    for name in ("title", "link", "description"):
        assert (ch.findtext(name) or "").strip(), f"channel/{name} missing"
    assert ch.findtext("link") == site_url
    links = ch.findall(f"{ATOM}link")
    selfs = [l for l in links if l.get("rel") == "self"]
    assert len(selfs) == 1 and selfs[0].get("href") == self_url
    assert selfs[0].get("type") == "application/rss+xml"
    hubs = [l.get("href") for l in links if l.get("rel") == "hub"]
    assert hubs == ([hub] if hub else [])
    date = ch.findtext("lastBuildDate")
    assert RFC822.match(date) and plausible(parsedate_to_datetime(date))
    guids = []
    for it in ch.findall("item"):
        assert it.findtext("title") or it.findtext("description")
        g = it.find("guid")
        assert g is not None and g.get("isPermaLink") == "false" and URN.match(g.text)
        guids.append(g.text)
        pub = it.findtext("pubDate")
        d = parsedate_to_datetime(pub)
        assert RFC822.match(pub) and pub[:3] == d.strftime("%a") and plausible(d)
        if it.findtext("link") is not None:
            assert absolute(it.findtext("link"))
        encs = it.findall("enclosure")
        assert len(encs) <= 1
        for e in encs:
            assert absolute(e.get("url")) and e.get("length").isdigit() and "/" in e.get("type")
        for s in it.findall("source"):
            assert absolute(s.get("url")) and s.text
        assert it.find("author") is None  # RSS author must be an e-mail: we use dc:creator
        assert not re.search(r"</\w+>", it.findtext("title") or "")
    assert len(guids) == len(set(guids))
    _no_none(root)
    return root


def check_atom(data: bytes, self_url: str, site_url: str, hub: str | None = None) -> etree._Element:
    root = etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{name}"), f"feed/{name} missing"
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}author/{ATOM}name").text  # entries without authors inherit it
    rels = {(l.get("rel"), l.get("href")) for l in root.findall(f"{ATOM}link")}
    assert ("self", self_url) in rels and ("alternate", site_url) in rels
    assert {h for r, h in rels if r == "hub"} == ({hub} if hub else set())
    ids = [root.findtext(f"{ATOM}id")]
    for e in root.findall(f"{ATOM}entry"):
        eid = e.findtext(f"{ATOM}id")
        assert URN.match(eid)
        ids.append(eid)
        for name in ("title", "updated"):
            assert e.findtext(f"{ATOM}{name}")
        for name in ("updated", "published"):
            v = e.findtext(f"{ATOM}{name}")
            if v is not None:
                assert RFC3339.match(v) and plausible(datetime.fromisoformat(v.replace("Z", "+00:00")))
        links = e.findall(f"{ATOM}link")
        alternates = [l for l in links if l.get("rel") == "alternate"]
        assert len(alternates) <= 1
        assert alternates or e.find(f"{ATOM}content") is not None
        for l in links:
            assert l.get("rel") and absolute(l.get("href"))
            if l.get("rel") == "enclosure":
                assert "/" in l.get("type")
                assert l.get("length") is None or l.get("length").isdigit()
        for name in ("summary", "content"):
            el = e.find(f"{ATOM}{name}")
            if el is not None:
                assert el.get("type") == "html"
        sources = e.findall(f"{ATOM}source")
        assert len(sources) <= 1
        for s in sources:
            assert s.findtext(f"{ATOM}id") and s.findtext(f"{ATOM}title")
            assert RFC3339.match(s.findtext(f"{ATOM}updated"))
            assert s.findall(f"{ATOM}link") and all(absolute(l.get("href")) for l in s.findall(f"{ATOM}link"))
        for c in e.findall(f"{ATOM}category"):
            assert c.get("term")
    assert len(ids) == len(set(ids))
    _no_none(root)
    return root
