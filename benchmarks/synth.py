"""Deterministic synthetic feeds: RSS 2.0 and Atom, ~60 KB and 50 items each.

Feed *i* is an endless sequence of items numbered k = 0, 1, 2, …; version *v*
of the feed shows items ``[v*step, v*step + size)`` newest first, so "gain 5 new
items" is just ``v += 1`` and nothing needs storing: every byte is recomputed
from ``(seed, i, k)``. Item bodies are realistic HTML: paragraphs, absolute and
relative links, images, tracking parameters, and (about a third of the time)
mentions of NATO, the Baltic states or Ukraine so that topics get items. Each
story names a made-up place or person of its own, as news does, so the story
matcher tells them apart. A few items point at a shared "wire story" so that
cross-source de-duplication has something to merge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

_WORDS = (
    "government minister council parliament report budget energy market city region "
    "police court election vote agreement summit border security defence army navy "
    "exercise port railway bridge school hospital climate storm harvest price wage "
    "union strike company bank investment export import shipping pipeline cable grid "
    "drone satellite research university museum festival football league coach season "
    "weather flood winter summer river forest island coast village capital mayor "
    "debate reform tax pension health vaccine doctor nurse airport flight train road "
    "housing rent startup software chip factory worker tourism hotel history archive"
).split()

# Phrases that the shipped topics look for; mixed in so that tagging has work to do.
_TOPICAL = (
    "NATO", "the Baltic states", "Estonia", "Latvia", "Lithuania", "Ukraine", "Kyiv",
    "the Baltic Sea", "Russia", "the Baltic Defence Line", "Tallinn", "Riga", "Vilnius",
    "the European Union", "Finland", "Poland",
)

_SIZE = 50  # items per feed
_STEP = 5  # items gained per mutation
_WIRE_POOL = 400  # shared stories; ~3 % of items carry one


@dataclass(frozen=True)
class FeedSpec:
    """What the farm serves for one feed index."""

    index: int
    kind: str  # "rss" | "atom"
    host_site: str  # the site the feed describes (its links point there)


def spec(index: int) -> FeedSpec:
    """Feeds alternate 2:1 between RSS 2.0 and Atom."""
    return FeedSpec(index, "atom" if index % 3 == 2 else "rss", f"https://site{index}.example")


def _rng(seed: int, i: int, k: int) -> random.Random:
    # A cheap, well-mixed per-item seed; random.Random(int) is deterministic across runs.
    return random.Random((seed * 1_000_003 + i) * 1_000_033 + k)


def _sentence(rng: random.Random, n: int, topical: bool) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    if topical:
        words.insert(rng.randrange(len(words)), rng.choice(_TOPICAL))
    text = " ".join(words)
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class SynthItem:
    guid: str
    link: str
    title: str
    html: str
    date: datetime
    categories: tuple[str, ...]


_SYLLABLES = "ka lo mi ra tu ve so ni pa de jo ru hel var kos tin ber mal gor len dra vik sel tam".split()


def _name(seed: int, i: int, k: int) -> str:
    """A made-up proper name, one of ~400,000, the same for the same item."""
    rng = random.Random(f"name {seed} {i} {k}")
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def item(seed: int, i: int, k: int, epoch: datetime) -> SynthItem:
    """Item *k* of feed *i*: the same bytes for the same arguments, always."""
    rng = _rng(seed, i, k)
    site = spec(i).host_site
    topical = rng.random() < 0.35
    title = _sentence(rng, rng.randint(6, 11), topical)
    name = _name(seed, i, k)  # each story names its own place or person, as news does
    title = f"{title} in {name}"
    slug = "-".join(title.lower().split()[:5])
    if rng.random() < 0.03:  # a wire story several feeds carry: same canonical link
        story = rng.randrange(_WIRE_POOL)
        link = f"https://wire.example/story/{story}?utm_source=site{i}&utm_medium=rss"
        title = f"Wire story {story}: " + _sentence(random.Random(story), 8, True)
    else:
        link = f"{site}/news/{k}/{slug}"
        if rng.random() < 0.2:
            link += "?utm_source=rss&utm_campaign=feed"
    paras = []
    for p in range(rng.randint(3, 4)):
        body = " ".join(_sentence(rng, rng.randint(9, 15), topical and p == 0) + "."
                        for _ in range(rng.randint(1, 2)))
        if p == 0:
            body = f"{name}: {body}"
        if p == 1:
            body += f' Read <a href="/tag/{rng.choice(_WORDS)}">more on this</a>.'
        if p == 2:
            body += (f' <a href="{site}/archive/{k}" title="archive">Archive</a> and '
                     f'<a href="https://other{rng.randrange(50)}.example/ref?id={k}&amp;x=1">source</a>.')
        paras.append(f"<p>{body}</p>")
    paras.insert(1, f'<p><img src="/img/{k}.jpg" alt="{escape(title[:30])}" width="640" '
                    f'height="360"></p>')
    if rng.random() < 0.3:
        paras.append(f'<blockquote><p>“{_sentence(rng, 12, topical)}”</p></blockquote>')
    cats = tuple(sorted({rng.choice(_WORDS) for _ in range(rng.randint(1, 3))}))
    date = epoch - timedelta(hours=300 - k, minutes=(i * 37) % 60)
    return SynthItem(f"{site}/id/{k}", link, title, "\n".join(paras), date, cats)


def feed_bytes(seed: int, i: int, version: int, epoch: datetime) -> bytes:
    """The whole document of feed *i* at *version*, UTF-8."""
    first = version * _STEP
    items = [item(seed, i, k, epoch) for k in range(first + _SIZE - 1, first - 1, -1)]
    s = spec(i)
    doc = _atom(s, items) if s.kind == "atom" else _rss(s, items)
    return doc.encode("utf-8")


def _rss(s: FeedSpec, items: list[SynthItem]) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
           'xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
           f"<title>Site {s.index} news</title><link>{s.host_site}/</link>",
           f"<description>Synthetic feed {s.index}</description><language>en</language>",
           f"<lastBuildDate>{format_datetime(items[0].date)}</lastBuildDate>"]
    for n, it in enumerate(items):
        # Half the feeds wrap HTML in CDATA, half escape it: both occur in the wild.
        desc = f"<![CDATA[{it.html}]]>" if (s.index + n) % 2 else escape(it.html, quote=False)
        cats = "".join(f"<category>{c}</category>" for c in it.categories)
        out.append(f"<item><title>{escape(it.title)}</title><link>{escape(it.link)}</link>"
                   f'<guid isPermaLink="false">{it.guid}</guid>'
                   f"<pubDate>{format_datetime(it.date)}</pubDate>{cats}"
                   f"<description>{desc}</description></item>")
    out.append("</channel></rss>\n")
    return "\n".join(out)


def _atom(s: FeedSpec, items: list[SynthItem]) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
           f'xml:base="{s.host_site}/">',
           f"<title>Site {s.index} news</title><id>{s.host_site}/</id>",
           f'<link rel="alternate" href="{s.host_site}/"/>',
           f"<updated>{items[0].date.isoformat()}</updated><author><name>Desk {s.index}</name></author>"]
    for it in items:
        cats = "".join(f'<category term="{c}"/>' for c in it.categories)
        out.append(f"<entry><title>{escape(it.title)}</title>"
                   f'<link rel="alternate" href="{escape(it.link)}"/><id>{it.guid}</id>'
                   f"<published>{it.date.isoformat()}</published>"
                   f"<updated>{it.date.isoformat()}</updated>{cats}"
                   f'<summary type="html">{escape(it.html, quote=False)}</summary></entry>')
    out.append("</feed>\n")
    return "\n".join(out)


def default_epoch(now: datetime | None = None) -> datetime:
    """Today at 00:00 UTC: content is byte-identical within a day, and items stay recent."""
    now = now or datetime.now(timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
