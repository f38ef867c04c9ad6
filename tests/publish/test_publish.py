"""publish: selection, RSS/Atom/JSON output parsed back, validator rules, atomic writes."""

from __future__ import annotations

import errno
import json
import os
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from aggregator import atomicfile
from aggregator.publish import feeds as pub
from aggregator.errors import PublishError
from aggregator.publish.model import FALLBACK_TIME, item_time
from aggregator.publish.manifest import FILE as MANIFEST
from aggregator.records import Enclosure, Topic
from feedrules import ATOM, check_atom, check_rss
from pubdata import BASE, NOW, SRC, SRC2, T0, config, item, snapshot

SITE = BASE + "index.html"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path


def run(out: Path, snap=None, **kw):
    cfg = config(out, hub=kw.pop("hub", None))
    report = pub.publish(cfg, snap or snapshot(), now=kw.pop("now", NOW), **kw)
    return cfg, report, cfg.settings.output_dir


# ----------------------------------------------------------------------------- select


@pytest.mark.parametrize("topic, expect", [
    (Topic("t", "T"), ["item00", "item02", "item04"]),
    (Topic("t", "T", max_items=2), ["item00", "item02"]),
    (Topic("t", "T", max_age_days=0.1), ["item00"]),  # 2.4 h: items 0 (1 h old) only
    (Topic("t", "T", max_items=0), []),
])
def test_select_order_limits_and_age(tmp_path, topic, expect):
    items = [item(i, topics=("t",) if i % 2 == 0 else ()) for i in range(6)]
    chosen = pub.select(config(tmp_path, topics=(topic,)), reversed(items), NOW)
    assert [i.id for i in chosen["t"]] == expect
    assert [i.id for i in chosen["all"]] == [f"item{i:02d}" for i in range(6)]


def test_select_global_max_items_and_id_tiebreak(tmp_path):
    items = [item(i, published=T0) for i in (3, 1, 2)]
    chosen = pub.select(config(tmp_path, max_items=2), items, NOW)
    assert [i.id for i in chosen["all"]] == ["item01", "item02"]


@pytest.mark.parametrize("kw, expect", [
    ({"published": T0 + timedelta(days=30)}, T0),  # future date: capped at first_seen
    ({"published": T0 + timedelta(days=30), "first_seen": None}, NOW),  # else at now
    ({"published": None, "updated": T0 - timedelta(hours=5)}, T0 - timedelta(hours=5)),
    ({"published": None, "updated": None}, T0),  # first_seen
    ({"published": None, "updated": None, "first_seen": None}, FALLBACK_TIME),
])
def test_item_time(kw, expect):
    assert item_time(item(0, **kw), NOW) == expect


# ----------------------------------------------------------------------------- output parsed back


def test_rss_atom_json_parse_back(out):
    cfg, report, d = run(out, hub="https://hub.example/")
    assert set(report.topics_rendered) == {"nato", "empty", "all"}
    names = {p.name for p in report.written}
    for slug in ("nato", "empty", "all"):
        assert {f"{slug}.rss", f"{slug}.atom", f"{slug}.json"} <= names
    assert {"index.html", "feeds.opml", "feed.xsl"} <= names
    for fmt in ("rss", "atom"):
        f = feedparser.parse((d / f"nato.{fmt}").read_bytes())
        assert not f.bozo, f.bozo_exception
        assert [e.id for e in f.entries] == [f"urn:aggregator:item:item0{i}" for i in (0, 2, 4, 6)]
        assert [e.link for e in f.entries] == [f"https://news.example/a/{i}" for i in (0, 2, 4, 6)]
        assert f.entries[0].published_parsed[:4] == (2024, 5, 1, 12)
        first = f.entries[0]
        terms = [t.term for t in first.tags]
        assert terms == ["Defence", "Baltic", "nato"]  # originals (deduplicated) + topic
        assert first.enclosures[0].href == "https://news.example/a/0.mp3"
        assert first.enclosures[0].length == "1234"
        assert "hub" in {l.rel for l in f.feed.links}
        assert f.feed.updated_parsed[:4] == (2024, 5, 1, 12)  # newest item, not the run time
    atom = feedparser.parse((d / "nato.atom").read_bytes())
    e0 = atom.entries[0]
    assert [a.name for a in e0.authors] == ["Jane Doe", "Kalle Kask"]
    assert e0.source.id == "https://news.example/rss" and e0.source.title == "Example News"
    assert [l.href for l in e0.links if l.rel == "via"] == ["https://other.example/a/0"]
    assert len([l for l in e0.links if l.rel == "enclosure"]) == 2
    rss = feedparser.parse((d / "nato.rss").read_bytes())
    assert rss.entries[0].source.href == SRC and rss.entries[0].source.title == "Example News"
    creators = etree.fromstring((d / "nato.rss").read_bytes()).findall(
        "channel/item[1]/{http://purl.org/dc/elements/1.1/}creator")
    assert [c.text for c in creators] == ["Jane Doe", "Kalle Kask"]

    js = json.loads((d / "nato.json").read_text("utf-8"))
    assert js["version"] == "https://jsonfeed.org/version/1.1"
    assert js["feed_url"] == BASE + "nato.json" and js["hubs"][0]["url"] == "https://hub.example/"
    j0 = js["items"][0]
    assert j0["id"] == "urn:aggregator:item:item00" and j0["date_published"] == "2024-05-01T12:00:00Z"
    assert [a["name"] for a in j0["authors"]] == ["Jane Doe", "Kalle Kask"]
    assert j0["attachments"][1] == {"url": "https://news.example/a/0.jpg", "mime_type": "image/jpeg"}
    ext = j0["_aggregator"]
    assert ext["reasons"] == ["matched keyword 'NATO' in title ('NATO')"]
    assert [s["feed_url"] for s in ext["sources"]] == [SRC, SRC2]
    assert ext["merges"] == [{"key": "k0b", "reason": "same canonical link", "at": "2024-05-01T12:00:00Z"}]


def test_validator_rules_hold_for_every_feed(out):
    _, _, d = run(out, hub="https://hub.example/")
    for slug in ("nato", "empty", "all"):
        check_rss((d / f"{slug}.rss").read_bytes(), BASE + f"{slug}.rss", SITE, "https://hub.example/")
        check_atom((d / f"{slug}.atom").read_bytes(), BASE + f"{slug}.atom", SITE, "https://hub.example/")
        assert (d / f"{slug}.rss").read_bytes().splitlines()[1] == \
            b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'


def test_enclosure_without_length_is_zero_in_rss(out):
    _, _, d = run(out)
    rss = (d / "all.rss").read_bytes()
    assert b'length="None"' not in rss and b'length="None"' not in (d / "all.atom").read_bytes()
    assert b'<enclosure url="https://news.example/a/1.ogg" length="0" type="audio/ogg"/>' in rss


def test_empty_topic_is_a_valid_empty_feed_dated_by_newest_item(out):
    _, _, d = run(out)
    f = feedparser.parse((d / "empty.atom").read_bytes())
    assert f.entries == [] and f.feed.updated_parsed[:4] == (2024, 5, 1, 12)
    assert json.loads((d / "empty.json").read_text())["items"] == []


def test_empty_store_uses_fixed_fallback_date(out):
    from aggregator.records import Snapshot
    _, _, d = run(out, Snapshot())
    check_atom((d / "all.atom").read_bytes(), BASE + "all.atom", SITE)
    assert b"<updated>2000-01-01T00:00:00+00:00</updated>" in (d / "all.atom").read_bytes()


@pytest.mark.parametrize("title, expect", [
    ("Bad\x00\x07 title\ud800 here\x1f", "Bad title here"),
    ("Tags <b>bold</b> &amp; co", "Tags bold & co"),
    ("Generics <T> stay", "Generics <T> stay"),
    ("", "(untitled)"),
])
def test_titles_cleaned_never_crash(out, title, expect):
    _, _, d = run(out, snapshot(1, extra=(item(9, title=title),)))
    for fmt in ("rss", "atom"):
        f = feedparser.parse((d / f"all.{fmt}").read_bytes())
        assert f.entries[-1].title == expect
    assert json.loads((d / "all.json").read_text())["items"][-1]["title"] == expect


def test_hostile_html_sanitised_and_links_made_absolute(out):
    evil = item(9, summary='<p onclick="x()">Hi <a href="javascript:alert(1)">j</a>'
                           '<a href="/rel">r</a><script>alert(2)</script></p>',
                content='<iframe src="https://evil.example/"></iframe><img src="pic.png" onerror="boom()">',
                link="https://news.example/dir/page.html",
                enclosures=(Enclosure("javascript:alert(1)", "audio/mpeg", 1),))
    _, _, d = run(out, snapshot(0, extra=(evil,)))
    for name in ("all.rss", "all.atom", "all.json"):
        text = (d / name).read_text("utf-8").lower()
        for bad in ("<script", "&lt;script", "alert(2)", "iframe", "onerror", "onclick", "javascript:"):
            assert bad not in text, (name, bad)
        assert "https://news.example/rel" in text and "https://news.example/dir/pic.png" in text


def test_item_without_link_gets_content_and_stays_valid(out):
    _, _, d = run(out, snapshot(0, extra=(item(3, link=None, canonical_url=None, summary="",
                                               sources=()),)))
    root = check_atom((d / "all.atom").read_bytes(), BASE + "all.atom", SITE)
    assert root.find(f"{ATOM}entry/{ATOM}content").text == "Headline 3"


# ----------------------------------------------------------------------------- writes


def test_deterministic_and_unchanged_files_untouched(out):
    _, r1, d = run(out)
    old = 1_000_000_000
    for p in d.iterdir():
        os.utime(p, (old, old))
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    _, r2, _ = run(out, now=NOW + timedelta(days=1))  # a later run, same snapshot
    assert r2.written == () and len(r2.unchanged) == len(r1.written)
    for p in d.iterdir():
        assert p.read_bytes() == before[p.name] and p.stat().st_mtime == old, p.name


def test_only_changed_topics_rendered_but_missing_files_restored(out):
    run(out)
    d = out / "output"
    (d / "empty.json").unlink()
    snap = snapshot(extra=(item(20, published=T0 + timedelta(minutes=30), first_seen=NOW),))
    _, r, _ = run(out, snap, topics={"nato"})
    assert r.topics_rendered == ("nato", "empty", "all")  # empty only because a file was gone
    assert {p.name for p in r.written} >= {"nato.rss", "all.rss", "empty.json", "index.html"}
    _, r, _ = run(out, snap, topics=set())
    assert r.topics_rendered == () and r.written == ()


def _fail_replace(monkeypatch, err: int):
    def boom(src, dst):
        raise OSError(err, os.strerror(err))
    monkeypatch.setattr(atomicfile.os, "replace", boom)


@pytest.mark.parametrize("err, words", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only")])
def test_write_failure_raises_publish_error_keeps_old_file(out, monkeypatch, err, words):
    _, _, d = run(out)
    old = (d / "all.rss").read_bytes()
    _fail_replace(monkeypatch, err)
    snap = snapshot(extra=(item(30, published=T0 + timedelta(minutes=5)),))
    with pytest.raises(PublishError) as exc:
        run(out, snap)
    assert words in str(exc.value).lower() and str(exc.value).startswith(str(d))
    assert "\n" not in str(exc.value)
    assert (d / "nato.rss").read_bytes() != b"" and (d / "all.rss").read_bytes() == old
    assert not [p for p in d.iterdir() if p.name.startswith(".") and p.name != MANIFEST]  # no temp files left


def test_write_error_during_write_cleans_temp(out, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomicfile.os, "write", full)
    with pytest.raises(PublishError, match="no space left"):
        run(out)
    assert not [p for p in (out / "output").iterdir() if p.name.startswith(".") and p.name != MANIFEST]


def test_write_atomic_skips_identical_bytes(tmp_path):
    p = tmp_path / "f.txt"
    assert pub.write_atomic(p, b"a") is True
    assert pub.write_atomic(p, b"a") is False
    assert pub.write_atomic(p, b"b") is True and p.read_bytes() == b"b"
    assert oct(p.stat().st_mode & 0o777) == oct(0o644)


# ----------------------------------------------------------------------------- fast paths, same bytes


def _reference_select(cfg, items, now):
    """The straightforward selection: sort everything by item_time, filter, cut."""
    ordered = sorted(items, key=lambda i: (-item_time(i, now).timestamp(), i.id))
    out = {}
    for slug in [t.slug for t in cfg.topics] + ["all"]:
        topic = cfg.topic(slug)
        limit = topic.max_items if topic and topic.max_items is not None else cfg.settings.max_items
        chosen = [i for i in ordered if (slug == "all" or slug in i.topics)
                  and not (topic and topic.max_age_days is not None
                           and item_time(i, now) < now - timedelta(days=topic.max_age_days))]
        out[slug] = chosen[:max(limit, 0)]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_select_matches_sorting_everything(tmp_path, seed):
    import random
    from datetime import timezone
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=rng.choice([-5, 0, 3])))
    topics = (Topic("a", "A", max_items=rng.choice([0, 3, 7])), Topic("b", "B", max_age_days=0.5),
              Topic("c", "C"))
    items = []
    for i in range(60):
        when = T0 - timedelta(minutes=rng.randrange(0, 2000))
        items.append(item(i, published=rng.choice([when, when.astimezone(tz), None, T0]),
                          updated=rng.choice([None, when]),
                          first_seen=rng.choice([None, T0, T0 - timedelta(hours=3)]),
                          topics=tuple(rng.choice(["a", "b", "c", "x"]) for _ in range(rng.randrange(3)))))
    cfg = config(tmp_path, topics=topics, max_items=rng.choice([5, 100]))
    got = pub.select(cfg, items, NOW)
    want = _reference_select(cfg, items, NOW)
    assert {s: [i.id for i in v] for s, v in got.items()} == {s: [i.id for i in v] for s, v in want.items()}


def test_shared_generator_gives_the_same_bytes(tmp_path):
    from aggregator.publish import jsonfeed
    from aggregator.publish.model import topic_views
    cfg = config(tmp_path, hub="https://hub.example/")
    snap = snapshot()
    for view in topic_views(cfg, snap.items, snap.feeds, NOW).values():
        both = pub.render_feeds(cfg, view)
        assert both == {"rss": pub.render_rss(cfg, view), "atom": pub.render_atom(cfg, view),
                        "json": jsonfeed.render(cfg, view)}


def test_no_change_publish_writes_what_a_full_publish_would(tmp_path):
    """topics=set() renders no feed, yet index.html and feeds.opml match a full render."""
    grown = snapshot(extra=(item(40, published=T0 + timedelta(minutes=30), first_seen=NOW,
                                 title="Fresh"),))
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        run(d)
    _, quick, _ = run(a, grown, topics=set())
    _, full, _ = run(b, grown)
    assert quick.topics_rendered == () and set(full.topics_rendered) == {"nato", "empty", "all"}
    # counts and headlines moved; the newest item dates the OPML (and the empty health.atom,
    # which the report leaves out)
    assert {p.name for p in quick.written} == {"index.html", "feeds.opml"}
    for name in ("index.html", "feeds.opml", "health.atom"):
        assert (a / "output" / name).read_bytes() == (b / "output" / name).read_bytes(), name
    assert b"Fresh" in (a / "output" / "index.html").read_bytes()


def test_temp_files_of_a_killed_publish_removed(out):
    d = out / "output"
    d.mkdir(parents=True)
    stale = [d / ".nato.rss.abc123.tmp", d / ".index.html.x.tmp", d / ".metrics.prom.y.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    other = d / ".keep-me.tmp"
    other.write_bytes(b"not ours")
    run(out)
    assert not any(p.exists() for p in stale) and other.exists()
